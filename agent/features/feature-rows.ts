/**
 * Feature vectors handed out as views of chunks of 64 rows, and a chunk used again once every
 * vector of it has been released (release(), which the pipeline calls once a record is
 * published).
 *
 * Why views: a Float64Array of its own per flow would give every record a separate backing
 * store, which V8 allocates and frees outside its heap, slowly (most of buildRecord's 200 ms in a
 * 84,620-flow replay). Why recycled: a chunk left to the garbage collector is freed only when a
 * collection finds none of its records alive; with models, records wait for inference long
 * enough to be promoted, so their chunks were freed late, by whole batches, and every new chunk
 * was fresh memory, zeroed and faulted in page by page: 59,000 of the 81,000 page faults of the
 * main thread in a replay of 338,480 flows with both models. A vector never released (a record
 * dropped on the way, a caller that does not release) is simply left to the collector.
 */
const CHUNK_ROWS = 64;
/** Bytes of free chunks kept, at most: the flows waiting for inference (max_queue) fit in far fewer at the default batch sizes. */
const MAX_FREE_BYTES = 16 * 1024 * 1024;

export class FeatureRows {
  private chunk: Float64Array = new Float64Array(0);
  private used = 0;
  /**
   * Vectors handed out and not released, per chunk; a chunk is absent once all are released.
   * Weak: a chunk whose vectors are dropped unreleased goes to the collector with its count.
   */
  private readonly live = new WeakMap<ArrayBufferLike, number>();
  private readonly free: Float64Array[] = [];

  constructor(private readonly width: number) {}

  /** A zeroed vector of `width` values. */
  alloc(): Float64Array {
    const n = this.width;
    if (this.used + n > this.chunk.length) {
      const full = this.chunk;
      // Handed out whole: used again at once if every vector of it is back already.
      if (full.length > 0 && !this.live.has(full.buffer)) this.keep(full);
      this.chunk = this.free.pop()?.fill(0) ?? new Float64Array(n * CHUNK_ROWS);
      this.used = 0;
    }
    const b = this.chunk.buffer;
    this.live.set(b, (this.live.get(b) ?? 0) + 1);
    const v = this.chunk.subarray(this.used, this.used + n);
    this.used += n;
    return v;
  }

  /** `v` is no longer read by anyone: its row may be written again. Vectors from elsewhere are ignored. */
  release(v: Float64Array): void {
    const b = v.buffer;
    const left = this.live.get(b);
    if (left === undefined) return;
    if (left > 1) {
      this.live.set(b, left - 1);
      return;
    }
    this.live.delete(b);
    if (b !== this.chunk.buffer) this.keep(new Float64Array(b)); // the chunk being handed out waits until it is full
  }

  private keep(chunk: Float64Array): void {
    if ((this.free.length + 1) * chunk.byteLength <= MAX_FREE_BYTES) this.free.push(chunk);
  }
}
