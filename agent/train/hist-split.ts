/**
 * What both boosting tree builders share (gbdt-tree.ts, gbdt-shared-tree.ts): the histograms'
 * layout and buffers, and the split step. The split step: partition
 * the node's rows on one feature's bin codes, add the two children, and grow them with the
 * histogram trick: the smaller child's histogram is built from its rows, the larger one's is the
 * parent's minus it, in place, so each level reads at most half the rows.
 */
import type { TreeBuilder } from './model.js';
import type { TrainData } from './train-data.js';

/**
 * Histogram layout of one training run: feature f's values start at offset[f] and span its own
 * bins only, `width` values per bin ((gradient, hessian) per scored class), so a feature with 3
 * distinct values costs 3 x width slots, not 256 x width. Buffers are kept between trees (one run
 * per thread at a time): allocating and zeroing full-size histograms per tree cost more than
 * filling them.
 */
export interface HistSpace {
  readonly edges: readonly Float32Array[];
  readonly width: number;
  readonly offset: Int32Array;
  readonly size: number;
  /** Histograms to reuse; a builder takes from here (takeHist) and gives back each one it is done with. */
  readonly free: Float64Array[];
  /** Feature f's first bin, counted in bins (offset / width). */
  readonly binOffset: Int32Array;
  /** Scratch of sparse builds (fillHist): a flag per bin, all 0 between builds, and the list. */
  readonly mark: Uint8Array;
  readonly list: Int32Array;
}

/**
 * The bins a histogram may hold non-zero values in, when a small node's rows touched few of them
 * (null: any bin). Why: zeroing a histogram for reuse and subtracting a child's from its parent's
 * cost the whole histogram's size each (F x bins x 42 values for 21 classes: 5.5 MB on the app
 * data), while a node of 100 rows touches a fraction of it; the two were most of a shared tree's
 * time. Only bins a node's rows touched can be non-zero, so limiting both to them is exact.
 */
const touched = new WeakMap<Float64Array, Int32Array | null>();

/** A zeroed histogram: from the pool (cleared where its last use may have written), or new. */
export function takeHist(hs: HistSpace): Float64Array {
  const h = hs.free.pop();
  if (h === undefined) return new Float64Array(hs.size);
  const t = touched.get(h);
  if (t === null) h.fill(0);
  else if (t !== undefined) {
    const w = hs.width;
    for (let i = 0; i < t.length; i++) {
      const j = t[i]! * w;
      for (let k = 0; k < w; k++) h[j + k] = 0;
    }
  }
  touched.delete(h);
  return h;
}

/**
 * The histogram of rows[start, end): taken zeroed, filled feature by feature by `add(h, f, base)`
 * (base: feature f's first slot), the builder's own loop over the rows. A small node's build also
 * lists the bins its rows touched (see `touched`): when noting them costs less than the zeroing
 * and subtracting it saves, a note costing about 4 values' work. So shared trees (42 values per
 * bin) list all but their top levels, per-class trees (2) only nodes of a few rows.
 */
export function fillHist(hs: HistSpace, d: TrainData, rows: Int32Array, start: number, end: number,
  add: (h: Float64Array, f: number, base: number) => void): Float64Array {
  const h = takeHist(hs);
  const N = d.nRows;
  const sparse = (end - start) * d.nFeatures * 4 < hs.size;
  let n = 0;
  for (let f = 0; f < d.nFeatures; f++) {
    if (sparse) {
      const off = f * N;
      const bo = hs.binOffset[f]!;
      for (let i = start; i < end; i++) {
        const bi = bo + d.binned[off + rows[i]!]!;
        if (hs.mark[bi] === 0) {
          hs.mark[bi] = 1;
          hs.list[n++] = bi;
        }
      }
    }
    add(h, f, hs.offset[f]!);
  }
  if (sparse) {
    const l = hs.list.slice(0, n);
    for (let i = 0; i < n; i++) hs.mark[l[i]!] = 0;
    touched.set(h, l);
  } else {
    touched.set(h, null);
  }
  return h;
}

let space: HistSpace | undefined;

/** The layout for d's bins and `width` values per bin, kept while the run lasts. */
export function histSpace(d: TrainData, width: number): HistSpace {
  if (space && space.edges === d.edges && space.width === width) return space;
  const offset = new Int32Array(d.nFeatures + 1);
  for (let f = 0; f < d.nFeatures; f++) offset[f + 1] = offset[f]! + width * (d.edges[f]!.length + 1);
  const binOffset = offset.map((o) => o / width);
  const bins = binOffset[d.nFeatures]!;
  space = { edges: d.edges, width, offset, size: offset[d.nFeatures]!, free: [], binOffset, mark: new Uint8Array(bins), list: new Int32Array(bins) };
  return space;
}

export interface HistGrower {
  readonly d: TrainData;
  /** The rows being fitted, each node's a contiguous range (reordered by the splits). */
  readonly rows: Int32Array;
  /** Scratch as long as rows. */
  readonly tmp: Int32Array;
  readonly tb: TreeBuilder;
  /** The histogram of rows[start, end). */
  readonly build: (start: number, end: number) => Float64Array;
  readonly grow: (node: number, start: number, end: number, hist: Float64Array, depth: number) => void;
  /** Nodes at this depth are leaves. */
  readonly maxDepth: number;
  /** Makes `node` a leaf valued from rows[start, end) themselves. */
  readonly leaf: (node: number, start: number, end: number) => void;
  /** The histograms' layout and buffers. */
  readonly hs: HistSpace;
}

/** Split `node` (rows[start, end), histogram `hist`) on "bin code of feature f <= bin". */
export function splitAndGrow(g: HistGrower, node: number, start: number, end: number, hist: Float64Array, depth: number, f: number, bin: number): void {
  const { d, rows, tmp, tb } = g;
  const off = f * d.nRows;
  let l = start;
  let nr = 0;
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    if (d.binned[off + r]! <= bin) rows[l++] = r;
    else tmp[nr++] = r;
  }
  rows.set(tmp.subarray(0, nr), l);
  const left = tb.add();
  const right = tb.add();
  tb.split(node, f, d.edges[f]![bin]!, left, right);
  if (depth + 1 >= g.maxDepth) {
    // Children at the last level are leaves, which need only their sums: taken from their rows,
    // with no histogram to zero, fill and subtract (each the size of the whole histogram, and
    // half of a tree's splits are these: 40% of a shared tree's time).
    g.hs.free.push(hist);
    g.leaf(left, start, l);
    g.leaf(right, l, end);
    return;
  }
  const leftSmaller = l - start <= end - l;
  const small = leftSmaller ? g.build(start, l) : g.build(l, end);
  const t = touched.get(small);
  if (t) {
    const w = g.hs.width;
    for (let i = 0; i < t.length; i++) {
      const j = t[i]! * w;
      for (let k = j; k < j + w; k++) hist[k] = hist[k]! - small[k]!;
    }
  } else {
    for (let j = 0; j < hist.length; j++) hist[j] = hist[j]! - small[j]!;
  }
  g.grow(left, start, l, leftSmaller ? small : hist, depth + 1);
  g.grow(right, l, end, leftSmaller ? hist : small, depth + 1);
}
