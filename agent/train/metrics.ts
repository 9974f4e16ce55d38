/**
 * Classification metrics, computed the way scikit-learn does by default:
 * the class set is the union of true and predicted labels, precision or
 * recall with an empty denominator is 0, macro-F1 is the unweighted mean over
 * that set, weighted-F1 weights each class by its support. One exception:
 * `unknown` given for rows under the confidence threshold (evaluate
 * --threshold) is an abstention, not a class, when no true label is `unknown`:
 * its rows count against their true classes' recall, and it does not enter
 * the macro mean as a class of F1 0 (which scored the same errors twice and
 * hid behind support 0: found by review). unknown_share reports it.
 */

import { UNKNOWN } from './split.js';

export interface ClassMetrics {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly support: number;
}

export interface Metrics {
  readonly rows: number;
  readonly accuracy: number;
  readonly macro_f1: number;
  readonly weighted_f1: number;
  /** Share of rows predicted as `unknown` because the top probability was below the threshold. */
  readonly unknown_share: number;
  readonly per_class: Record<string, ClassMetrics>;
  /** Labels in matrix order (sorted). */
  readonly labels: string[];
  /** confusion[i][j]: rows of true label i predicted as label j. */
  readonly confusion: number[][];
  /** `unknown` when it stands for rows under the threshold, not a class: listed, left out of macro-F1. */
  readonly abstention?: string;
  /** Classes macro-F1 is the mean over: `labels` but the abstention. */
  readonly averaged: number;
}

/** Rows per (true label, predicted label): what every figure here is made of. */
export type PairCounts = Map<string, Map<string, number>>;

/** Adds one row of true label `truth` predicted as `pred` to `counts`. */
export function countPair(counts: PairCounts, truth: string, pred: string): void {
  let row = counts.get(truth);
  if (!row) counts.set(truth, (row = new Map()));
  row.set(pred, (row.get(pred) ?? 0) + 1);
}

/**
 * `modelHasUnknown`: the model has an `unknown` class (rare labels merged at training); its
 * predictions of it are then a class's, not abstentions, whatever the threshold.
 */
export function computeMetrics(truth: readonly string[], pred: readonly string[], rejected = 0, modelHasUnknown = false): Metrics {
  if (truth.length !== pred.length) throw new Error('truth and prediction lengths differ');
  const counts: PairCounts = new Map();
  for (let i = 0; i < truth.length; i++) countPair(counts, truth[i] as string, pred[i] as string);
  return metricsFromCounts(counts, rejected, modelHasUnknown);
}

/**
 * computeMetrics from the counts of (true, predicted) pairs: evaluate counts them as it reads, in
 * memory bounded by the classes, not the rows (it kept every row's labels and features: 5.2 GB of
 * memory for a 2 GB file, found by review).
 */
export function metricsFromCounts(counts: PairCounts, rejected = 0, modelHasUnknown = false): Metrics {
  const names = new Set<string>();
  for (const [t, row] of counts) {
    names.add(t);
    for (const p of row.keys()) names.add(p);
  }
  const labels = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(labels.map((l, i) => [l, i]));
  const L = labels.length;
  const confusion = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  let correct = 0;
  let n = 0;
  for (const [tl, row] of counts) {
    const t = index.get(tl) as number;
    for (const [pl, k] of row) {
      const p = index.get(pl) as number;
      (confusion[t] as number[])[p] = k;
      n += k;
      if (t === p) correct += k;
    }
  }
  const per_class: Record<string, ClassMetrics> = {};
  let macro = 0;
  let weighted = 0;
  let averaged = 0;
  const abstention = rejected > 0 && !modelHasUnknown && !counts.has(UNKNOWN) ? UNKNOWN : undefined;
  labels.forEach((l, i) => {
    const tp = (confusion[i] as number[])[i] as number;
    const support = (confusion[i] as number[]).reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + (row[i] as number), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    per_class[l] = { precision, recall, f1, support };
    if (l === abstention) return;
    macro += f1;
    averaged++;
    weighted += f1 * support;
  });
  return {
    rows: n,
    accuracy: n > 0 ? correct / n : 0,
    macro_f1: averaged > 0 ? macro / averaged : 0,
    weighted_f1: n > 0 ? weighted / n : 0,
    unknown_share: n > 0 ? rejected / n : 0,
    per_class,
    labels,
    confusion,
    ...(abstention ? { abstention } : {}),
    averaged,
  };
}

/** The compact form stored in model metadata and printed by `train`. */
export function summary(m: Metrics): { rows: number; accuracy: number; macro_f1: number; weighted_f1: number } {
  const r = (v: number): number => Math.round(v * 1e6) / 1e6;
  return { rows: m.rows, accuracy: r(m.accuracy), macro_f1: r(m.macro_f1), weighted_f1: r(m.weighted_f1) };
}
