/**
 * Turning loaded rows into a training problem: rare classes, class weights,
 * and the held-out split.
 *
 * The held-out split is by group when a group column exists (all flows of a
 * capture fall on the same side, so the score is not inflated by near-duplicate
 * flows of one capture on both sides), else stratified by class.
 */
import { Rng, shuffle } from './rng.js';

export interface ClassPlan {
  /** Final class names, sorted (code-point order, so the order does not depend on the locale). */
  readonly classes: string[];
  /** Class index of each dataset row; -1 for rows of dropped classes. */
  readonly y: Int32Array;
  /** Original labels merged into `unknown` or dropped for having fewer than minClassFlows rows. */
  readonly rare: string[];
  readonly droppedRows: number;
}

export const UNKNOWN = 'unknown';

export function planClasses(
  labelIds: Int32Array,
  labelNames: readonly string[],
  minClassFlows: number,
  rare: 'unknown' | 'drop',
): ClassPlan {
  const counts = new Array<number>(labelNames.length).fill(0);
  for (const l of labelIds) counts[l] = (counts[l] as number) + 1;
  const rareIds = new Set(labelNames.flatMap((_, i) => ((counts[i] as number) < minClassFlows ? [i] : [])));
  const kept = new Set<string>();
  labelNames.forEach((n, i) => {
    if (!rareIds.has(i)) kept.add(n);
    else if (rare === 'unknown') kept.add(UNKNOWN);
  });
  const classes = [...kept].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(classes.map((c, i) => [c, i]));
  const map = labelNames.map((n, i) => (rareIds.has(i) ? (rare === 'unknown' ? index.get(UNKNOWN) ?? -1 : -1) : index.get(n) ?? -1));
  const y = new Int32Array(labelIds.length);
  let droppedRows = 0;
  labelIds.forEach((l, r) => {
    y[r] = map[l] as number;
    if (y[r] === -1) droppedRows++;
  });
  return { classes, y, rare: [...rareIds].map((i) => labelNames[i] as string).sort(), droppedRows };
}

/**
 * Split `rows` into [kept, heldOut] with about `share` of the rows held out:
 * whole groups when `group` is given, else stratified by class.
 */
export function splitRows(
  rows: Int32Array,
  y: Int32Array,
  group: Int32Array | undefined,
  share: number,
  rng: Rng,
): [Int32Array, Int32Array] {
  if (share <= 0) return [rows, new Int32Array(0)];
  const out = new Uint8Array(y.length);
  if (group) {
    const byGroup = new Map<number, number>();
    for (const r of rows) byGroup.set(group[r] as number, (byGroup.get(group[r] as number) ?? 0) + 1);
    const ids = [...byGroup.keys()].sort((a, b) => a - b);
    shuffle(ids, rng);
    const target = share * rows.length;
    // Past half as much again as asked (and past the 0.9 that --holdout allows), a group is not
    // taken even when it comes closer to the target: one capture of 95 rows drawn first against a
    // target of 50 held out 95% of the data, or 5% with another seed (found by review).
    const limit = Math.max(target, Math.min(1.5 * target, 0.9 * rows.length));
    const chosen = new Set<number>();
    let taken = 0;
    for (const g of ids) {
      // Keep at least one group for training.
      if (chosen.size === ids.length - 1) break;
      // A group is taken only when it brings the held-out rows closer to the target: one large
      // capture drawn first no longer takes most of the data, and the model is trained on what is
      // left (found by review: 241 of 300 rows held out for a 0.2 share).
      const n = byGroup.get(g) as number;
      if (taken + n <= limit && Math.abs(taken + n - target) < Math.abs(taken - target)) {
        chosen.add(g);
        taken += n;
      }
    }
    if (chosen.size === 0 && ids.length > 1) {
      // No group fits (each is past the limit): the smallest (at most half the rows, as there are two or more).
      chosen.add(ids.reduce((a, b) => ((byGroup.get(b) as number) < (byGroup.get(a) as number) ? b : a)));
    }
    for (const r of rows) if (chosen.has(group[r] as number)) out[r] = 1;
  } else {
    const byClass = new Map<number, number[]>();
    for (const r of rows) {
      const list = byClass.get(y[r] as number) ?? [];
      list.push(r);
      byClass.set(y[r] as number, list);
    }
    for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
      const list = byClass.get(c) as number[];
      shuffle(list, rng);
      // Round, but leave at least one row of every class for training.
      const n = Math.min(list.length - 1, Math.round(share * list.length));
      for (let i = 0; i < n; i++) out[list[i] as number] = 1;
    }
  }
  return [rows.filter((r) => out[r] === 0), rows.filter((r) => out[r] === 1)];
}

/** Per-class weights: all 1, or n / (nClasses * n_c) over the training rows ("balanced", as scikit-learn). */
export function classWeights(y: Int32Array, rows: Int32Array, nClasses: number, mode: 'none' | 'balanced'): Float64Array {
  const w = new Float64Array(nClasses).fill(1);
  if (mode === 'none') return w;
  const counts = new Float64Array(nClasses);
  for (const r of rows) counts[y[r] as number] = (counts[y[r] as number] as number) + 1;
  for (let c = 0; c < nClasses; c++) {
    w[c] = (counts[c] as number) > 0 ? rows.length / (nClasses * (counts[c] as number)) : 0;
  }
  return w;
}
