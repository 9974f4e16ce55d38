/**
 * `eta-sensor label`: join the flows of `extract` with labels (a labels file
 * of flows keyed by 5-tuple, and/or SNI rules) into the labelled CSV that
 * `train` reads.
 */
import { fileURLToPath } from 'node:url';
import { usageError } from '../errors.js';
import { loadCategories } from '../label/categories.js';
import { loadFlowLabels, pcapName } from '../label/flow-labels.js';
import { Labeler } from '../label/labeler.js';
import { buildReport, reportText } from '../label/report.js';
import { runLabel } from '../label/run-label.js';
import { loadSniRules } from '../label/sni-rules.js';
import { checkOutput, refuseInputAsOutput } from '../lib/output-file.js';
import { Progress } from '../lib/progress.js';
import { optBool, optOutput, optString, type Command } from './command.js';

const NAME = 'label';

/** The shipped mapping of apps and categories to usage types. */
export const DEFAULT_CATEGORIES = fileURLToPath(new URL('../../../config/categories.yaml', import.meta.url));

export const command: Command = {
  name: NAME,
  summary: 'label extracted flows from a labels file (5-tuple) or SNI rules, for training',
  usage: 'eta-sensor label <flows.csv|-> --labels FILE and/or --sni-rules FILE [-o FILE] [options]',
  description: `
Reads the CSV written by \`eta-sensor extract\` and appends the columns app and
category (the usage type: streaming, file_transfer, voip, browsing, chat; empty
when the app fits none, which leaves the flow out of attribution training).

--labels: a CSV of flows keyed by 5-tuple (nDPI's labels.csv layout: src_ip,
src_port, dst_ip, dst_port, l4 or proto, app and/or category; optional pcap,
c2s_pkts, s2c_pkts, encrypted). A flow matches in either orientation. When the
labels file has a pcap column, give --pcap (or have a pcap column in the flows)
so that flows are joined with the lines of their own capture.

--sni-rules: a YAML file mapping server names (exact, .suffix, glob, /regex/)
to apps; the most specific rule wins (see config/sni-rules.example.yaml).
With both, the labels file comes first and the rules label what it does not.

A report (flows per rule, unlabelled SNIs, apps, usage types) goes to standard
output, or to standard error when the rows do.

Examples:
  eta-sensor label flows.csv --labels labels.csv --pcap trace.pcap -o labeled.csv
  eta-sensor label flows.csv --sni-rules my-rules.yaml --dry-run
  eta-sensor train --data labeled.csv --label app --out models/app.onnx`,
  positionals: [1, 1],
  options: {
    labels: { type: 'string', arg: 'FILE', doc: 'CSV of labelled flows keyed by 5-tuple (nDPI labels.csv layout)' },
    'sni-rules': { type: 'string', arg: 'FILE', doc: 'YAML rules mapping server names to apps' },
    pcap: { type: 'string', arg: 'NAME', doc: 'capture the flows come from: join only with its lines of --labels' },
    output: { type: 'string', short: 'o', arg: 'FILE', doc: 'write labelled rows to FILE; without -o, or with -o -, they go to standard output' },
    unlabeled: { type: 'string', arg: 'drop|unknown', doc: 'unlabelled flows are dropped or kept with app "unknown" (default drop)' },
    'encrypted-only': { type: 'boolean', doc: 'leave unlabelled the flows --labels marks as not encrypted' },
    categories: { type: 'string', arg: 'FILE', doc: 'apps and categories to usage types (default: config/categories.yaml)' },
    top: { type: 'string', arg: 'N', doc: 'unlabelled SNIs listed in the report (default 20)' },
    'dry-run': { type: 'boolean', doc: 'label and report, write nothing' },
    json: { type: 'boolean', doc: 'print the report as one JSON object' },
  },
  async run(args, io) {
    const input = args.positionals[0]!;
    const labelsPath = optString(args, 'labels');
    const rulesPath = optString(args, 'sni-rules');
    if (!labelsPath && !rulesPath) throw usageError('give --labels FILE and/or --sni-rules FILE', NAME);
    const unlabeled = optString(args, 'unlabeled') ?? 'drop';
    if (unlabeled !== 'drop' && unlabeled !== 'unknown') throw usageError(`--unlabeled must be drop or unknown (got "${unlabeled}")`, NAME);
    const topText = optString(args, 'top') ?? '20';
    const top = Number(topText);
    if (!Number.isInteger(top) || top < 0) throw usageError(`--top must be an integer >= 0 (got "${topText}")`, NAME);
    const dryRun = optBool(args, 'dry-run');
    const outPath = optOutput(args);
    const pcap = optString(args, 'pcap');
    if (outPath !== undefined && !dryRun) checkOutput(outPath); // a folder that cannot be made or written, before any work
    const categoriesPath = optString(args, 'categories');
    // Every file read: a categories file written over by the rows was lost too (found by review).
    for (const from of [input, labelsPath, rulesPath, categoriesPath]) if (from !== undefined) refuseInputAsOutput(from, outPath);

    // Rule and category files are checked before any flow is read.
    const categories = await loadCategories(categoriesPath ?? DEFAULT_CATEGORIES);
    const rules = rulesPath ? await loadSniRules(rulesPath) : undefined;
    const flows = labelsPath ? await loadFlowLabels(labelsPath) : undefined;
    if (pcap !== undefined && flows?.hasPcap && !flows.pcaps.has(pcapName(pcap))) {
      const near = [...flows.pcaps].filter((p) => p.toLowerCase().includes(pcapName(pcap).replace(/\.pcapng?$/i, '').toLowerCase())).slice(0, 5);
      throw usageError(`no line of ${labelsPath} is for the capture "${pcapName(pcap)}"${near.length ? ` (similar: ${near.join(', ')})` : ''}`, NAME);
    }
    if (pcap === undefined && flows?.hasPcap && flows.pcaps.size > 1) {
      // Without a capture to join per, a 5-tuple reused across captures may take another capture's label.
      io.stderr.write(`eta-sensor label: warning: ${labelsPath} holds flows of ${flows.pcaps.size} captures and no --pcap was given: `
        + 'flows without a pcap column of their own are joined with the lines of any capture (give --pcap NAME)\n');
    }
    const labeler = new Labeler({ flows, rules, categories, encryptedOnly: optBool(args, 'encrypted-only') });
    const toStdout = !dryRun && outPath === undefined;
    // 16 s of silence for 220,000 rows before (found by review): a line on a terminal, as train has.
    const bar = new Progress(io.stderr);
    const run = await runLabel({
      input, output: dryRun ? null : outPath ?? io.stdout, pcap, labeler,
      unlabeled, onProgress: (n) => bar.update(undefined, `labelling: ${n.toLocaleString('en')} rows`), signal: io.signal,
    }).finally(() => bar.done());
    if (run.stopped) {
      io.stderr.write(`eta-sensor label: stopped after ${run.rowsRead} rows, before the end of ${input}`
        + `${outPath !== undefined && !dryRun ? `; ${outPath} was left as it was` : ''}\n`);
      return 130;
    }
    const report = buildReport({ input, output: dryRun ? null : outPath ?? null, stats: labeler.stats, run, unlabeled, flows, rules, top });
    const sink = toStdout ? io.stderr : io.stdout;
    sink.write(optBool(args, 'json') ? `${JSON.stringify(report)}\n` : reportText(report, dryRun));
    return 0;
  },
};
