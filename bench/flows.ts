/**
 * Flow-meter benchmarks (issue: flow meter, reliability):
 * - extract: packets/s on a >= 1M-packet capture built from the shared
 *   captures, against Debian's `ndpiReader -q -i` on the same file; and the
 *   cost of handshake metadata (must stay within 10%);
 * - memory: peak memory per concurrent flow with 1M flows alive (<= 1 KiB);
 * - flood: 5M one-packet flows through a 100k flow cap: memory stays bounded.
 */
import { concurrentCapture, floodCapture, replicatedCapture } from './captures.js';
import { CLI, fastest, have, interleaved, jsonSummary, middle, pairedRatios, run, type Run } from './measure.js';
import type { BenchFn, BenchRow } from './types.js';

interface Summary { frames: number; rows: number; maxRssKiB: number; cpuSeconds: number; flowsEnded: Record<string, number> }

const summary = (r: Run): Summary => jsonSummary<Summary>(r);

interface ExtractRun { rows: BenchRow[]; notes: string[] }

/** extract with and without metadata, and ndpiReader, on one capture; best of n wall times, run in rounds. */
async function measureExtract(path: string, n: number, label: string): Promise<ExtractRun> {
  const notes: string[] = [];
  const withNdpi = have('ndpiReader');
  if (!withNdpi) notes.push('ndpiReader not installed (apt-get install libndpi-bin): no reference column');
  const runs = await interleaved(n, [
    { cmd: process.execPath, args: [CLI, 'extract', path, '-o', '/dev/null', '--summary', 'json'] },
    { cmd: process.execPath, args: [CLI, 'extract', path, '-o', '/dev/null', '--summary', 'json', '--set', 'meta.enabled=false'] },
    ...(withNdpi ? [{ cmd: 'ndpiReader', args: ['-q', '-i', path] }] : []),
  ]);
  const [ours, noMeta, ref] = runs.map(fastest);
  const s = summary(ours!);
  const pps = s.frames / ours!.seconds;
  const ppsNoMeta = s.frames / noMeta!.seconds;
  const ndpi = ref ? { name: 'ndpiReader -q', value: s.frames / ref.seconds } : undefined;
  // The throughput lost, round by round (the two runs next to each other in time), median: a ratio
  // of best runs moved by several points with one lucky run on either side (found by review).
  const metaCost = 1 - middle(pairedRatios(runs[1]!, runs[0]!));
  const metaCostBest = 1 - pps / ppsNoMeta;
  // The CPU the metadata costs (all threads), paired and its median as the wall time's: what it
  // takes from a gateway whose cores are busy anyway. The least of each side's runs once read 28.7%
  // where the rounds' median wall time said 13.2%: one run without metadata had drawn a quiet moment.
  const cpu = (rs: Run[]): number[] => rs.map((r) => summary(r).cpuSeconds);
  const [cpuOn, cpuOff] = [cpu(runs[0]!), cpu(runs[1]!)];
  const metaCpuCost = 1 - middle(cpuOff.map((off, i) => off / cpuOn[i]!).sort((a, b) => a - b));
  const rows: BenchRow[] = [
    { name: `extract (CSV out)${label}`, value: pps, unit: 'pkt/s', higherIsBetter: true, ...(ndpi ? { reference: ndpi, target: 'ratio >= 1.0', met: pps >= ndpi.value } : {}) },
    { name: `extract, metadata off${label}`, value: ppsNoMeta, unit: 'pkt/s', higherIsBetter: true, ...(ndpi ? { reference: ndpi } : {}) },
  ];
  rows.push({ name: `cost of handshake metadata${label}, throughput lost, median of ${runs[0]!.length} paired rounds`, value: metaCost * 100, unit: '%', target: '<= 10%', met: metaCost <= 0.1 });
  rows.push({ name: `  same, from the best runs`, value: metaCostBest * 100, unit: '%' });
  rows.push({ name: `cost of handshake metadata in CPU time (all threads)${label}, median of the rounds`, value: metaCpuCost * 100, unit: '%', higherIsBetter: false });
  notes.push(`${label ? label.trim() + ': ' : ''}${path} (${s.frames.toLocaleString('en-US')} packets), ${s.rows.toLocaleString('en-US')} flows written as CSV to /dev/null`);
  return { rows, notes };
}

export const extractBench: BenchFn = async (ctx) => {
  // 9 rounds: on this project's shared 2-core machines one round's cost of metadata ranged from 7%
  // to 18% in six rounds in a row, and the median of 5 read 8.9% and 13.2% at 1M packets, same extract code.
  const n = ctx.quick ? 1 : 9;
  const { path } = await replicatedCapture(ctx.quick ? 200_000 : 1_000_000);
  const main = await measureExtract(path, n, '');
  const rows = [...main.rows];
  const notes = ['every Ethernet capture of ../shared/data/ndpi replayed with shifted times; wall time of the whole command, best of ' + n + ', the three commands run in turn', ...main.notes];
  if (!ctx.quick) {
    // The same traffic four times over: start-up (Node, modules, V8 compiling the hot code) weighs
    // ~0.3 s in a 1 s run; a gateway runs for days, so the sustained rate is shown as well.
    const big = await replicatedCapture(4_000_000, 'replicated-4m.pcap');
    // The metadata's cost is judged here too: start-up, the same with and without it, weighs ~0.3 s
    // in the 1M run and dilutes the cost there (found by review).
    const sustained = await measureExtract(big.path, n, ' [4M packets]');
    rows.push(...sustained.rows);
    notes.push(...sustained.notes);
  }
  return { title: 'extract: packets per second', rows, notes };
};

export const memoryBench: BenchFn = async (ctx) => {
  const flows = ctx.quick ? 200_000 : 1_000_000;
  const path = concurrentCapture(flows);
  const r = await run(process.execPath, [CLI, 'extract', path, '-o', '/dev/null', '--summary', 'json', '--set', `flows.max_flows=${flows + 1000}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  const s = summary(r);
  // The same command on a tiny capture: what the process needs before any flow.
  const empty = concurrentCapture(1);
  const base = summary(await run(process.execPath, [CLI, 'extract', empty, '-o', '/dev/null', '--summary', 'json', '--set', `flows.max_flows=${flows + 1000}`]));
  concurrentCapture(flows); // leave the big one for a rerun
  const perFlow = (s.maxRssKiB * 1024) / flows;
  const perFlowNet = ((s.maxRssKiB - base.maxRssKiB) * 1024) / flows;
  return {
    title: `memory: ${flows.toLocaleString('en-US')} concurrent flows`,
    rows: [
      { name: 'peak RSS / concurrent flows', value: perFlow, unit: 'B/flow', higherIsBetter: false, target: '<= 1024 B/flow', met: perFlow <= 1024 },
      { name: 'peak RSS above an empty run / flows', value: perFlowNet, unit: 'B/flow', higherIsBetter: false },
      { name: 'peak RSS', value: s.maxRssKiB / 1024, unit: 'MiB', higherIsBetter: false },
    ],
    notes: [`${flows.toLocaleString('en-US')} distinct TCP flows (one SYN each) all alive when the capture ends, then ended as forced and written out; empty run peak ${Math.round(base.maxRssKiB / 1024)} MiB`],
  };
};

export const floodBench: BenchFn = async (ctx) => {
  const flows = ctx.quick ? 1_000_000 : 5_000_000;
  const cap = 100_000;
  const path = floodCapture(flows, 60);
  const r = await run(process.execPath, [CLI, 'extract', path, '-o', '/dev/null', '--summary', 'json', '--set', `flows.max_flows=${cap}`]);
  if (r.code !== 0) throw new Error(r.stderr);
  const s = summary(r);
  const budgetMiB = 400;
  return {
    title: `flood: ${flows.toLocaleString('en-US')} one-packet flows through a ${cap.toLocaleString('en-US')} flow cap`,
    rows: [
      { name: 'peak RSS', value: s.maxRssKiB / 1024, unit: 'MiB', higherIsBetter: false, target: `<= ${budgetMiB} MiB`, met: s.maxRssKiB / 1024 <= budgetMiB },
      { name: 'flows evicted (counted)', value: s.flowsEnded['evicted'] ?? 0, unit: 'flows' },
      { name: 'throughput', value: s.frames / r.seconds, unit: 'pkt/s', higherIsBetter: true },
    ],
    notes: ['a SYN flood from distinct sources over 60 s of capture time; every flow is accounted for: evicted or ended'],
  };
};
