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
  /** Histograms to reuse; a builder takes from here and gives back each one it is done with. */
  readonly free: Float64Array[];
}

let space: HistSpace | undefined;

/** The layout for d's bins and `width` values per bin, kept while the run lasts. */
export function histSpace(d: TrainData, width: number): HistSpace {
  if (space && space.edges === d.edges && space.width === width) return space;
  const offset = new Int32Array(d.nFeatures + 1);
  for (let f = 0; f < d.nFeatures; f++) offset[f + 1] = offset[f]! + width * (d.edges[f]!.length + 1);
  space = { edges: d.edges, width, offset, size: offset[d.nFeatures]!, free: [] };
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
  const leftSmaller = l - start <= end - l;
  const small = leftSmaller ? g.build(start, l) : g.build(l, end);
  for (let j = 0; j < hist.length; j++) hist[j] = hist[j]! - small[j]!;
  g.grow(left, start, l, leftSmaller ? small : hist, depth + 1);
  g.grow(right, l, end, leftSmaller ? hist : small, depth + 1);
}
