/**
 * One random-forest tree: bootstrap sample, `maxFeatures` random features per
 * split, Gini impurity, best threshold among the bin edges.
 *
 * Split search per candidate feature is a counting sort of the node's rows by
 * bin code followed by one sweep that moves rows from right to left and
 * updates the weighted class counts and sums of squares in O(1) per row. Cost
 * per node and feature is O(rows + bins), independent of the number of
 * classes; a per-bin class histogram would cost O(bins x classes), which with
 * ~130 classes dominates for the many small nodes of deep trees.
 * No allocation happens per node or per row: all scratch arrays are sized once per tree.
 */
import { Rng } from './rng.js';
import { TreeBuilder, type Tree } from './model.js';
import type { RfParams, TrainData } from './train-data.js';

export function buildRfTree(d: TrainData, p: RfParams, treeIndex: number): Tree {
  const rng = new Rng(p.seed, treeIndex);
  const N = d.nRows;
  const C = d.nClasses;
  const F = d.nFeatures;
  const y = d.y;
  const bins = d.binned;

  // Bootstrap: draw |train| rows with replacement; a row drawn k times weighs k (as scikit-learn).
  const counts = new Uint16Array(N);
  const nTrain = d.trainRows.length;
  for (let i = 0; i < nTrain; i++) {
    const r = d.trainRows[rng.int(nTrain)] as number;
    if ((counts[r] as number) < 65535) counts[r] = (counts[r] as number) + 1;
  }
  let nIn = 0;
  for (let i = 0; i < nTrain; i++) if ((counts[d.trainRows[i] as number] as number) > 0) nIn++;
  const idx = new Int32Array(nIn);
  const w = new Float64Array(N);
  for (let i = 0, k = 0; i < nTrain; i++) {
    const r = d.trainRows[i] as number;
    if ((counts[r] as number) > 0) {
      idx[k++] = r;
      w[r] = (counts[r] as number) * (d.classWeight[y[r] as number] as number);
    }
  }

  const tmp = new Int32Array(nIn);
  const binCount = new Int32Array(257);
  const binStart = new Int32Array(257);
  const L = new Float64Array(C);
  const nodeCnt = new Float64Array(C);
  const feats = Int32Array.from({ length: F }, (_, i) => i);
  const mtry = Math.max(1, Math.min(F, p.maxFeatures));
  const minLeaf = Math.max(1, p.minSamplesLeaf);
  const tb = new TreeBuilder();
  const stack: number[] = [tb.add(), 0, nIn, 0]; // node, start, end, depth

  while (stack.length > 0) {
    const depth = stack.pop() as number;
    const end = stack.pop() as number;
    const start = stack.pop() as number;
    const node = stack.pop() as number;

    let nodeW = 0;
    let nClassesHere = 0;
    for (let i = start; i < end; i++) {
      const r = idx[i] as number;
      const c = y[r] as number;
      if (nodeCnt[c] === 0) nClassesHere++;
      nodeCnt[c] = (nodeCnt[c] as number) + (w[r] as number);
      nodeW += w[r] as number;
    }
    let nodeSq = 0;
    for (let c = 0; c < C; c++) nodeSq += (nodeCnt[c] as number) * (nodeCnt[c] as number);

    let bestF = -1;
    let bestB = -1;
    let best = -Infinity;
    const n = end - start;
    if (nClassesHere > 1 && n >= 2 * minLeaf && (p.maxDepth <= 0 || depth < p.maxDepth)) {
      let visited = 0;
      for (let j = 0; j < F && visited < mtry; j++) {
        // Draw features without replacement; like scikit-learn, constant features do not count
        // towards maxFeatures, so a split is found whenever one exists.
        const k = j + rng.int(F - j);
        const f = feats[k] as number;
        feats[k] = feats[j] as number;
        feats[j] = f;
        const off = f * N;
        const nb = (d.edges[f] as Float32Array).length + 1;
        binCount.fill(0, 0, nb);
        for (let i = start; i < end; i++) binCount[bins[off + (idx[i] as number)] as number]++;
        let used = 0;
        for (let b = 0; b < nb; b++) if ((binCount[b] as number) > 0) used++;
        if (used < 2) continue;
        visited++;
        binStart[0] = start;
        for (let b = 0; b < nb; b++) binStart[b + 1] = (binStart[b] as number) + (binCount[b] as number);
        for (let i = start; i < end; i++) {
          const r = idx[i] as number;
          const b = bins[off + r] as number;
          tmp[binStart[b] as number] = r;
          binStart[b] = (binStart[b] as number) + 1;
        }
        // binStart[b] now holds the end of bin b.
        let wL = 0;
        let sqL = 0;
        let wR = nodeW;
        let sqR = nodeSq;
        let from = start;
        for (let b = 0; b < nb - 1; b++) {
          const to = binStart[b] as number;
          if (to === from) continue;
          for (let i = from; i < to; i++) {
            const r = tmp[i] as number;
            const c = y[r] as number;
            const wr = w[r] as number;
            const lc = L[c] as number;
            sqL += wr * (2 * lc + wr);
            L[c] = lc + wr;
            sqR += wr * (wr - 2 * ((nodeCnt[c] as number) - lc));
            wL += wr;
            wR -= wr;
          }
          from = to;
          const nL = to - start;
          if (nL < minLeaf) continue;
          if (end - to < minLeaf) break;
          // Gini gain is monotone in sqL/wL + sqR/wR (the node's own term is constant).
          const proxy = sqL / wL + sqR / wR;
          if (proxy > best) {
            best = proxy;
            bestF = f;
            bestB = b;
          }
        }
        for (let i = start; i < end; i++) L[y[tmp[i] as number] as number] = 0;
      }
    }

    if (bestF < 0) {
      for (let c = 0; c < C; c++) {
        if ((nodeCnt[c] as number) > 0) tb.vote(node, c, (nodeCnt[c] as number) / nodeW);
      }
    } else {
      // Stable partition: rows with bin <= bestB go left.
      const off = bestF * N;
      let l = start;
      let rgt = 0;
      for (let i = start; i < end; i++) {
        const r = idx[i] as number;
        if ((bins[off + r] as number) <= bestB) idx[l++] = r;
        else tmp[rgt++] = r;
      }
      idx.set(tmp.subarray(0, rgt), l);
      const left = tb.add();
      const right = tb.add();
      tb.split(node, bestF, (d.edges[bestF] as Float32Array)[bestB] as number, left, right);
      stack.push(right, l, end, depth + 1, left, start, l, depth + 1);
    }
    for (let i = start; i < end; i++) nodeCnt[y[idx[i] as number] as number] = 0;
  }
  return tb.finish();
}
