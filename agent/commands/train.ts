/**
 * `eta-sensor train`: fit a tree ensemble on a labeled flow CSV and write it
 * as ONNX. Progress (trees, elapsed, ETA) goes to stderr when it is a
 * terminal; the summary goes to stdout. The model file is written atomically.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { usageError } from '../errors.js';
import { normalizeName, splitFeatureList } from '../lib/csv-cells.js';
import { repeatedNamesWarning } from '../lib/csv-header.js';
import { checkOutput, refuseInputAsOutput } from '../lib/output-file.js';
import { trainModel, type TrainOptions } from '../train/run-train.js';
import { intOpt, numOpt, optBool, optString, type Command, type CommandIO, type ParsedArgs } from './command.js';

const NAME = 'train';

function choice<T extends string>(args: ParsedArgs, name: string, values: readonly T[], def: T): T {
  const v = optString(args, name) ?? def;
  if (!(values as readonly string[]).includes(v)) throw usageError(`--${name} must be ${values.join(' or ')} (got "${v}")`, NAME);
  return v as T;
}

/** The columns left out, each with why; those --features did not pick are only counted (found by review: 200 names). */
function unused(excluded: ReadonlyArray<{ name: string; reason: string }>): string {
  const picked = excluded.filter((e) => e.reason !== 'not in --features');
  const notPicked = excluded.length - picked.length;
  return [...picked.map((e) => `${e.name} (${e.reason})`), ...(notPicked ? [`${notPicked} other column(s), not in --features`] : [])].join(', ') || 'none';
}

/** The file of `--features @file`, or undefined. */
function featureListFile(args: ParsedArgs): string | undefined {
  const s = optString(args, 'features');
  return s?.startsWith('@') ? s.slice(1) : undefined;
}

/** `--features a,b,c` or `--features @file` (names separated by commas or newlines; # comments). */
export function featureOpt(args: ParsedArgs, cmd = NAME): string[] | undefined {
  const s = optString(args, 'features');
  if (s === undefined) return undefined;
  let text = s;
  const file = featureListFile(args);
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw usageError(`cannot read the feature list ${file}: ${(e as Error).message}`, cmd);
    }
  }
  const list = splitFeatureList(text);
  if (list.length === 0) throw usageError('--features names no column', cmd);
  return list;
}

async function registryHash(args: ParsedArgs): Promise<string> {
  const given = optString(args, 'registry-hash');
  if (given !== undefined) return given;
  // The feature registry is another module's; use it when this build has it.
  const path = '../features/registry.js';
  try {
    const mod = (await import(path)) as { registryHash?: () => string };
    if (typeof mod.registryHash === 'function') return mod.registryHash();
  } catch {
    /* not in this build */
  }
  return 'none';
}

/** The options that apply to one learner only: given with the other, each would be silently ignored (found by review). */
const ONE_LEARNER: Readonly<Record<string, 'rf' | 'gbdt'>> = {
  'min-samples-leaf': 'rf', 'learning-rate': 'gbdt', 'early-stopping': 'gbdt', 'shared-trees': 'gbdt',
};
const LEARNER_NAMES = { rf: 'a random forest', gbdt: 'gradient boosting' } as const;

function refuseOtherLearners(args: ParsedArgs, algo: 'rf' | 'gbdt'): void {
  for (const [name, only] of Object.entries(ONE_LEARNER)) {
    const given = name === 'shared-trees' ? optBool(args, name) : optString(args, name) !== undefined;
    if (given && only !== algo) throw usageError(`--${name} applies to ${LEARNER_NAMES[only]}: ${only === 'gbdt' ? 'add --algo gbdt' : 'leave out --algo gbdt'}, or leave --${name} out`, NAME);
  }
}

function producerVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Training date: SOURCE_DATE_EPOCH (seconds) when set, for reproducible files; else now. */
function trainedAt(env: NodeJS.ProcessEnv): string {
  const e = env['SOURCE_DATE_EPOCH'];
  return e !== undefined && /^\d+$/.test(e) ? new Date(Number(e) * 1000).toISOString() : new Date().toISOString();
}

/** The progress line on a terminal, and end(), which finishes a line left open (early stopping ends before the last round). */
function progress(io: CommandIO): { onProgress?: TrainOptions['onProgress']; end(): void } {
  if (!io.stderr.isTTY) return { end: () => undefined };
  const start = Date.now();
  let fitStart = 0;
  let last = 0;
  // Each line is padded to the last one's length: "\r" alone left the end of a longer line showing.
  let shown = 0;
  const line = (text: string): void => {
    io.stderr.write(`\r${text.padEnd(shown)}`);
    shown = text.length;
  };
  const end = (): void => {
    if (shown > 0) io.stderr.write('\n');
    shown = 0;
  };
  const onProgress: TrainOptions['onProgress'] = (phase, done, total) => {
    // Said once each, not rate-limited: and they leave the limit alone, so the first tree's line still shows.
    if (phase === 'prepare') return line(`preparing ${done.toLocaleString('en')} rows for the first tree (binning, sorting)`);
    if (phase === 'holdout') return line(`scoring ${done.toLocaleString('en')} held-out rows`);
    const now = Date.now();
    if (now - last < 200 && done !== total) return;
    last = now;
    if (phase === 'load') {
      line(`reading: ${done.toLocaleString('en')} rows, ${((now - start) / 1000).toFixed(0)}s`);
      return;
    }
    if (fitStart === 0) fitStart = now;
    const el = (now - fitStart) / 1000;
    const eta = done > 0 ? (el / done) * (total - done) : 0;
    line(`training: ${done}/${total}${done === total ? '' : `  elapsed ${el.toFixed(0)}s  ETA ${eta.toFixed(0)}s`}`);
    if (done === total) end();
  };
  return { onProgress, end };
}

export const command: Command = {
  name: NAME,
  summary: 'train a tree-ensemble classifier on a labeled CSV and export ONNX',
  usage: 'eta-sensor train --data FILE --label COLUMN --out FILE.onnx [options]',
  description: `
Fits a random forest (default) or gradient-boosted trees on the numeric columns of a
flow CSV (ours, or CICFlowMeter/nfstream exports) and writes a standard ONNX model
(ai.onnx.ml TreeEnsembleClassifier; input "features", outputs "label", "probabilities")
whose metadata lists the feature names, classes and held-out metrics. Boosting with
--shared-trees over more than two classes is written as a leaf table with the same input
and outputs, which onnxruntime runs in half the instructions.

Columns: every numeric column except the label and group becomes a feature, unless its
name says it is flow identity (addresses, ports, timestamps, ids); --features picks them.
Bad cells (empty, NaN, Infinity, text) in a feature column skip the row (counted) or,
with --bad-rows fail, stop with the line and column. Infinity is a bad cell unless
--infinity clamp, which uses the largest float32 instead.
Held-out rows (--holdout) are whole captures when a group column exists (--group-by,
default "pcap" when present), as close to the share as their sizes allow and none
past 1.5 times it, unless every capture is larger: then the smallest is held out.
A class left with no training row is named.
Set SOURCE_DATE_EPOCH for byte-reproducible files.

Example: eta-sensor train --data labeled.csv --label app --out models/app.onnx --trees 200`,
  options: {
    data: { type: 'string', arg: 'FILE', doc: 'labeled flow CSV (required)' },
    label: { type: 'string', arg: 'COLUMN', doc: 'label column, e.g. app or category (required)' },
    out: { type: 'string', short: 'o', arg: 'FILE', doc: 'model to write, e.g. models/app.onnx (required)' },
    algo: { type: 'string', arg: 'rf|gbdt', doc: 'random forest or gradient boosting (default rf)' },
    trees: { type: 'string', arg: 'N', doc: 'rf: trees; gbdt: rounds, one tree per class each (one in all with --shared-trees) (default 100)' },
    'max-depth': { type: 'string', arg: 'N', doc: 'tree depth limit: rf 0 = none (its default), gbdt 1 or more (default 6)' },
    'min-samples-leaf': { type: 'string', arg: 'N', doc: 'rf: fewest rows in a leaf (default 1)' },
    'learning-rate': { type: 'string', arg: 'X', doc: 'gbdt: shrinkage (default 0.1)' },
    'early-stopping': { type: 'string', arg: 'N', doc: 'gbdt: stop after N rounds without gain on 10% of training rows (default 0: off)' },
    'shared-trees': { type: 'boolean', doc: 'gbdt: one tree per round that scores every class, not one per class: many classes cost far less to run (give it more rounds at a lower rate)' },
    features: { type: 'string', arg: 'a,b,c|@FILE', doc: 'feature columns in order (default: all numeric non-identity columns)' },
    'keep-identity': { type: 'boolean', doc: 'keep numeric identity columns (ports, timestamps, ids) as features' },
    'min-class-flows': { type: 'string', arg: 'N', doc: 'classes with fewer flows are rare (default 10)' },
    rare: { type: 'string', arg: 'unknown|drop', doc: 'rare classes become "unknown" or are dropped (default unknown)' },
    'class-weight': { type: 'string', arg: 'none|balanced', doc: 'weight classes inversely to their frequency (default none)' },
    seed: { type: 'string', arg: 'N', doc: 'random seed; the same seed, data and --data path give the same file when SOURCE_DATE_EPOCH is set (default 1)' },
    holdout: { type: 'string', arg: 'SHARE', doc: 'share of rows held out for metrics, 0 to 0.9 (default 0.2)' },
    'group-by': { type: 'string', arg: 'COLUMN', doc: 'hold out whole groups of this column; "none" to disable (default pcap if present)' },
    threads: { type: 'string', arg: 'N', doc: 'worker threads, at most the cores; does not change the result (default: all cores)' },
    'bad-rows': { type: 'string', arg: 'skip|fail', doc: 'a bad cell in a feature column skips the row or stops (default skip)' },
    infinity: { type: 'string', arg: 'bad|clamp', doc: 'Infinity is a bad cell, or clamped to the largest float32 (default bad)' },
    kind: { type: 'string', arg: 'NAME', doc: 'model kind in metadata: app, attribution or a custom name (default: the label)' },
    'registry-hash': { type: 'string', arg: 'HASH', doc: 'feature registry hash to record (default: this build\'s registry)' },
  },
  positionals: [0, 0],
  async run(args: ParsedArgs, io: CommandIO): Promise<number> {
    const required = (n: string): string => {
      const v = optString(args, n);
      if (v === undefined || v === '') throw usageError(`--${n} is required`, NAME);
      return v;
    };
    const label = required('label');
    const algo = choice(args, 'algo', ['rf', 'gbdt'] as const, 'rf');
    refuseOtherLearners(args, algo);
    const group = optString(args, 'group-by');
    if (group !== undefined && normalizeName(group) === normalizeName(label)) {
      // Whole classes would be held out, unseen in training: every held-out row would be wrong.
      throw usageError(`--group-by ${group} names the label column; give the column that tells captures apart (e.g. pcap), or none`, NAME);
    }
    // More threads than cores only share them, each a worker with its own heap: --threads 200 on 2
    // cores took 5.4 s and 1.8 GB for what the default did in 0.1 s (found by review).
    const cores = availableParallelism();
    const threads = intOpt(args, 'threads', cores, 1, NAME);
    if (threads > cores) io.stderr.write(`eta-sensor train: note: --threads ${threads} lowered to ${cores}, the cores this process may use\n`);
    const bar = progress(io);
    const opts: TrainOptions = {
      data: required('data'),
      label,
      out: required('out'),
      algo,
      trees: intOpt(args, 'trees', 100, 1, NAME),
      // 0 (no limit) is a forest's setting; a boosted tree needs one (it silently became 6: found by review).
      maxDepth: optString(args, 'max-depth') === undefined ? undefined : intOpt(args, 'max-depth', 0, algo === 'gbdt' ? 1 : 0, NAME),
      minSamplesLeaf: intOpt(args, 'min-samples-leaf', 1, 1, NAME),
      learningRate: numOpt(args, 'learning-rate', 0.1, 1e-6, 1, NAME),
      earlyStopping: intOpt(args, 'early-stopping', 0, 0, NAME),
      sharedTrees: optBool(args, 'shared-trees'),
      features: featureOpt(args),
      keepIdentity: optBool(args, 'keep-identity'),
      minClassFlows: intOpt(args, 'min-class-flows', 10, 1, NAME),
      rare: choice(args, 'rare', ['unknown', 'drop'] as const, 'unknown'),
      classWeight: choice(args, 'class-weight', ['none', 'balanced'] as const, 'none'),
      seed: intOpt(args, 'seed', 1, 0, NAME),
      holdout: numOpt(args, 'holdout', 0.2, 0, 0.9, NAME),
      groupBy: group === undefined ? undefined : group === 'none' ? null : group,
      threads: Math.min(threads, cores),
      badRows: choice(args, 'bad-rows', ['skip', 'fail'] as const, 'skip'),
      infinity: choice(args, 'infinity', ['bad', 'clamp'] as const, 'bad'),
      kind: optString(args, 'kind') ?? label,
      registryHash: await registryHash(args),
      trainedAt: trainedAt(io.env),
      producerVersion: producerVersion(),
      ...(bar.onProgress ? { onProgress: bar.onProgress } : {}),
      signal: io.signal,
    };
    // Every file read, not only the data: a feature list written over by the model is lost (found by review).
    for (const input of [opts.data, featureListFile(args)]) if (input !== undefined) refuseInputAsOutput(input, opts.out);
    checkOutput(opts.out);
    const t0 = Date.now();
    const res = await trainModel(opts).finally(() => bar.end());
    const rep = res.dataset.report;
    const d = res.meta.data;
    // Rows of labels --rare drop left out: the rows line did not add up without them (found by review: 395 of 2261).
    const dropped = rep.rowsRead - (d?.rows_used ?? 0) - rep.rowsSkipped - rep.unlabeled;
    const lines = [
      `wrote ${opts.out} (${(res.modelBytes / 1024).toFixed(0)} KiB, ${algo}, ${res.trees} trees) in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
      `rows: ${rep.rowsRead} read, ${d?.rows_used ?? 0} used (${d?.train_rows} train, ${d?.holdout_rows} held out` +
        `${res.dataset.groupColumn ? ` by ${res.dataset.groupColumn}` : ''}), ${rep.rowsSkipped} skipped for bad cells, ` +
        `${rep.unlabeled} unlabeled${dropped > 0 ? `, ${dropped} of rare labels dropped` : ''}${rep.clamped ? `, ${rep.clamped} infinite cells clamped` : ''}`,
      ...Object.entries(rep.skippedBy).map(([c, n]) => `  skipped for "${c}": ${n}`),
      ...rep.examples.map((e) => `  e.g. ${e}`),
      ...repeatedNamesWarning(rep.repeatedNames),
      `features: ${res.meta.features.length}; not used: ${unused(rep.excluded)}`,
      `classes: ${res.meta.classes.length}${d && d.rare_labels.length ? ` (${d.rare_labels.length} rare labels ${opts.rare === 'unknown' ? 'merged into "unknown"' : 'dropped'})` : ''}`,
      res.holdout
        ? `held out: accuracy ${res.holdout.accuracy.toFixed(4)}, macro-F1 ${res.holdout.macro_f1.toFixed(4)}, weighted-F1 ${res.holdout.weighted_f1.toFixed(4)} on ${res.holdout.rows} rows`
        : `held out: nothing (${opts.holdout === 0 ? '--holdout 0'
          : res.dataset.groupColumn && res.dataset.groupNames.length <= 1
            ? `every row has the same ${res.dataset.groupColumn}, and at least one ${res.dataset.groupColumn} is kept for training; --group-by none holds out rows instead`
            : res.dataset.groupColumn
              ? `the rows used all come from one ${res.dataset.groupColumn}, and it is kept for training; --group-by none holds out rows instead`
              : 'too few rows to hold any out'})`,
    ];
    // Whole captures are held out: the share can differ from the one asked; say so when it does by much.
    const heldShare = d && d.rows_used > 0 ? d.holdout_rows / d.rows_used : 0;
    if (res.holdout && res.dataset.groupColumn && Math.abs(heldShare - opts.holdout) > 0.1) {
      lines.push(`note: ${(heldShare * 100).toFixed(0)}% of the rows held out for the ${(opts.holdout * 100).toFixed(0)}% asked: whole ${res.dataset.groupColumn} values are held out, and their sizes do not add up to the share asked`);
    }
    // A class whose every row was held out: the model never predicts it, and said only in the metadata.
    const untrained = Object.entries(d?.class_counts ?? {}).filter(([, n]) => n === 0).map(([c]) => c);
    if (res.holdout && untrained.length > 0) {
      lines.push(`note: no training rows for ${untrained.join(', ')} (all held out with their ${res.dataset.groupColumn ?? 'rows'}): the model never predicts ${untrained.length > 1 ? 'them' : 'it'}; `
        + '--holdout 0 trains on every row');
    }
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  },
};
