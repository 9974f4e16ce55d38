/**
 * The inference stage's contract. Classifying a batch of feature vectors, and
 * writing its labels as JSON, is a pure function, the only work that fans out to
 * worker threads; batching and queueing stay on the main thread.
 *
 * Guarantees of Classifier:
 * - every submitted item gets exactly one `onResult` call: labels, or
 *   `unlabeled` with a reason (overload, inference-error, shutdown); never lost, never thrown;
 * - results may come back in another order than submitted (batches finish on
 *   different workers);
 * - `drain()` resolves after the last `onResult` of everything submitted before it.
 */
import type { InferencePool } from './pool.js';

/** One model's verdict on one flow: the JSON object a record carries under the model's kind. */
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
  /**
   * The labels, already JSON: one member per model, `"app":{...},"attribution":{...}` (each a
   * ModelLabel), in the models' order, written by the worker (labels.ts says why). Absent when
   * no model ran.
   */
  readonly json?: string;
  /** The model kinds `json` has a member for; empty when none. */
  readonly kinds: readonly string[];
  /** Set when the flow could not be classified; `json` is then absent. */
  readonly unlabeled?: UnlabeledReason;
}

/**
 * A task for a worker: one matrix (rows × features, row-major) per model, in the models' order
 * (the worker answers in that order). Float64, as computed; the worker narrows it to float32.
 */
export interface InferTask {
  readonly rows: number;
  readonly inputs: Record<string, Float64Array>;
}

/**
 * A worker's answer to a task: the labels of every row as JSON (`text`; row r is the bytes
 * from ends[r - 1], or 0, to ends[r]), and the time the worker spent on the task, which tells
 * how busy inference kept it. The task's matrices come back with it (the answer is written over
 * the first), transferred, for the main thread to fill again (batch-inputs.ts says why).
 */
export interface InferAnswer {
  readonly text: Uint8Array;
  readonly ends: Uint32Array;
  readonly busyMs: number;
  /** The worker thread's CPU time over the task (lib/thread-cpu.ts); undefined where it cannot be read. */
  readonly cpuMs: number | undefined;
  readonly buffers: readonly ArrayBuffer[];
}

/** One model as a worker runs it: the file, and what its labels need (class names, threshold). */
export interface WorkerModel {
  readonly path: string;
  readonly classes: readonly string[];
  readonly threshold: number;
}

/** What each worker is started with: the model files to load, by kind. */
export interface WorkerInit {
  readonly models: Record<string, WorkerModel>;
  /** Nice steps below the main thread's priority (infer.nice, priority.ts). */
  readonly nice: number;
}

/** A worker's answer to the startup probe, per model: the session's names, or why onnxruntime refused the file. */
export interface ProbeResult {
  readonly kind: string;
  readonly inputs?: readonly string[];
  readonly outputs?: readonly string[];
  readonly error?: string;
  /** What is damaged in the file's numbers (model-numbers.ts), which onnxruntime opens regardless. */
  readonly damaged?: string;
  /** Set when the worker writes the labels in JavaScript, not with label_json.c: why (the addon is not built). */
  readonly labelsInJs?: string;
  /** Set when the worker could not lower its priority as infer.nice asks: why. */
  readonly priorityProblem?: string;
}

/** The classifier's settings (classifier.ts). */
export interface ClassifierOptions {
  workers: number;
  /** infer.nice (priority.ts); 0 when absent. */
  nice?: number;
  batchSize: number;
  batchTimeoutMs: number;
  maxQueue: number;
  maxWaitMs: number;
  mode: 'shed' | 'block';
  /**
   * Workers already starting (pool.ts): adopted when started for these models and this many
   * workers, otherwise destroyed and replaced. The classifier owns it from then on (close()).
   */
  pool?: InferencePool;
}

export interface Featured {
  readonly features: Float64Array;
}

/** Flows sent to a worker together (classifier.ts). */
export interface Batch<T> {
  items: T[];
  createdAt: number;
  attempts: number;
  /** Published unlabeled at shutdown while at a worker: its answer is ignored. */
  abandoned?: boolean;
}
