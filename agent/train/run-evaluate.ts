/**
 * `eta-sensor evaluate` minus argument parsing: run a model file with
 * onnxruntime (the runtime the agent uses, not the trainer's own predict) on
 * the CSV columns its metadata names, and measure it.
 */
import { readFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { loadDataset, requireRows, type Dataset } from './dataset.js';
import { computeMetrics, type Metrics } from './metrics.js';
import { parseModelMeta, type ModelMeta } from './model-meta.js';
import { classifyRows } from './onnx-rows.js';
import { UNKNOWN } from './split.js';

export interface EvaluateOptions {
  readonly model: string;
  readonly data: string;
  /** Label column; default: the one the model was trained on. */
  readonly label?: string;
  /** Predictions whose top probability is below this become `unknown`. 0 disables. */
  readonly threshold: number;
  readonly badRows: 'skip' | 'fail';
  /** Infinite cells; default: as the model was trained (its trainer_params), else bad. */
  readonly infinity?: 'bad' | 'clamp';
  /** Rows per inference call (bounds memory on large files). */
  readonly batch?: number;
  /** Progress for a terminal: rows read, then rows classified of all. */
  readonly onProgress?: (phase: 'reading' | 'classifying', done: number, total?: number) => void;
  /** Ctrl-C: stops the loading, between rows. */
  readonly signal?: AbortSignal;
}

export interface Evaluation {
  readonly meta: ModelMeta;
  readonly dataset: Dataset;
  readonly metrics: Metrics;
  /** Rows whose true label was a rare training label counted as `unknown` (trained with --rare unknown). */
  readonly mappedToUnknown: number;
  /** Rows whose true label was a rare training label left out of training (--rare drop), left out here too. */
  readonly leftOut: number;
  /** True labels the model has no class for, and their rows: scored as `unknown` when the model has that class, else each wrong. */
  readonly notInModel: Record<string, number>;
}

export async function evaluateModel(o: EvaluateOptions): Promise<Evaluation> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(o.model);
  } catch (e) {
    throw new StartupError('E_MODEL', `cannot read model ${o.model}: ${(e as Error).message}`, 'check the --model path');
  }
  const meta = parseModelMeta(bytes, o.model);
  const label = o.label ?? meta.data?.label_column;
  if (!label) throw new StartupError('E_USAGE', 'the model does not record its label column', 'give --label COLUMN');
  // A model trained with --infinity clamp read infinite cells as numbers: so does its evaluation, unless told
  // otherwise (it skipped those rows, and a class lost a third of its support: found by review).
  const infinity = o.infinity ?? (meta.params['infinity'] === 'clamp' ? 'clamp' : 'bad');
  const ds = await loadDataset(o.data, {
    label, features: meta.features, badRows: o.badRows, infinity,
    ...(o.onProgress ? { onProgress: (n: number) => o.onProgress!('reading', n) } : {}), ...(o.signal ? { signal: o.signal } : {}),
  });
  requireRows(ds, 'evaluate');
  const { truth, kept, mapped, leftOut, notInModel } = truthLabels(ds, meta, label, o.data);
  const N = ds.nRows;
  const got = await classifyRows(bytes, ds.x, N, meta.features.length, {
    ...(o.batch ? { batch: o.batch } : {}), ...(o.signal ? { signal: o.signal } : {}),
    onBatch: (done, total) => o.onProgress?.('classifying', done, total),
  });
  if ('interruptedAt' in got) throw new StartupError('E_DATA', `evaluation interrupted after ${got.interruptedAt} of ${N} rows`);
  let rejected = 0;
  const pred = kept.map((i) => {
    const below = o.threshold > 0 && (got.top[i] as number) < o.threshold;
    if (below) rejected++;
    return below ? UNKNOWN : (got.labels[i] as string);
  });
  return { meta, dataset: ds, metrics: computeMetrics(truth, pred, rejected, meta.classes.includes(UNKNOWN)), mappedToUnknown: mapped, leftOut, notInModel };
}

/**
 * The true label of each row scored, and which rows those are. Checked before inference, which a
 * wrong --label would only make the user wait through.
 * - Labels too rare at training time were learned as `unknown` (--rare unknown): scored as such.
 *   With --rare drop the model never saw them, so their rows are left out, as training left them
 *   out (found by review: they were scored as `unknown`, and a model saying so counted right).
 * - Any other label the model has no class for: a model with an `unknown` class was taught that
 *   every app outside its classes is `unknown` (the shipped app model's rarer apps are, with no
 *   rare_labels recorded), so such rows are scored as `unknown`; without that class each is wrong.
 *   Either way they are named (notInModel).
 */
function truthLabels(ds: Dataset, meta: ModelMeta, label: string, data: string): { truth: string[]; kept: number[]; mapped: number; leftOut: number; notInModel: Record<string, number> } {
  const rare = new Set(meta.data?.rare_labels ?? []);
  const classes = new Set(meta.classes);
  const open = classes.has(UNKNOWN);
  const dropped = meta.params['rare'] === 'drop' || !open;
  const truth: string[] = [];
  const kept: number[] = [];
  const notInModel: Record<string, number> = {};
  let mapped = 0;
  let leftOut = 0;
  let inModel = 0;
  (ds.y ?? []).forEach((id, i) => {
    let l = ds.labelNames[id] as string;
    if (rare.has(l)) {
      if (dropped) return void leftOut++;
      mapped++;
      l = UNKNOWN;
    }
    if (classes.has(l)) inModel++;
    else {
      notInModel[l] = (notInModel[l] ?? 0) + 1;
      if (open) l = UNKNOWN;
    }
    truth.push(l);
    kept.push(i);
  });
  if (truth.length === 0) {
    throw new StartupError('E_DATA', `every labelled row of ${data} has a label the model left out as rare (${[...rare].slice(0, 6).join(', ')}${rare.size > 6 ? ', ...' : ''})`, 'evaluate on data with the classes the model has');
  }
  if (inModel === 0) {
    throw new StartupError('E_DATA', `no label of column "${label}" in ${data} is a class of the model (${meta.classes.slice(0, 6).join(', ')}${meta.classes.length > 6 ? ', ...' : ''}): the figures would measure nothing`,
      meta.data?.label_column && meta.data.label_column !== label ? `the model was trained on column "${meta.data.label_column}": give --label ${meta.data.label_column}, or a model trained on "${label}"` : 'evaluate a model trained on these labels');
  }
  return { truth, kept, mapped, leftOut, notInModel };
}

/** The `--json` object: stable keys, numbers rounded to 6 decimals. */
export function evaluationJson(e: Evaluation, o: EvaluateOptions): Record<string, unknown> {
  const r = (v: number): number => Math.round(v * 1e6) / 1e6;
  const m = e.metrics;
  return {
    model: o.model,
    data: o.data,
    kind: e.meta.kind,
    algo: e.meta.algo,
    rows: m.rows,
    rows_skipped: e.dataset.report.rowsSkipped,
    rows_skipped_by: e.dataset.report.skippedBy,
    repeated_names: e.dataset.report.repeatedNames,
    rows_unlabeled: e.dataset.report.unlabeled,
    rows_rare_as_unknown: e.mappedToUnknown,
    rows_rare_left_out: e.leftOut,
    labels_not_in_model: e.notInModel,
    labels_not_in_model_scored_as: e.meta.classes.includes(UNKNOWN) ? UNKNOWN : 'wrong',
    threshold: o.threshold,
    accuracy: r(m.accuracy),
    macro_f1: r(m.macro_f1),
    weighted_f1: r(m.weighted_f1),
    unknown_share: r(m.unknown_share),
    per_class: Object.fromEntries(
      Object.entries(m.per_class).map(([k, v]) => [
        k, { precision: r(v.precision), recall: r(v.recall), f1: r(v.f1), support: v.support },
      ]),
    ),
  };
}
