/**
 * A batch of flows as the matrices the models read (rows × features, row-major), built on the
 * main thread and transferred to a worker. They stay float64, as the flow meter computed them:
 * a row is then one memory copy, and the worker, whose core has time to spare, narrows the
 * matrix to the float32 the models take. Narrowing here cost the flow meter's thread a tenth
 * of a replay (a conversion per feature per flow).
 *
 * The buffers go round: the worker sends each back with its answer, and the next batch is
 * written into it. A new 400 KB buffer per batch of 256 flows, zeroed and page-faulted in, then
 * collected as external memory, cost the main thread 65-150 ms per 330 batches where reusing
 * one cost 8 ms (a replay of 84,620 flows sends 330).
 */
import { columnIndex, type LoadedModel } from './models.js';
import { labelsRowBytes } from './labels.js';
import type { InferTask } from './types.js';

/** Bytes of buffers kept for reuse, at most: the batches in flight (a few per worker) at the default size fit many times over. */
const MAX_FREE_BYTES = 32 * 1024 * 1024;

export class BatchInputs {
  private readonly columns: Int32Array[];
  /** Per model: the first model with the same input columns (its matrix is shared), and whether they are the layout's first columns in order. */
  private readonly sameInputAs: number[];
  private readonly identity: boolean[];
  private readonly free: ArrayBuffer[] = [];
  private freeBytes = 0;
  /** Bytes of a row's answer: its end (uint32) and its labels at their longest (worker.ts writes them). */
  private readonly answerBytes: number;

  /** `capacity`: the most rows a batch holds (batch_size); every buffer is made for that many. */
  constructor(private readonly models: readonly LoadedModel[], layout: readonly string[], private readonly capacity = 1) {
    this.columns = models.map((m) => columnIndex(m, layout));
    const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
    this.sameInputAs = this.columns.map((c, k) => this.columns.findIndex((o, j) => j <= k && same(o, c)));
    this.identity = this.columns.map((c) => c.every((v, i) => v === i));
    this.answerBytes = 4 + labelsRowBytes(models.map((m) => ({ kind: m.kind, classes: m.meta.classes })));
  }

  /** The task for these rows, and the buffers to transfer with it. */
  task(items: ReadonlyArray<{ readonly features: Float64Array }>): { task: InferTask; transfer: ArrayBuffer[] } {
    const rows = items.length;
    const inputs: Record<string, Float64Array> = {};
    const matrices: Float64Array[] = [];
    this.models.forEach((m, k) => {
      // Models reading the same columns (the shipped ones: the whole registry) share one matrix.
      const shared = this.sameInputAs[k]!;
      if (shared < k) {
        inputs[m.kind] = matrices[shared]!;
        matrices.push(matrices[shared]!);
        return;
      }
      const cols = this.columns[k]!;
      const f = cols.length;
      const matrix = this.matrix(rows, f);
      if (this.identity[k]) {
        // The layout's first columns in order: one memory copy per row.
        for (let r = 0; r < rows; r++) {
          const src = items[r]!.features;
          matrix.set(src.length === f ? src : src.subarray(0, f), r * f);
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const src = items[r]!.features;
          for (let c = 0; c < f; c++) matrix[r * f + c] = src[cols[c]!]!;
        }
      }
      inputs[m.kind] = matrix;
      matrices.push(matrix);
    });
    return { task: { rows, inputs }, transfer: [...new Set(matrices.map((x) => x.buffer as ArrayBuffer))] };
  }

  /** A worker's answer brought these back: keep them for the next batches. */
  recycle(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) {
      if (b.byteLength === 0 || this.freeBytes + b.byteLength > MAX_FREE_BYTES) continue;
      this.free.push(b);
      this.freeBytes += b.byteLength;
    }
  }

  /**
   * A rows × f view on a free buffer, or a new one. Each row has room for its answer too (the
   * labels of every model, as JSON), which the worker writes over the first matrix.
   */
  private matrix(rows: number, f: number): Float64Array {
    const perRow = Math.max(f * 8, this.answerBytes);
    let buf = this.free.pop();
    if (buf) this.freeBytes -= buf.byteLength;
    // All are made for a full batch of their model, so one is too small only when models with
    // different columns trade buffers: it is dropped.
    if (buf && buf.byteLength < rows * perRow) buf = undefined;
    return new Float64Array(buf ?? new ArrayBuffer(Math.max(rows, this.capacity) * perRow), 0, rows * f);
  }
}
