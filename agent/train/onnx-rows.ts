/**
 * Rows of a column-major float32 table (dataset.ts) through a model file with onnxruntime, the
 * runtime the agent uses: each row's `label` output and its top probability. evaluate scores a
 * CSV with it, and train its held-out rows, so that the metrics train records in the file are
 * what the file does: the trainer's own prediction adds the leaves in float64, onnxruntime in
 * float32, and an exact tie between two classes went one way in train's figures and the other in
 * evaluate's (accuracy 0.8504 against 0.8516 on the same rows: found by review).
 */
import '../infer/ort-quiet.js';

export interface ClassifiedRows {
  readonly labels: string[];
  readonly top: Float32Array;
}

export interface ClassifyOptions {
  /** Which rows, in this order (default: all). */
  readonly rows?: Int32Array;
  /** Rows per onnxruntime call (bounds memory on large files). */
  readonly batch?: number;
  /** Checked between batches: an abort returns how far it got. */
  readonly signal?: AbortSignal;
  readonly onBatch?: (done: number, total: number) => void;
}

/** One onnxruntime session for many calls (evaluate classifies a file part by part as it reads it). */
export interface RowClassifier {
  classify(x: Float32Array, nRows: number, nFeatures: number, o?: ClassifyOptions): Promise<ClassifiedRows | { interruptedAt: number; total: number }>;
  release(): Promise<void>;
}

export async function openClassifier(model: Uint8Array): Promise<RowClassifier> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(model);
  return {
    release: () => session.release(),
    async classify(x, nRows, nFeatures, o = {}) {
      const total = o.rows ? o.rows.length : nRows;
      const labels = new Array<string>(total);
      const top = new Float32Array(total);
      const batch = o.batch ?? 8192;
      for (let start = 0; start < total; start += batch) {
        if (o.signal?.aborted) return { interruptedAt: start, total };
        o.onBatch?.(start, total);
        const n = Math.min(batch, total - start);
        const input = new Float32Array(n * nFeatures);
        for (let f = 0; f < nFeatures; f++) {
          const col = x.subarray(f * nRows, (f + 1) * nRows);
          for (let i = 0; i < n; i++) input[i * nFeatures + f] = col[o.rows ? (o.rows[start + i] as number) : start + i] as number;
        }
        const out = await session.run({ features: new ort.Tensor('float32', input, [n, nFeatures]) });
        const probs = out['probabilities']?.data as Float32Array;
        const names = out['label']?.data as string[];
        const C = probs.length / n;
        for (let i = 0; i < n; i++) {
          let best = 0;
          for (let c = 0; c < C; c++) best = Math.max(best, probs[i * C + c] as number);
          top[start + i] = best;
          labels[start + i] = names[i] as string;
        }
      }
      return { labels, top };
    },
  };
}

export async function classifyRows(model: Uint8Array, x: Float32Array, nRows: number, nFeatures: number, o: ClassifyOptions = {}):
  Promise<ClassifiedRows | { interruptedAt: number; total: number }> {
  const c = await openClassifier(model);
  try {
    return await c.classify(x, nRows, nFeatures, o);
  } finally {
    await c.release();
  }
}
