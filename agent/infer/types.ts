/**
 * The inference stage's contract. Classifying a batch of feature vectors is a
 * pure function, the only work that fans out to worker threads; everything
 * else (batching, queueing, turning probabilities into labels) stays on the
 * main thread.
 *
 * Guarantees of Classifier:
 * - every submitted item gets exactly one `onResult` call: labels, or
 *   `unlabeled` with a reason (overload, inference-error); never lost, never thrown;
 * - results may come back in another order than submitted (batches finish on
 *   different workers);
 * - `drain()` resolves after the last `onResult` of everything submitted before it.
 */

/** One model's verdict on one flow. */
export interface ModelLabel {
  /** The top class, or "unknown" when its probability is under the model's threshold. */
  readonly label: string;
  /** Probability of the top class. */
  readonly confidence: number;
  /** The three most probable classes, best first: [label, probability]. */
  readonly top: ReadonlyArray<readonly [string, number]>;
}

export type UnlabeledReason = 'overload' | 'inference-error' | 'shutdown';

export interface ClassifyResult {
  /** By model kind ("app", "attribution"); absent for a disabled model. */
  readonly labels: Readonly<Record<string, ModelLabel>>;
  /** Set when the flow could not be classified; `labels` is then empty. */
  readonly unlabeled?: UnlabeledReason;
}

/**
 * A task for a worker: one matrix (rows × features) per model, row-major, in the models' order
 * (the worker answers in that order). Float64, as computed; the worker narrows it to float32.
 */
export interface InferTask {
  readonly rows: number;
  readonly inputs: Record<string, Float64Array>;
}

/**
 * A worker's answer to a task: per model in the task's order, rows × TOP_WIDTH numbers (labels.ts:
 * each row's top 3 classes and probabilities), and the time the worker spent on the task, which
 * tells how busy inference kept it. The task's matrices come back with it (`top` is written over
 * the first), transferred, for the main thread to fill again (batch-inputs.ts says why).
 */
export interface InferAnswer {
  readonly top: Float32Array;
  readonly busyMs: number;
  readonly buffers: readonly ArrayBuffer[];
}

/** What each worker is started with: the model files to load, by kind. */
export interface WorkerInit {
  readonly models: Record<string, string>;
}

/** A worker's answer to the startup probe, per model: the session's names, or why onnxruntime refused the file. */
export interface ProbeResult {
  readonly kind: string;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly error?: string;
}
