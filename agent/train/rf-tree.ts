/**
 * One random-forest tree: bootstrap sample, `maxFeatures` random features per
 * split, Gini impurity, best threshold among the bin edges.
 *
 * Split search per candidate feature is a counting sort of the node's rows by
 * bin code followed by one sweep that moves rows from right to left and
 * updates the weighted class counts and sums of squares in O(1) per row. Cost
 * per node and feature is O(rows + bins), independent of the number of
 * classes; a per-bin class histogram would cost O(bins x classes), which with
 * ~130 classes dominates for the many small nodes of deep trees. Nodes with
 * fewer rows than bins sort their rows by insertion instead, so the many
 * small nodes near the leaves cost O(rows^2) on a few rows, not O(bins).
 *
 * The work is split into small monomorphic methods over typed arrays held by
 * one object: V8 optimises such methods after a few calls, where one large
 * function is recompiled several times while its type feedback fills in, a
 * cost each worker thread would pay again.
 * No allocation happens per node or per row: all scratch arrays are sized once per tree.
 */
import { Rng } from './rng.js';
import { TreeBuilder, type Tree } from './model.js';
import type { RfParams, TrainData } from './train-data.js';

/** Nodes with fewer rows than this sort by insertion rather than by counting over the bins. */
const SMALL_NODE = 48;

class RfBuilder {
  private readonly N: number;
  private readonly C: number;
  private readonly bins: Uint8Array;
  private readonly y: Int32Array;
  /** Bootstrap weight x class weight of every row (0 when not drawn). */
  private readonly w: Float64Array;
  /** Rows of the tree, partitioned node by node. */
  readonly idx: Int32Array;
  private readonly tmp: Int32Array;
  private readonly code: Uint8Array;
  private readonly binCount = new Int32Array(257);
  private readonly binStart = new Int32Array(257);
  private readonly L: Float64Array;
  readonly nodeCnt: Float64Array;
  private readonly minLeaf: number;
  // Result of the last scan.
  bestProxy = -Infinity;
  bestBin = -1;

  constructor(d: TrainData, w: Float64Array, idx: Int32Array, minLeaf: number) {
    this.N = d.nRows;
    this.C = d.nClasses;
    this.bins = d.binned;
    this.y = d.y;
    this.w = w;
    this.idx = idx;
    this.tmp = new Int32Array(idx.length);
    this.code = new Uint8Array(idx.length);
    this.L = new Float64Array(this.C);
    this.nodeCnt = new Float64Array(this.C);
    this.minLeaf = minLeaf;
  }

  /** Class weights of rows [start, end) into nodeCnt; returns [total weight, distinct classes] packed as weight (classes in lastClasses). */
  lastClasses = 0;
  count(start: number, end: number): number {
    const y = this.y;
    const w = this.w;
    const cnt = this.nodeCnt;
    let total = 0;
    let distinct = 0;
    for (let i = start; i < end; i++) {
      const r = this.idx[i]!;
      const c = y[r]!;
      if (cnt[c] === 0) distinct++;
      cnt[c] = cnt[c]! + w[r]!;
      total += w[r]!;
    }
    this.lastClasses = distinct;
    return total;
  }

  clear(start: number, end: number): void {
    for (let i = start; i < end; i++) this.nodeCnt[this.y[this.idx[i]!]!] = 0;
  }

  sumSquares(): number {
    let s = 0;
    for (let c = 0; c < this.C; c++) s += this.nodeCnt[c]! * this.nodeCnt[c]!;
    return s;
  }

  /**
   * Best split of rows [start, end) on feature f (nb bins); sets bestProxy/bestBin when it beats
   * `best`. Returns false when the feature is constant on these rows.
   */
  scan(f: number, nb: number, start: number, end: number, nodeW: number, nodeSq: number, best: number): boolean {
    const off = f * this.N;
    const idx = this.idx;
    const tmp = this.tmp;
    const bins = this.bins;
    const n = end - start;
    if (n < SMALL_NODE) {
      // Insertion sort of (code, row) by code into tmp/code.
      const code = this.code;
      let lo = 255;
      let hi = 0;
      for (let i = 0; i < n; i++) {
        const r = idx[start + i]!;
        const b = bins[off + r]!;
        if (b < lo) lo = b;
        if (b > hi) hi = b;
        let j = i;
        while (j > 0 && code[j - 1]! > b) {
          code[j] = code[j - 1]!;
          tmp[start + j] = tmp[start + j - 1]!;
          j--;
        }
        code[j] = b;
        tmp[start + j] = r;
      }
      if (lo === hi) return false;
      this.sweepSorted(start, end, nodeW, nodeSq, best);
      return true;
    }
    const binCount = this.binCount;
    const binStart = this.binStart;
    binCount.fill(0, 0, nb);
    for (let i = start; i < end; i++) binCount[bins[off + idx[i]!]!]++;
    let used = 0;
    for (let b = 0; b < nb && used < 2; b++) if (binCount[b]! > 0) used++;
    if (used < 2) return false;
    binStart[0] = start;
    for (let b = 0; b < nb; b++) binStart[b + 1] = binStart[b]! + binCount[b]!;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const b = bins[off + r]!;
      tmp[binStart[b]!] = r;
      binStart[b] = binStart[b]! + 1;
    }
    // binStart[b] now holds the end of bin b: sweep bin by bin.
    const y = this.y;
    const w = this.w;
    const L = this.L;
    const cnt = this.nodeCnt;
    const minLeaf = this.minLeaf;
    let wL = 0;
    let sqL = 0;
    let wR = nodeW;
    let sqR = nodeSq;
    let from = start;
    for (let b = 0; b < nb - 1; b++) {
      const to = binStart[b]!;
      if (to === from) continue;
      for (let i = from; i < to; i++) {
        const r = tmp[i]!;
        const c = y[r]!;
        const wr = w[r]!;
        const lc = L[c]!;
        sqL += wr * (2 * lc + wr);
        L[c] = lc + wr;
        sqR += wr * (wr - 2 * (cnt[c]! - lc));
        wL += wr;
        wR -= wr;
      }
      from = to;
      if (to - start < minLeaf) continue;
      if (end - to < minLeaf) break;
      // Gini gain is monotone in sqL/wL + sqR/wR (the node's own term is constant).
      const proxy = sqL / wL + sqR / wR;
      if (proxy > best) {
        best = proxy;
        this.bestProxy = proxy;
        this.bestBin = b;
      }
    }
    for (let i = start; i < end; i++) L[y[tmp[i]!]!] = 0;
    return true;
  }

  /** The sweep over rows already sorted by code (tmp[start..end), codes in code[0..n)). */
  private sweepSorted(start: number, end: number, nodeW: number, nodeSq: number, best: number): void {
    const y = this.y;
    const w = this.w;
    const L = this.L;
    const cnt = this.nodeCnt;
    const tmp = this.tmp;
    const code = this.code;
    const minLeaf = this.minLeaf;
    let wL = 0;
    let sqL = 0;
    let wR = nodeW;
    let sqR = nodeSq;
    const n = end - start;
    for (let i = 0; i < n - 1; i++) {
      const r = tmp[start + i]!;
      const c = y[r]!;
      const wr = w[r]!;
      const lc = L[c]!;
      sqL += wr * (2 * lc + wr);
      L[c] = lc + wr;
      sqR += wr * (wr - 2 * (cnt[c]! - lc));
      wL += wr;
      wR -= wr;
      if (code[i + 1] === code[i]) continue;
      if (i + 1 < minLeaf) continue;
      if (n - i - 1 < minLeaf) break;
      const proxy = sqL / wL + sqR / wR;
      if (proxy > best) {
        best = proxy;
        this.bestProxy = proxy;
        this.bestBin = code[i]!;
      }
    }
    for (let i = start; i < end; i++) L[y[tmp[i]!]!] = 0;
  }

  /** Smallest bin above b among the rows going right, set by partition. */
  rightBin = 0;

  /** Stable partition of rows [start, end): bin <= b go left; returns the split point. */
  partition(f: number, b: number, start: number, end: number): number {
    const off = f * this.N;
    const idx = this.idx;
    const tmp = this.tmp;
    let l = start;
    let rgt = 0;
    let minRight = 255;
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const code = this.bins[off + r]!;
      if (code <= b) idx[l++] = r;
      else {
        tmp[rgt++] = r;
        if (code < minRight) minRight = code;
      }
    }
    idx.set(tmp.subarray(0, rgt), l);
    this.rightBin = minRight;
    return l;
  }
}

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
