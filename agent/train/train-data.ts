/**
 * What every tree builder reads: the binned matrix and labels, shared with
 * worker threads through SharedArrayBuffers (never copied per tree).
 * Guarantee: nothing here is written after training starts, except the
 * gradient buffers, which the boosting loop rewrites only between rounds
 * (while no tree of that round is being built).
 */
export interface TrainData {
  readonly nRows: number;
  readonly nFeatures: number;
  readonly nClasses: number;
  /** Bin codes, column-major: binned[f * nRows + r]. */
  readonly binned: Uint8Array;
  /** Per feature float32 bin edges: the split "bin <= b" is exported as "x <= edges[f][b]". */
  readonly edges: readonly Float32Array[];
  /** Class index of every row (rows outside trainRows are never read by builders). */
  readonly y: Int32Array;
  /** Rows a tree may learn from (ascending). */
  readonly trainRows: Int32Array;
  /** Weight of each class ("balanced" or all 1). */
  readonly classWeight: Float64Array;
}

/** Random-forest parameters (defaults as scikit-learn's RandomForestClassifier). */
export interface RfParams {
  readonly trees: number;
  /** 0: unlimited. */
  readonly maxDepth: number;
  readonly minSamplesLeaf: number;
  /** Features tried per split; default floor(sqrt(nFeatures)). */
  readonly maxFeatures: number;
  readonly seed: number;
}

/** Gradient-boosting parameters (defaults close to XGBoost's hist method). */
export interface GbdtParams {
  readonly rounds: number;
  readonly maxDepth: number;
  readonly learningRate: number;
  /** Smallest hessian sum in a child (XGBoost min_child_weight). */
  readonly minChildWeight: number;
  /** L2 regularization of leaf weights (XGBoost lambda). */
  readonly lambda: number;
  /** Smallest loss reduction to split (XGBoost gamma). */
  readonly gamma: number;
  /** Stop after this many rounds without validation improvement; 0 disables early stopping. */
  readonly earlyStopping: number;
  /** One tree per round scoring every class (gbdt-shared-tree.ts), instead of one tree per class. */
  readonly shared: boolean;
  /** Share of training rows set aside for early stopping (by group when groups exist). */
  readonly validationShare: number;
  readonly seed: number;
}
