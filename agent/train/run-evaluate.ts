/**
 * `eta-sensor evaluate` minus argument parsing: run a model file with
 * onnxruntime (the runtime the agent uses, not the trainer's own predict) on
 * the CSV columns its metadata names, and measure it.
 */
import { readFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { loadDataset, requireRows, type Dataset, type DatasetPart } from './dataset.js';
import { countPair, metricsFromCounts, type Metrics, type PairCounts } from './metrics.js';
import { parseModelMeta, type ModelMeta } from './model-meta.js';
import { openClassifier } from './onnx-rows.js';
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
  /** Rows read, then classified, at a time (bounds memory on large files; default 8192). */
  readonly batch?: number;
  /** Progress for a terminal: rows read, and rows classified so far (each part as it is read; the total is not known). */
  readonly onProgress?: (phase: 'reading' | 'classifying', done: number, total?: number) => void;
  /** Ctrl-C: stops the loading, between rows, and the inference, between parts. */
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
  // Each part of the file is classified as it is read, and only the (true, predicted) pair counts
  // are kept: memory is bounded by a part, whatever the file's size (found by review: 5.2 GB to
  // evaluate a 2 GB file, more than training on it).
  const scoring = new Scoring(meta);
  const classifier = await openClassifier(bytes);
  let ds: Dataset;
  try {
    ds = await loadDataset(o.data, {
      label, features: meta.features, badRows: o.badRows, infinity,
      ...(o.onProgress ? { onProgress: (n: number) => o.onProgress!('reading', n) } : {}), ...(o.signal ? { signal: o.signal } : {}),
      parts: {
        rows: o.batch ?? 8192,
        take: async (part) => {
          const kept = scoring.truth(part);
          if (kept.length === 0) return;
          const got = await classifier.classify(part.x, part.nRows, meta.features.length, { rows: kept, ...(o.signal ? { signal: o.signal } : {}) });
          if ('interruptedAt' in got) throw new StartupError('E_DATA', `evaluation interrupted after ${scoring.scored} rows`);
          scoring.score(got.labels, got.top, o.threshold);
          o.onProgress?.('classifying', scoring.scored);
        },
      },
    });
  } finally {
    await classifier.release();
  }
  requireRows(ds, 'evaluate');
  scoring.check(label, o.data);
  return {
    meta, dataset: ds, metrics: metricsFromCounts(scoring.counts, scoring.rejected, meta.classes.includes(UNKNOWN)),
    mappedToUnknown: scoring.mapped, leftOut: scoring.leftOut, notInModel: scoring.notInModel,
  };
}

/**
 * The true label of each row scored, and the counts of (true, predicted) pairs.
 * - Labels too rare at training time were learned as `unknown` (--rare unknown): scored as such.
 *   With --rare drop the model never saw them, so their rows are left out, as training left them
 *   out (found by review: they were scored as `unknown`, and a model saying so counted right).
 * - Any other label the model has no class for: a model with an `unknown` class was taught that
 *   every app outside its classes is `unknown` (the shipped app model's rarer apps are, with no
 *   rare_labels recorded), so such rows are scored as `unknown`; without that class each is wrong.
 *   Either way they are named (notInModel).
 * A label column none of whose labels is a class of the model is told after the file is read
 * (check): the rows are classified as they come, so a wrong --label costs one pass.
 */
class Scoring {
  readonly counts: PairCounts = new Map();
  readonly notInModel: Record<string, number> = {};
  mapped = 0;
  leftOut = 0;
  rejected = 0;
  scored = 0;
  private inModel = 0;
  private pending: string[] = [];
  private readonly rare: Set<string>;
  private readonly classes: Set<string>;
  private readonly open: boolean;
  private readonly dropped: boolean;

  constructor(private readonly meta: ModelMeta) {
    this.rare = new Set(meta.data?.rare_labels ?? []);
    this.classes = new Set(meta.classes);
    this.open = this.classes.has(UNKNOWN);
    this.dropped = meta.params['rare'] === 'drop' || !this.open;
  }

  /** The rows of a part to classify; their true labels wait for score(). */
  truth(part: DatasetPart): Int32Array {
    const kept: number[] = [];
    this.pending = [];
    (part.y ?? []).forEach((id, i) => {
      let l = part.labelNames[id] as string;
      if (this.rare.has(l)) {
        if (this.dropped) return void this.leftOut++;
        this.mapped++;
        l = UNKNOWN;
      }
      if (this.classes.has(l)) this.inModel++;
      else {
        this.notInModel[l] = (this.notInModel[l] ?? 0) + 1;
        if (this.open) l = UNKNOWN;
      }
      this.pending.push(l);
      kept.push(i);
    });
    return Int32Array.from(kept);
  }

  /** The predictions of the rows truth() returned, in its order. */
  score(labels: readonly string[], top: Float32Array, threshold: number): void {
    this.pending.forEach((t, i) => {
      const below = threshold > 0 && (top[i] as number) < threshold;
      if (below) this.rejected++;
      countPair(this.counts, t, below ? UNKNOWN : (labels[i] as string));
    });
    this.scored += this.pending.length;
  }

  check(label: string, data: string): void {
    const { meta } = this;
    if (this.scored === 0) {
      throw new StartupError('E_DATA', `every labelled row of ${data} has a label the model left out as rare (${[...this.rare].slice(0, 6).join(', ')}${this.rare.size > 6 ? ', ...' : ''})`, 'evaluate on data with the classes the model has');
    }
    if (this.inModel === 0) {
      throw new StartupError('E_DATA', `no label of column "${label}" in ${data} is a class of the model (${meta.classes.slice(0, 6).join(', ')}${meta.classes.length > 6 ? ', ...' : ''}): the figures would measure nothing`,
        meta.data?.label_column && meta.data.label_column !== label ? `the model was trained on column "${meta.data.label_column}": give --label ${meta.data.label_column}, or a model trained on "${label}"` : 'evaluate a model trained on these labels');
    }
  }
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
