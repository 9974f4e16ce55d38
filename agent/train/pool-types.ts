/**
 * Every message between the training pool and its worker threads.
 * Guarantees: `init` is the first message a worker receives and is sent once;
 * the arrays it carries that are backed by SharedArrayBuffers (bin codes,
 * gradients) are read, never written, by workers; a worker answers each
 * `tree` request with exactly one `done` or `error` carrying the same id.
 */
import type { Tree } from './model.js';
import type { GbdtParams, RfParams, TrainData } from './train-data.js';

/** Boosting inputs shared by all trees of a run; grad/hess hold nClassTrees x nRows values. */
export interface BoostShared {
  readonly grad: Float32Array;
  readonly hess: Float32Array;
  readonly fitRows: Int32Array;
}

export interface InitMessage {
  readonly type: 'init';
  readonly data: TrainData;
  readonly boost: BoostShared | undefined;
}

export type TreeJob =
  | { readonly kind: 'rf'; readonly index: number; readonly params: RfParams }
  | { readonly kind: 'gbdt'; readonly cls: number; readonly slot: number; readonly params: GbdtParams }
  /** One shared tree over every slot of the gradients; slot k scores class classOf[k]. */
  | { readonly kind: 'gbdt-shared'; readonly classOf: readonly number[]; readonly params: GbdtParams };

export interface TreeRequest {
  readonly type: 'tree';
  readonly id: number;
  readonly job: TreeJob;
}

export type WorkerReply =
  | { readonly type: 'done'; readonly id: number; readonly tree: Tree }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
