/** Random forest: independent trees on bootstrap samples, leaf class probabilities averaged. */
import type { TreeEnsemble } from './model.js';
import { TreePool } from './pool.js';
import type { TreeJob } from './pool-types.js';
import type { RfParams, TrainData } from './train-data.js';

export interface FitControl {
  readonly threads: number;
  /** Called after each tree with (trees done, trees planned). */
  readonly onTree?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export async function trainForest(d: TrainData, classes: readonly string[], p: RfParams, ctl: FitControl): Promise<TreeEnsemble> {
  const pool = TreePool.create(d, undefined, Math.min(ctl.threads, p.trees));
  try {
    const jobs: TreeJob[] = Array.from({ length: p.trees }, (_, index) => ({ kind: 'rf', index, params: p }));
    let done = 0;
    const trees = await pool.run(jobs, () => ctl.onTree?.(++done, p.trees), ctl.signal);
    // Leaves hold class probabilities; store p / nTrees so that the forest's average is a plain
    // sum, which is what ONNX TreeEnsembleClassifier computes (it has no averaging for classifiers).
    for (const t of trees) {
      for (let k = 0; k < t.leafValue.length; k++) t.leafValue[k] = Math.fround((t.leafValue[k] as number) / p.trees);
    }
    return { algo: 'rf', nFeatures: d.nFeatures, classes, trees, base: new Float32Array(classes.length) };
  } finally {
    await pool.close();
  }
}
