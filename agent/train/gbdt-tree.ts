/**
 * One gradient-boosting tree (second-order, XGBoost-style) grown depth-first
 * on gradient/hessian histograms over the bin codes.
 *
 * Each node needs, per feature and bin, the sums of gradient and hessian. The
 * histogram of the smaller child is built from its rows, the larger one is
 * the parent's minus the smaller's (in place), so each level costs at most
 * half the rows. Buffers come from a pool kept between the trees of a run:
 * at most depth + 2 are live.
 */
import { TreeBuilder, type Tree } from './model.js';
import { fillHist, histSpace, splitAndGrow, type HistGrower } from './hist-split.js';
import type { GbdtParams, TrainData } from './train-data.js';

export interface GbdtTreeInput {
  /** Gradient and hessian of every row for this tree's class (weights already applied). */
  readonly grad: Float32Array;
  readonly hess: Float32Array;
  /** Rows to fit (training rows minus the early-stopping validation rows). */
  readonly rows: Int32Array;
  /** Class whose score this tree adds to. */
  readonly cls: number;
}

export function buildGbdtTree(d: TrainData, p: GbdtParams, input: GbdtTreeInput): Tree {
  const N = d.nRows;
  const F = d.nFeatures;
  const { grad, hess } = input;
  const rows = Int32Array.from(input.rows);
  const tmp = new Int32Array(rows.length);
  const gBuf = new Float64Array(rows.length);
  const hBuf = new Float64Array(rows.length);
  const hs = histSpace(d, 2);
  const offset = hs.offset;
  const pool = hs.free;

  const build = (start: number, end: number): Float64Array => {
    // Gather once so the per-feature loops read gradients sequentially.
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      gBuf[i] = grad[r]!;
      hBuf[i] = hess[r]!;
    }
    return fillHist(hs, d, rows, start, end, (h, f, base) => {
      const off = f * N;
      for (let i = start; i < end; i++) {
        const j = base + 2 * d.binned[off + rows[i]!]!;
        h[j] = h[j]! + gBuf[i]!;
        h[j + 1] = h[j + 1]! + hBuf[i]!;
      }
    });
  };

  const lambda = p.lambda;
  const mcw = p.minChildWeight;
  const tb = new TreeBuilder();
  const grow = (node: number, start: number, end: number, hist: Float64Array, depth: number): void => {
    let G = 0;
    let H = 0;
    for (let j = 0; j < offset[1]!; j += 2) {
      G += hist[j]!;
      H += hist[j + 1]!;
    }
    let bestGain = p.gamma > 0 ? p.gamma : 1e-12;
    let bestF = -1;
    let bestB = -1;
    if (depth < p.maxDepth && end - start >= 2 && H >= 2 * mcw) {
      const parent = (G * G) / (H + lambda);
      for (let f = 0; f < F; f++) {
        const base = offset[f]!;
        let gl = 0;
        let hl = 0;
        const last = (offset[f + 1]! - base) / 2 - 1;
        for (let b = 0; b < last; b++) {
          gl += hist[base + 2 * b] as number;
          hl += hist[base + 2 * b + 1] as number;
          if (hl < mcw) continue;
          const hr = H - hl;
          if (hr < mcw) break;
          const gr = G - gl;
          const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            bestF = f;
            bestB = b;
          }
        }
      }
    }
    if (bestF < 0) {
      tb.vote(node, input.cls, Math.fround((-G / (H + lambda)) * p.learningRate));
      pool.push(hist);
      return;
    }
    splitAndGrow(grower, node, start, end, hist, depth, bestF, bestB);
  };
  const leaf = (node: number, start: number, end: number): void => {
    let G = 0;
    let H = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      G += grad[r]!;
      H += hess[r]!;
    }
    tb.vote(node, input.cls, Math.fround((-G / (H + lambda)) * p.learningRate));
  };
  const grower: HistGrower = { d, rows, tmp, tb, build, grow, leaf, maxDepth: p.maxDepth, hs };
  grow(tb.add(), 0, rows.length, build(0, rows.length), 0);
  return tb.finish();
}
