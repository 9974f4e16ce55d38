/**
 * One random-forest tree: bootstrap sample, `maxFeatures` random features per
 * split, Gini impurity, best threshold among the bin edges. The split search
 * over a node's rows is rf-split.ts's; this file draws the bootstrap sample and
 * the features, and grows the tree.
 */
import { Rng } from './rng.js';
import { TreeBuilder, type Tree } from './model.js';
import { RfBuilder } from './rf-split.js';
import type { RfParams, TrainData } from './train-data.js';

export function buildRfTree(d: TrainData, p: RfParams, treeIndex: number): Tree {
  const rng = new Rng(p.seed, treeIndex);
  const N = d.nRows;
  const C = d.nClasses;
  const F = d.nFeatures;

  // Bootstrap: draw |train| rows with replacement; a row drawn k times weighs k (as scikit-learn).
  const counts = new Uint16Array(N);
  const nTrain = d.trainRows.length;
  for (let i = 0; i < nTrain; i++) {
    const r = d.trainRows[rng.int(nTrain)]!;
    if (counts[r]! < 65535) counts[r] = counts[r]! + 1;
  }
  let nIn = 0;
  for (let i = 0; i < nTrain; i++) if (counts[d.trainRows[i]!]! > 0) nIn++;
  const idx = new Int32Array(nIn);
  const w = new Float64Array(N);
  for (let i = 0, k = 0; i < nTrain; i++) {
    const r = d.trainRows[i]!;
    if (counts[r]! > 0) {
      idx[k++] = r;
      w[r] = counts[r]! * d.classWeight[d.y[r]!]!;
    }
  }

  const b = new RfBuilder(d, w, idx, Math.max(1, p.minSamplesLeaf));
  const nb = Int32Array.from(d.edges, (e) => e.length + 1);
  const feats = Int32Array.from({ length: F }, (_, i) => i);
  const mtry = Math.max(1, Math.min(F, p.maxFeatures));
  const minLeaf = Math.max(1, p.minSamplesLeaf);
  const tb = new TreeBuilder();
  const stack: number[] = [tb.add(), 0, nIn, 0]; // node, start, end, depth

  while (stack.length > 0) {
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const node = stack.pop()!;
    const nodeW = b.count(start, end);
    const nodeSq = b.sumSquares();
    let bestF = -1;
    let bestB = -1;
    let best = -Infinity;
    if (b.lastClasses > 1 && end - start >= 2 * minLeaf && (p.maxDepth <= 0 || depth < p.maxDepth)) {
      // Draw features without replacement. As in scikit-learn, a feature that is constant on the
      // node's rows counts towards maxFeatures, but drawing goes on until one is not. Deep in a
      // tree most flow features are constant (sequence slots past a short flow's end), so fewer
      // features are compared there: trees are less alike, and the forest generalises better
      // (macro-F1 by capture on the attribution data 0.39 -> 0.45 when constants did not count).
      let found = 0;
      for (let j = 0; j < F && (j < mtry || found === 0); j++) {
        const k = j + rng.int(F - j);
        const f = feats[k]!;
        feats[k] = feats[j]!;
        feats[j] = f;
        b.bestBin = -1;
        if (!b.scan(f, nb[f]!, start, end, nodeW, nodeSq, best)) continue;
        found++;
        if (b.bestBin >= 0) {
          best = b.bestProxy;
          bestF = f;
          bestB = b.bestBin;
        }
      }
    }
    if (bestF < 0) {
      for (let c = 0; c < C; c++) if (b.nodeCnt[c]! > 0) tb.vote(node, c, b.nodeCnt[c]! / nodeW);
      b.clear(start, end);
      continue;
    }
    b.clear(start, end);
    const l = b.partition(bestF, bestB, start, end);
    const left = tb.add();
    const right = tb.add();
    // Every edge from the left rows' highest bin to below the right rows' lowest one splits these
    // rows alike; take the middle one (in rank), as scikit-learn takes the middle value, so values
    // never seen in training fall on the nearer side instead of always to the right.
    const cut = (bestB + b.rightBin - 1) >> 1;
    tb.split(node, bestF, d.edges[bestF]![cut]!, left, right);
    stack.push(right, l, end, depth + 1, left, start, l, depth + 1);
  }
  return tb.finish();
}
