/** Timing helpers: run a command to completion, best of N wall times, peak memory. */
import { spawn, spawnSync } from 'node:child_process';

export interface Run {
  seconds: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The measured commands' environment: this process's, less NODE_EXTRA_CA_CERTS. This workplace's
 * machines set it (their proxy's CA bundle), and Node then parses every certificate in the bundle
 * before any script runs: 617 million instructions, 44% of a 200,000-packet extract's main thread
 * (callgrind), 124 ms against 41 ms for `node -e 0` (hyperfine). It is not the agent's cost (the
 * systemd unit starts it without), it was paid by every eta-sensor command measured and by no
 * reference (ndpiReader), and as a constant in both commands of a ratio it shrank the ratio's gap.
 */
export const BENCH_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS'));

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...BENCH_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code, stdout, stderr }));
  });
}

/** Best (shortest) of `n` runs: the machine is shared, the minimum is the least disturbed. */
export async function best(n: number, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  let b: Run | undefined;
  for (let i = 0; i < n; i++) {
    const r = await run(cmd, args, env);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-500)}`);
    if (!b || r.seconds < b.seconds) b = r;
  }
  return b!;
}

/**
 * n runs of each command, run in rounds, every other round in reverse order (a, b, c, c, b, a,
 * a, b, c, ...): runs[command][round]. On a shared machine the load drifts over minutes, and
 * commands measured one after the other compared different machines (a metadata cost of 8.6% and
 * then 43% within minutes, with the same code). Reversing the order every other round keeps a
 * drift within a round from always favouring the same command of a pair.
 */
export async function interleaved(n: number, cmds: ReadonlyArray<{ cmd: string; args: readonly string[] }>): Promise<Run[][]> {
  const runs: Run[][] = cmds.map(() => []);
  for (let i = 0; i < n; i++) {
    const order = [...cmds.entries()];
    if (i % 2 === 1) order.reverse();
    for (const [k, c] of order) {
      const r = await run(c.cmd, c.args);
      if (r.code !== 0) throw new Error(`${c.cmd} ${c.args.join(' ')} failed (${r.code}): ${r.stderr.slice(-500)}`);
      runs[k]!.push(r);
    }
  }
  return runs;
}

/** The object a command printed last on standard error (`--summary json`). */
export function jsonSummary<T>(r: Run): T {
  return JSON.parse(r.stderr.trim().split('\n').pop()!) as T;
}

/**
 * Round by round, the wall time of `base` over that of `runs` (the two ran next to each other in
 * time), sorted: on a shared machine these paired ratios hold steadier than a ratio of best runs.
 */
export function pairedRatios(base: readonly Run[], runs: readonly Run[]): number[] {
  return base.map((b, i) => b.seconds / runs[i]!.seconds).sort((a, b) => a - b);
}

/** The middle of sorted numbers (the upper one of an even count). */
export function middle(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The fastest of one command's runs. */
export function fastest(runs: readonly Run[]): Run {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export const CLI = new URL('../agent/cli.js', import.meta.url).pathname;
