/**
 * Regenerates the shipped models, models/app.onnx and models/attribution.onnx,
 * and their model cards from the shared nDPI captures, in one command:
 *
 *   npm run build-models        (node dist/scripts/build-models.js [--threads N] [--keep DIR])
 *
 * Captures are extracted with nDPI's flow boundaries and joined with nDPI's
 * labels (scripts/models/ndpi-flows.ts), the training tables are chosen by
 * scripts/models/recipes.ts, models are trained with `train`'s own code (held
 * out: 20% of the flows as whole captures) and measured through onnxruntime.
 * Set SOURCE_DATE_EPOCH for byte-identical files.
 */
import '../agent/infer/ort-quiet.js';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES, registryHash } from '../agent/features/registry.js';
import { PROTOCOL_ONLY_APPS } from '../agent/label/labeler.js';
import { crossValidate, groupFolds } from '../agent/train/cross-validate.js';
import { computeMetrics, type Metrics } from '../agent/train/metrics.js';
import { trainModel } from '../agent/train/run-train.js';
import { UNKNOWN } from '../agent/train/split.js';
import { modelCard } from './models/card.js';
import { haveNdpiData, loadNdpiFlows, NDPI_DIR } from './models/ndpi-flows.js';
import { CV_FOLDS, RECIPES, type Recipe } from './models/recipes.js';
import { APP_MIN_CAPTURES, APP_MIN_FLOWS, appTable, writeTableCsv, type Table } from './models/tables.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const COMMAND = 'npm run build-models';

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

/** Top class and probability of each row through onnxruntime, the agent's runtime. */
async function predict(model: string, t: Table, rows: readonly number[]): Promise<{ label: string[]; top: number[] }> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const F = t.featureNames.length;
  const x = new Float32Array(rows.length * F);
  rows.forEach((r, i) => {
    for (let f = 0; f < F; f++) x[i * F + f] = t.x[f * t.nRows + r] as number;
  });
  const out = await s.run({ features: new ort.Tensor('float32', x, [rows.length, F]) });
  await s.release();
  const probs = out['probabilities']!.data as Float32Array;
  const C = probs.length / Math.max(1, rows.length);
  const top = rows.map((_, i) => Math.max(...probs.subarray(i * C, i * C + C)));
  return { label: [...(out['label']!.data as string[])], top };
}

function metricsOf(t: Table, rows: readonly number[], pred: readonly string[]): Metrics {
  return computeMetrics(rows.map((r) => t.classes[t.y[r] as number] as string), pred);
}

function classCaptures(t: Table): Record<string, number> {
  const caps = t.classes.map(() => new Set<number>());
  t.y.forEach((y, r) => caps[y]!.add(t.group[r]!));
  return Object.fromEntries(t.classes.map((c, i) => [c, caps[i]!.size]));
}

function perClassF1(m: Metrics, classes: readonly string[]): Record<string, number> {
  return Object.fromEntries(classes.map((c) => [c, Math.round((m.per_class[c]?.f1 ?? 0) * 1e4) / 1e4]));
}

async function build(rec: Recipe, t: Table, ctx: { work: string; threads: number; captures: number; cleartextApp: Table }): Promise<string> {
  // Quality first: every flow predicted by a model fitted without its capture.
  log(`${rec.kind}: cross-validating (${CV_FOLDS} folds by capture)`);
  const all = Int32Array.from({ length: t.nRows }, (_, i) => i);
  const cv = await crossValidate({ x: t.x, nRows: t.nRows, nFeatures: t.featureNames.length, y: t.y, classes: t.classes, group: t.group },
    groupFolds(t.nRows, all, t.group, CV_FOLDS, 1), CV_FOLDS, { ...rec.fit, threads: ctx.threads });
  const cvPred = [...all].map((r) => t.classes[cv.pred[r] as number] as string);
  const enc = [...all].filter((r) => t.encrypted[r] === 1);
  const cvAll = metricsOf(t, [...all], cvPred);
  const cvEnc = metricsOf(t, enc, enc.map((r) => cvPred[r]!));
  // Then the shipped model, fitted on every flow: with a few captures per class, holding a fifth
  // of them out would leave some classes one session to learn from.
  log(`${rec.kind}: training on all flows`);
  const csv = join(ctx.work, `${rec.kind}.csv`);
  writeTableCsv(t, csv, rec.label);
  const out = join(ROOT, 'models', `${rec.kind}.onnx`);
  const e = process.env['SOURCE_DATE_EPOCH'];
  const r4 = (v: number): number => Math.round(v * 1e4) / 1e4;
  const res = await trainModel({
    data: csv, source: `../shared/data/ndpi (${ctx.captures} captures, labels.csv) via scripts/build-models.ts`,
    label: rec.label, out, ...rec.fit, features: FEATURE_NAMES, minClassFlows: 1, rare: 'unknown', holdout: 0,
    groupBy: 'pcap', threads: ctx.threads, badRows: 'fail', infinity: 'bad', kind: rec.kind, registryHash: registryHash(),
    trainedAt: e !== undefined && /^\d+$/.test(e) ? new Date(Number(e) * 1000).toISOString() : new Date().toISOString(),
    producerVersion: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    externalMetrics: {
      method: `${CV_FOLDS}-fold cross-validation by capture (pcap) of this recipe; the model is then fitted on all rows`,
      rows: cvAll.rows, accuracy: r4(cvAll.accuracy), macro_f1: r4(cvAll.macro_f1), weighted_f1: r4(cvAll.weighted_f1),
      encrypted_rows: cvEnc.rows, encrypted_macro_f1: r4(cvEnc.macro_f1), per_class_f1: perClassF1(cvAll, t.classes),
    },
  });
  if (res.dataset.nRows !== t.nRows) throw new Error(`${csv}: ${t.nRows - res.dataset.nRows} rows were not loaded`);
  // The written file through onnxruntime must agree with the trainer on its own training flows.
  const fitted = await predict(out, t, [...all]);
  const trainAcc = metricsOf(t, [...all], fitted.label).accuracy;
  const bytes = readFileSync(out);
  const caps = classCaptures(t);
  const limits = rec.kind === 'app' ? await appLimits(out, ctx.cleartextApp, Object.keys(caps).filter((k) => caps[k]! <= 2)) : attributionLimits(t);
  const card = modelCard({
    meta: res.meta, leafTable: res.leafTable, file: `models/${rec.kind}.onnx`, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'),
    flowsText: rec.flowsText, captures: ctx.captures, tableRows: t.nRows, encryptedRows: enc.length, groups: t.groupNames.length,
    cv: cvAll, cvEncrypted: cvEnc, cvFolds: CV_FOLDS, trainAccuracy: trainAcc, classCaptures: caps,
    classNotes: rec.kind === 'app' ? appNotes() : attributionNotes(t), limits, command: COMMAND,
  });
  writeFileSync(join(ROOT, 'models', `${rec.kind}.md`), card);
  return `${rec.kind}: ${t.nRows} flows, ${t.classes.length} classes, ${(bytes.length / 1024).toFixed(0)} KiB; ` +
    `${CV_FOLDS}-fold CV by capture macro-F1 ${cvAll.macro_f1.toFixed(4)} (encrypted flows ${cvEnc.macro_f1.toFixed(4)})`;
}

function appNotes(): string[] {
  return [
    `Classes: nDPI's \`app\` of the encrypted flows, for apps with at least ${APP_MIN_FLOWS} encrypted flows in at least ${APP_MIN_CAPTURES} captures`,
    '(an app seen in one capture only cannot be measured on captures it was not trained on). Every other encrypted flow',
    `is \`${UNKNOWN}\`: rarer apps, and nDPI's protocol-only verdicts (${[...PROTOCOL_ONLY_APPS].map((a) => `\`${a}\``).join(', ')}) which name no app.`,
    'Cleartext flows are left out: adding them lowered macro-F1 on encrypted flows in cross-validation, as more examples',
    'of the same apps a little, as `unknown` a lot (0.18 -> 0.12 for boosted trees of 100 rounds, although 91% of cleartext flows',
    'were then called `unknown`); see scripts/models/recipes.ts and the limits below.',
  ];
}

function attributionNotes(t: Table): string[] {
  const n = (c: string): number => t.y.filter((y) => t.classes[y] === c).length;
  return [
    'Classes: the usage types of config/categories.yaml (app first, then nDPI category); flows that fit none of them',
    '(DNS, VPN tunnels, games, system protocols, ...) are left out rather than forced into a class.',
    `Flows per class: ${t.classes.map((c) => `\`${c}\` ${n(c)}`).join(', ')}.`,
    'Cleartext flows are included: a usage type shapes traffic (sizes, timing, direction) the same way with or without',
    'TLS, and they triple the file_transfer and voip examples; cross-validation macro-F1 on the encrypted flows rose with',
    'them (see scripts/models/recipes.ts).',
  ];
}

async function appLimits(model: string, cleartext: Table, fewCaptures: readonly string[]): Promise<string[]> {
  const rows = [...Array(cleartext.nRows).keys()].filter((r) => cleartext.encrypted[r] === 0);
  const p = await predict(model, cleartext, rows);
  const below = p.top.filter((v) => v < 0.5).length;
  return [
    'Trained on nDPI\'s short test captures: a few flows per app, from other networks and years. Expect your own traffic ' +
      'to differ; label it (`eta-sensor label`, SNI rules) and retrain for your network.',
    `Classes found in two captures only (${fewCaptures.join(', ')}) are learnt from one or two sessions; in ` +
      'cross-validation each was scored by a model that had seen just one, hence their F1 of 0.',
    `Cleartext traffic was never seen in training: of the ${rows.length} cleartext flows of the same captures, ` +
      `${below} (${((100 * below) / Math.max(1, rows.length)).toFixed(0)}%) get a top probability below 0.5 and are published as \`unknown\` at the ` +
      'default threshold (`infer.app.threshold`); the rest get an app they do not belong to.',
    'Labels are nDPI\'s verdicts, not ground truth: nDPI names CDN and cloud hosts by owner (Google, Amazon, Microsoft), ' +
      'so those classes mean "a flow to that company\'s servers" rather than one application.',
  ];
}

function attributionLimits(t: Table): string[] {
  const ft = t.y.filter((y, r) => t.classes[y] === 'file_transfer' && t.encrypted[r] === 1).length;
  return [
    'Trained on nDPI\'s short test captures: sessions are short, so long-lived behaviour (an hour of streaming, a large ' +
      'download) is represented by its first minutes at most.',
    `Few encrypted examples of some types (file_transfer: ${ft} encrypted flows); much of that class is cleartext ` +
      'peer-to-peer (Gnutella, BitTorrent) and HTTP downloads.',
    'The usage type is derived from the app and nDPI\'s category (config/categories.yaml), not observed: e.g. all ' +
      'generic TLS flows that nDPI files under "Web" count as browsing, API calls of mobile apps included.',
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, keep: { type: 'string' } } });
  if (!haveNdpiData()) {
    log(`build-models: ${NDPI_DIR} (labels.csv and pcap/) is absent; it holds the training data`);
    process.exitCode = 2;
    return;
  }
  const threads = values.threads ? Number(values.threads) : Math.min(2, availableParallelism());
  const work = values.keep ?? mkdtempSync(join(tmpdir(), 'eta-build-models-'));
  mkdirSync(work, { recursive: true });
  mkdirSync(join(ROOT, 'models'), { recursive: true });
  const t0 = Date.now();
  let last = 0;
  const data = await loadNdpiFlows(undefined, (done, total) => {
    if (Date.now() - last > 2000) {
      last = Date.now();
      log(`extracting and labelling: ${done}/${total} captures`);
    }
  });
  log(`${data.flows.length} labelled flows (${data.stats.unlabeled['no-match']} of ${data.extracted} extracted flows had no nDPI line), ` +
    `${data.failed.length} captures unreadable, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const cleartextApp = appTable(data.flows, { cleartext: 'all' });
  const lines: string[] = [];
  for (const rec of RECIPES) {
    log(`${rec.kind}: training`);
    lines.push(await build(rec, rec.table(data.flows), { work, threads, captures: data.captures - data.failed.length, cleartextApp }));
  }
  if (!values.keep) rmSync(work, { recursive: true, force: true });
  process.stdout.write(`${lines.join('\n')}\nwrote models/{app,attribution}.{onnx,md} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`build-models: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
