/**
 * Gradient-boosted trees with softmax loss: each round fits one tree per
 * class to the gradient/hessian of the multinomial log-loss (binary problems:
 * one tree per round for class 1, class 0's score stays 0, which is the
 * logistic loss). The trees of one round are independent and are built in
 * parallel; gradients live in SharedArrayBuffers rewritten between rounds.
 * With `shared`, each round is one tree whose leaves score every class
 * (gbdt-shared-tree.ts): K times fewer trees to run at inference.
 */
import { leafOf, type Tree, type TreeEnsemble } from './model.js';
import { TreePool } from './pool.js';
import type { TreeJob } from './pool-types.js';
import type { FitControl } from './forest.js';
import type { GbdtParams, TrainData } from './train-data.js';

export interface BoostInput {
  readonly data: TrainData;
  readonly classes: readonly string[];
  /** Raw float32 matrix (column-major) the trees' thresholds apply to; used to update scores. */
  readonly x: Float32Array;
  /** Rows the trees are fitted on, and rows for early stopping (may be empty). */
  readonly fitRows: Int32Array;
  readonly validRows: Int32Array;
}

export interface BoostResult {
  readonly model: TreeEnsemble;
  /** Rounds kept (fewer than asked when early stopping triggered). */
  readonly rounds: number;
}

export async function trainBoost(inp: BoostInput, p: GbdtParams, ctl: FitControl): Promise<BoostResult> {
  const d = inp.data;
  const N = d.nRows;
  const C = d.nClasses;
  const binary = C === 2;
  const K = binary ? 1 : C; // trees per round
  const w = (r: number): number => d.classWeight[d.y[r] as number] as number;

  // Base score: log of the weighted class prior (softmax is shift-invariant).
  const prior = new Float64Array(C);
  let total = 0;
  for (const r of inp.fitRows) {
    prior[d.y[r] as number] = (prior[d.y[r] as number] as number) + w(r);
    total += w(r);
  }
  const base = new Float64Array(C);
  for (let c = 0; c < C; c++) base[c] = Math.log(Math.max((prior[c] as number) / total, 1e-12));
  if (binary) {
    base[1] = (base[1] as number) - (base[0] as number);
    base[0] = 0;
  }
  const baseF = Float32Array.from(base);

  const scores = new Float64Array(N * C);
  const tracked = [...inp.fitRows, ...inp.validRows];
  for (const r of tracked) scores.set(baseF, r * C);
  const grad = new Float32Array(new SharedArrayBuffer(4 * K * N));
  const hess = new Float32Array(new SharedArrayBuffer(4 * K * N));
  const pool = TreePool.create(d, { grad, hess, fitRows: inp.fitRows }, p.shared ? 1 : Math.min(ctl.threads, K));
  const trees: Tree[] = [];
  const prob = new Float64Array(C);
  let best = Infinity;
  let bestRounds = 0;
  try {
    for (let round = 0; round < p.rounds; round++) {
      for (const r of inp.fitRows) {
        softmaxRow(scores, r * C, C, prob);
        const wr = w(r);
        const yr = d.y[r] as number;
        for (let k = 0; k < K; k++) {
          const c = binary ? 1 : k;
          const pc = prob[c] as number;
          grad[k * N + r] = (pc - (yr === c ? 1 : 0)) * wr;
          hess[k * N + r] = Math.max(pc * (1 - pc), 1e-16) * wr;
        }
      }
      const jobs: TreeJob[] = p.shared
        ? [{ kind: 'gbdt-shared', classOf: binary ? [1] : Array.from({ length: K }, (_, k) => k), params: p }]
        : Array.from({ length: K }, (_, k) => ({ kind: 'gbdt', cls: binary ? 1 : k, slot: k, params: p }));
      const made = await pool.run(jobs, undefined, ctl.signal);
      for (const t of made) {
        addTree(t, inp.x, N, C, tracked, scores);
        trees.push(t);
      }
      ctl.onTree?.(round + 1, p.rounds);
      if (p.earlyStopping > 0 && inp.validRows.length > 0) {
        const loss = logLoss(scores, inp.validRows, d.y, C, prob);
        if (loss < best - 1e-9) {
          best = loss;
          bestRounds = round + 1;
        } else if (round + 1 - bestRounds >= p.earlyStopping) {
          break;
        }
      } else {
        bestRounds = round + 1;
      }
    }
  } finally {
    await pool.close();
  }
  const kept = trees.slice(0, bestRounds * (p.shared ? 1 : K));
  if (binary && kept.length > 0) {
    // Fold the base score into the first tree: the exported binary model then has no
    // base_values, which onnxruntime's two-class code path handles unambiguously.
    const t0 = kept[0] as Tree;
    for (let k = 0; k < t0.leafValue.length; k++) t0.leafValue[k] = Math.fround((t0.leafValue[k] as number) + (baseF[1] as number));
    baseF.fill(0);
  }
  return { model: { algo: 'gbdt', nFeatures: d.nFeatures, classes: inp.classes, trees: kept, base: baseF }, rounds: bestRounds };
}

function addTree(t: Tree, x: Float32Array, N: number, C: number, rows: readonly number[], scores: Float64Array): void {
  let r = 0;
  const get = (f: number): number => x[f * N + r] as number;
  for (r of rows) {
    const leaf = leafOf(t, get);
    for (let k = t.valueStart[leaf] as number; k < (t.valueStart[leaf + 1] as number); k++) {
      const j = r * C + (t.leafClass[k] as number);
      scores[j] = (scores[j] as number) + (t.leafValue[k] as number);
    }
  }
}

function softmaxRow(scores: Float64Array, off: number, C: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, scores[off + c] as number);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    const e = Math.exp((scores[off + c] as number) - max);
    out[c] = e;
    sum += e;
  }
  for (let c = 0; c < C; c++) out[c] = (out[c] as number) / sum;
}

function logLoss(scores: Float64Array, rows: Int32Array, y: Int32Array, C: number, prob: Float64Array): number {
  let s = 0;
  for (const r of rows) {
    softmaxRow(scores, r * C, C, prob);
    s -= Math.log(Math.max(prob[y[r] as number] as number, 1e-15));
  }
  return s / rows.length;
}
