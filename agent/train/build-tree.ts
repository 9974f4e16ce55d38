/** Runs one tree job; the same function in the main thread and in workers, so results cannot differ. */
import { buildGbdtTree } from './gbdt-tree.js';
import { buildSharedGbdtTree } from './gbdt-shared-tree.js';
import { buildRfTree } from './rf-tree.js';
import type { Tree } from './model.js';
import type { BoostShared, TreeJob } from './pool-types.js';
import type { TrainData } from './train-data.js';

export function runJob(data: TrainData, boost: BoostShared | undefined, job: TreeJob): Tree {
  if (job.kind === 'rf') return buildRfTree(data, job.params, job.index);
  if (!boost) throw new Error('gbdt job without gradients');
  const N = data.nRows;
  if (job.kind === 'gbdt-shared') {
    return buildSharedGbdtTree(data, job.params, { grad: boost.grad, hess: boost.hess, rows: boost.fitRows, classOf: Int32Array.from(job.classOf) });
  }
  return buildGbdtTree(data, job.params, {
    grad: boost.grad.subarray(job.slot * N, job.slot * N + N),
    hess: boost.hess.subarray(job.slot * N, job.slot * N + N),
    rows: boost.fitRows,
    cls: job.cls,
  });
}

/** The typed arrays of a tree, for a transfer list. */
export function treeBuffers(t: Tree): ArrayBuffer[] {
  return [t.feature, t.threshold, t.left, t.right, t.valueStart, t.leafClass, t.leafValue].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
