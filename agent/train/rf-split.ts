/**
 * The split search of one random-forest tree (rf-tree.ts): for a node's rows and a candidate
 * feature, the best threshold among the bin edges by Gini impurity, and the partition.
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
import type { TrainData } from './train-data.js';

/** Nodes with fewer rows than this sort by insertion rather than by counting over the bins. */
const SMALL_NODE = 48;

/** Split search over the rows of one tree (idx), with their bootstrap weights; scratch arrays sized once. */
export class RfBuilder {
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
