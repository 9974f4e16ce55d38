/**
 * A batch of flows as the matrices the models read (rows × features, row-major), built on the
 * main thread and transferred to a worker. They stay float64, as the flow meter computed them:
 * a row is then one memory copy, and the worker, whose core has time to spare, narrows the
 * matrix to the float32 the models take. Narrowing here cost the flow meter's thread a tenth
 * of a replay (a conversion per feature per flow).
 */
import { columnIndex, type LoadedModel } from './models.js';
import type { InferTask } from './types.js';

export class BatchInputs {
  private readonly columns: Int32Array[];
  /** Per model: the first model with the same input columns (its matrix is shared), and whether they are the layout's first columns in order. */
  private readonly sameInputAs: number[];
  private readonly identity: boolean[];

  constructor(private readonly models: readonly LoadedModel[], layout: readonly string[]) {
    this.columns = models.map((m) => columnIndex(m, layout));
    const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
    this.sameInputAs = this.columns.map((c, k) => this.columns.findIndex((o, j) => j <= k && same(o, c)));
    this.identity = this.columns.map((c) => c.every((v, i) => v === i));
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
      const matrix = new Float64Array(rows * f);
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
}
