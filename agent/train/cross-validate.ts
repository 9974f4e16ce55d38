/**
 * K-fold cross-validation by group: all rows of a group (a capture) fall in
 * the same fold, so no fold is scored on flows whose near-duplicates it was
 * trained on. Gives steadier figures than one held-out split on small data,
 * and the same folds can be handed to other learners for a fair comparison.
 */
import { fitEnsemble, type FitInput, type FitOptions } from './fit.js';
import { argmaxRows, predictProba } from './model.js';
import { Rng, shuffle } from './rng.js';

/**
 * Fold (0..k-1) of every row in `rows`, -1 for other rows: groups in a seeded
 * random order, larger first, each to the fold with the fewest rows so far.
 */
export function groupFolds(nRows: number, rows: Int32Array, group: Int32Array, k: number, seed: number): Int32Array {
  const size = new Map<number, number>();
  for (const r of rows) size.set(group[r] as number, (size.get(group[r] as number) ?? 0) + 1);
  const ids = [...size.keys()].sort((a, b) => a - b);
  shuffle(ids, new Rng(seed, 0xf01d));
  const order = ids.map((g, i) => [g, i] as const).sort((a, b) => (size.get(b[0]) as number) - (size.get(a[0]) as number) || a[1] - b[1]);
  const load = new Array<number>(k).fill(0);
  const foldOf = new Map<number, number>();
  for (const [g] of order) {
    let best = 0;
    for (let f = 1; f < k; f++) if ((load[f] as number) < (load[best] as number)) best = f;
    foldOf.set(g, best);
    load[best] = (load[best] as number) + (size.get(g) as number);
  }
  const out = new Int32Array(nRows).fill(-1);
  for (const r of rows) out[r] = foldOf.get(group[r] as number) as number;
  return out;
}

export interface CvResult {
  /** Predicted class of every row that was in a fold (-1 elsewhere). */
  readonly pred: Int32Array;
  /** Seconds spent fitting, per fold. */
  readonly fitSeconds: number[];
}

/** Fit on k-1 folds and predict the k-th, for every fold. */
export async function crossValidate(inp: Omit<FitInput, 'trainRows'>, folds: Int32Array, k: number, o: FitOptions): Promise<CvResult> {
  const pred = new Int32Array(inp.nRows).fill(-1);
  const fitSeconds: number[] = [];
  for (let f = 0; f < k; f++) {
    const trainRows = Int32Array.from({ length: inp.nRows }, (_, r) => r).filter((r) => folds[r] !== -1 && folds[r] !== f);
    const testRows = Int32Array.from({ length: inp.nRows }, (_, r) => r).filter((r) => folds[r] === f);
    if (testRows.length === 0 || trainRows.length === 0) continue;
    const t0 = process.hrtime.bigint();
    const { model } = await fitEnsemble({ ...inp, trainRows }, o);
    fitSeconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const p = argmaxRows(predictProba(model, inp.x, inp.nRows, testRows), inp.classes.length);
    testRows.forEach((r, i) => (pred[r] = p[i] as number));
  }
  return { pred, fitSeconds };
}
