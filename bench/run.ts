/**
 * `npm run bench`: every benchmark section, each measuring eta-sensor and the
 * reference tool in the same run on the same input, printed as ratios.
 * Options: --quick (smaller inputs), --only extract,memory,...
 * Results also go to dist/bench/out/results.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OUT } from './captures.js';
import { extractBench, memoryBench, floodBench } from './flows.js';
import { agentBench } from './agent.js';
import type { BenchFn, BenchRow, BenchSection } from './types.js';

const SECTIONS: Record<string, () => Promise<BenchFn>> = {
  extract: async () => extractBench,
  memory: async () => memoryBench,
  train: async () => ((await import(new URL('./train.js', import.meta.url).href)) as { trainBench: BenchFn }).trainBench,
  agent: async () => agentBench,
  flood: async () => floodBench,
};

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

function table(s: BenchSection): string {
  const rows = s.rows.map((r: BenchRow) => {
    const ratio = r.reference && r.reference.value > 0
      ? (r.higherIsBetter === false ? r.reference.value / r.value : r.value / r.reference.value) : undefined;
    return [r.name, `${fmt(r.value)} ${r.unit}`, r.reference ? `${fmt(r.reference.value)} (${r.reference.name})` : '',
      ratio !== undefined ? `${ratio.toFixed(2)}x` : '', r.target ?? '', r.met === undefined ? '' : r.met ? 'met' : 'NOT MET'];
  });
  const head = ['measure', 'eta-sensor', 'reference', 'ratio', 'target', ''];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [`## ${s.title}`, line(head), ...rows.map(line), ...s.notes.map((n) => `  ${n}`), ''].join('\n');
}

const HELP = `Usage: npm run bench -- [--quick] [--only SECTION,...]
       node dist/bench/run.js [--quick] [--only SECTION,...]

Measures eta-sensor and the reference tools (ndpiReader, scikit-learn, XGBoost) in the same
run on the same inputs and prints each figure with its ratio and the issue's target.
Sections: ${Object.keys(SECTIONS).join(', ')} (all by default; a full run takes tens of minutes).

Options:
  --quick            smaller inputs and fewer repetitions (a smoke run, not figures to quote)
  --only A,B         run these sections only
  -h, --help         show this help
`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const quick = args.quick === true;
  const only = args.only ? args.only.split(',') : Object.keys(SECTIONS);
  mkdirSync(OUT, { recursive: true });
  const results: BenchSection[] = [];
  console.log(`eta-sensor benchmarks (${new Date().toISOString()}, node ${process.version}, ${quick ? 'quick' : 'full'})\n`);
  for (const name of only) {
    const load = SECTIONS[name];
    if (!load) {
      console.error(`unknown section ${name}; sections: ${Object.keys(SECTIONS).join(', ')}`);
      process.exitCode = 2;
      return;
    }
    let section: BenchSection;
    try {
      section = await (await load())({ quick, outDir: OUT });
    } catch (e) {
      section = { title: name, rows: [], notes: [`failed: ${(e as Error).stack ?? String(e)}`] };
    }
    results.push(section);
    console.log(table(section));
  }
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
}

void main();
