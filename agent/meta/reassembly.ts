/**
 * Offset-indexed reassembly of the start of one byte stream (TCP payload, QUIC CRYPTO
 * frames, DTLS handshake fragments), bounded by `limit` bytes.
 *
 * Costs: the buffer grows by doubling up to `limit` (amortised O(n) copying); pieces that
 * arrive ahead of the contiguous prefix are tracked as at most MAX_RANGES ranges, so an
 * insert is O(piece + MAX_RANGES) and never O(n^2). A retransmitted or overlapping piece
 * overwrites the bytes it covers (the last copy wins; senders resend the same bytes).
 * Bytes at or past `limit` are dropped: the caller checks the length it needs against
 * `limit` and reports an overflow itself.
 */

/** Holes beyond this many mean an adversarial or hopeless stream: the caller gives up. */
const MAX_RANGES = 16;
const INITIAL_CAPACITY = 2048;

export class Reassembly {
  private buf: Uint8Array | null = null;
  /** Bytes [0, filled) are all present. */
  private filled = 0;
  /** Pieces beyond `filled`: sorted, disjoint, non-adjacent [start, end) pairs, flat. */
  private ranges: number[] | null = null;

  constructor(readonly limit: number) {}

  /** Length of the contiguous prefix: bytes [0, contiguous) can be read. */
  get contiguous(): number {
    return this.filled;
  }

  /** Bytes currently allocated. */
  get retained(): number {
    return this.buf === null ? 0 : this.buf.length;
  }

  /** Whether any byte was ever stored. */
  get empty(): boolean {
    return this.filled === 0 && this.ranges === null;
  }

  /** The stored bytes; read only [0, contiguous). Valid until the next insert. */
  bytes(): Uint8Array {
    return this.buf ?? EMPTY;
  }

  /**
   * Store `data[from, to)` at stream offset `offset` (>= 0). Returns false when the
   * stream has too many holes to track (the caller gives up on it).
   */
  insert(offset: number, data: Uint8Array, from = 0, to = data.length): boolean {
    if (offset >= this.limit || from >= to) return true;
    const end = Math.min(offset + (to - from), this.limit);
    this.reserve(end);
    const buf = this.buf!;
    buf.set(data.subarray(from, from + (end - offset)), offset);
    if (offset <= this.filled) {
      if (end > this.filled) {
        this.filled = end;
        this.absorb();
      }
      return true;
    }
    return this.addRange(offset, end);
  }

  /** Drop everything (the hello was parsed, or the flow gave up). */
  release(): void {
    this.buf = null;
    this.ranges = null;
    this.filled = 0;
  }

  private reserve(end: number): void {
    const cur = this.buf;
    if (cur !== null && cur.length >= end) return;
    let cap = cur === null ? INITIAL_CAPACITY : cur.length * 2;
    while (cap < end) cap *= 2;
    const next = new Uint8Array(Math.min(cap, this.limit));
    if (cur !== null) next.set(cur);
    this.buf = next;
  }

  /** Merge ranges that the grown prefix now reaches. */
  private absorb(): void {
    const r = this.ranges;
    if (r === null) return;
    let i = 0;
    while (i < r.length && r[i]! <= this.filled) {
      if (r[i + 1]! > this.filled) this.filled = r[i + 1]!;
      i += 2;
    }
    if (i > 0) r.splice(0, i);
    if (r.length === 0) this.ranges = null;
  }

  private addRange(start: number, end: number): boolean {
    const r = (this.ranges ??= []);
    // Find the first range that ends at or after `start`, then swallow every range that
    // touches [start, end).
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && r[j]! <= e) {
      if (r[j]! < s) s = r[j]!;
      if (r[j + 1]! > e) e = r[j + 1]!;
      j += 2;
    }
    r.splice(i, j - i, s, e);
    return r.length <= MAX_RANGES * 2;
  }
}

const EMPTY = new Uint8Array(0);
