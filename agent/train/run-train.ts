/**
 * The whole of `eta-sensor train` minus argument parsing: load, plan classes,
 * split, bin, fit, measure on the held-out rows, export, write atomically.
 *
 * The held-out metrics describe exactly the model that is written (it is not
 * refitted on all rows afterwards), so what the file claims is what it does.
 */
import { StartupError } from '../errors.js';
import { writeOutput } from '../lib/output-file.js';
import { MAX_BINS } from './bins.js';
import { loadDataset, requireRows, type Dataset } from './dataset.js';
import { fitEnsemble } from './fit.js';
import { computeMetrics, summary, type Metrics } from './metrics.js';
import type { Algo } from './model.js';
import { classifyRows } from './onnx-rows.js';
import { FORMAT_VERSION, type ModelMeta } from './model-meta.js';
import { exportOnnx } from './onnx-export.js';
import { useLeafTable } from './onnx-leaf-table.js';
import { Rng } from './rng.js';
import { planClasses, splitRows } from './split.js';

export interface TrainOptions {
  readonly data: string;
  /** What the metadata names as the training data (default: the `data` path). */
  readonly source?: string;
  readonly label: string;
  readonly out: string;
  readonly algo: Algo;
  /** rf: trees; gbdt: boosting rounds (each has one tree per class, or one in all with sharedTrees). */
  readonly trees: number;
  /** Default: unlimited for rf, 6 for gbdt. 0 = unlimited. */
  readonly maxDepth?: number;
  readonly minSamplesLeaf?: number;
  readonly features?: readonly string[];
  readonly keepIdentity?: boolean;
  readonly minClassFlows: number;
  readonly rare: 'unknown' | 'drop';
  readonly classWeight: 'none' | 'balanced';
  readonly seed: number;
  readonly holdout: number;
  /** Group column; `undefined` uses `pcap` when the file has one; null: no grouping. */
  readonly groupBy?: string | null;
  readonly threads: number;
  readonly badRows: 'skip' | 'fail';
  readonly infinity: 'bad' | 'clamp';
  readonly learningRate?: number;
  readonly earlyStopping?: number;
  /** gbdt: one tree per round scoring every class (see gbdt-shared-tree.ts). */
  readonly sharedTrees?: boolean;
  /** Model kind recorded in metadata: 'app', 'attribution' or a custom name. */
  readonly kind: string;
  readonly registryHash: string;
  /** ISO time recorded as the training date (injectable so equal inputs give equal bytes). */
  readonly trainedAt: string;
  readonly producerVersion: string;
  /**
   * Metrics measured elsewhere, recorded when nothing is held out (holdout 0): e.g. a
   * cross-validation by capture of the same recipe, for a model refitted on all rows.
   * They must say how they were measured (a `method` key).
   */
  readonly externalMetrics?: Record<string, unknown> & { readonly method: string };
  /**
   * load: rows read so far; prepare: the rows (binning and sorting them before the first tree);
   * fit: trees grown of all; holdout: the held-out rows being classified.
   */
  readonly onProgress?: (phase: 'load' | 'prepare' | 'fit' | 'holdout', done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface TrainResult {
  readonly meta: ModelMeta;
  readonly dataset: Dataset;
  readonly holdout: Metrics | null;
  readonly modelBytes: number;
  readonly trees: number;
  /** Whether the file is the leaf-table graph rather than one TreeEnsembleClassifier (onnx-leaf-table.ts). */
  readonly leafTable: boolean;
  /** Dataset rows held out (indices into the loaded rows, ascending). */
  readonly holdoutRows: Int32Array;
}

export async function trainModel(o: TrainOptions): Promise<TrainResult> {
  const ds = await loadDataset(o.data, {
    label: o.label,
    group: o.groupBy === null ? undefined : o.groupBy ?? 'pcap',
    groupIfPresent: o.groupBy === undefined,
    features: o.features,
    keepIdentity: o.keepIdentity,
    badRows: o.badRows,
    infinity: o.infinity,
    onProgress: (n) => o.onProgress?.('load', n, 0),
    signal: o.signal,
  });
  if (!ds.y) throw new Error('internal: labels not loaded');
  requireRows(ds, 'train on');
  const plan = planClasses(ds.y, ds.labelNames, o.minClassFlows, o.rare);
  const C = plan.classes.length;
  if (C < 2) {
    // One label in the whole file: no setting helps (found by review: the fix named --min-class-flows).
    const labels = new Set(ds.y).size;
    throw new StartupError('E_DATA', labels === 1
      ? `${o.data}: every labelled row is "${ds.labelNames[ds.y[0] as number]}": a classifier needs two labels or more`
      : `${o.data}: only ${C} class(es) left with at least ${o.minClassFlows} flows`,
    labels === 1 ? 'label flows of other classes too' : 'lower --min-class-flows, or label more flows');
  }
  const all = Int32Array.from({ length: ds.nRows }, (_, i) => i).filter((r) => (plan.y[r] as number) >= 0);
  const [trainRows, testRows] = splitRows(all, plan.y, ds.group, o.holdout, new Rng(o.seed, 0x7e57));
  const onTree = (done: number, total: number): void => o.onProgress?.('fit', done, total);
  // Said before the first tree: binning and sorting a large file's columns takes a while (16 s for
  // 10 M rows), and the terminal showed nothing meanwhile (found by review).
  o.onProgress?.('prepare', trainRows.length, trainRows.length);
  const { model, params } = await fitEnsemble(
    { x: ds.x, nRows: ds.nRows, nFeatures: ds.featureNames.length, y: plan.y, classes: plan.classes, group: ds.group, trainRows },
    { ...o, onTree },
  );
  const classCounts: Record<string, number> = Object.fromEntries(plan.classes.map((c) => [c, 0]));
  for (const r of trainRows) classCounts[plan.classes[plan.y[r] as number] as string]! += 1;
  let meta: ModelMeta = {
    formatVersion: FORMAT_VERSION,
    features: ds.featureNames,
    registryHash: o.registryHash,
    classes: plan.classes,
    kind: o.kind,
    algo: o.algo,
    trainedAt: o.trainedAt,
    data: {
      source: o.source ?? o.data, label_column: ds.labelColumn ?? o.label, group_by: ds.groupColumn ?? null,
      rows_read: ds.report.rowsRead, rows_used: all.length,
      rows_skipped: ds.report.rowsSkipped + ds.report.unlabeled + plan.droppedRows,
      train_rows: trainRows.length, holdout_rows: testRows.length, class_counts: classCounts, rare_labels: plan.rare,
    },
    metrics: o.externalMetrics ?? null,
    params: {
      algo: o.algo, ...params, bins: MAX_BINS, holdout: o.holdout, class_weight: o.classWeight,
      min_class_flows: o.minClassFlows, rare: o.rare, bad_rows: o.badRows, infinity: o.infinity,
    },
  };
  let bytes = exportOnnx(model, meta, o.producerVersion);
  let holdout: Metrics | null = null;
  if (testRows.length > 0) {
    // Held-out rows as the file classifies them, through onnxruntime (onnx-rows.ts says why), then
    // the file again with those figures: its graph is the same, only the metadata changes.
    o.onProgress?.('holdout', testRows.length, testRows.length);
    const got = await classifyRows(bytes, ds.x, ds.nRows, ds.featureNames.length, { rows: testRows, ...(o.signal ? { signal: o.signal } : {}) });
    if ('interruptedAt' in got) throw new Error('training interrupted');
    holdout = computeMetrics([...testRows].map((r) => plan.classes[plan.y[r] as number] as string), got.labels);
    meta = { ...meta, metrics: { method: 'held out', ...summary(holdout), per_class_f1: perClassF1(holdout) } };
    bytes = exportOnnx(model, meta, o.producerVersion);
  }
  await writeOutput(o.out, bytes);
  return { meta, dataset: ds, holdout, modelBytes: bytes.length, trees: model.trees.length, leafTable: useLeafTable(model), holdoutRows: testRows };
}

function perClassF1(m: Metrics): Record<string, number> {
  return Object.fromEntries(Object.entries(m.per_class).map(([k, v]) => [k, Math.round(v.f1 * 1e4) / 1e4]));
}
