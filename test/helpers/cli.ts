/** Runs the built `eta-sensor` binary as a user would, capturing its output. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const BIN = new URL('../../agent/cli.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for the eta-sensor binary run as a user would: the test's own, without the
 * loaders tap puts in NODE_OPTIONS (its TypeScript and process-info hooks). In the inference
 * worker threads those hooks made node 20 abort now and then on an assertion while loading
 * modules (CreateRequiredModuleFacade, seen in CI and locally), a crash of tap's making.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (extra['NODE_OPTIONS'] === undefined) delete env['NODE_OPTIONS'];
  return env;
}

export interface CliOptions {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * A file descriptor to give the child as its standard output instead of a pipe (a file opened
   * read-only makes every write fail with EBADF: a failing sink that needs no special device).
   */
  stdoutFd?: number;
  /** The working directory (default: the test's). */
  cwd?: string;
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [BIN, ...args];
    const env = cliEnv(opts.env);
    const child = spawn(process.execPath, argv, { env, stdio: ['pipe', opts.stdoutFd ?? 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** CPU ticks (user + system, all threads) of a process so far; undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/**
 * Resolves once the process has started (it catches SIGINT, cli.ts's first act) and then used no
 * CPU for `quietMs`: it waits on its input. Tests that signal a child "while it waits" used to
 * sleep a fixed 1.5 s, which a loaded machine (a CI run beside other work) outran: the child was
 * still loading, or still reading what it had been sent. Gives up after `limitMs` (the test's
 * assertions then say what went wrong).
 */
export async function untilIdle(pid: number, quietMs = 400, limitMs = 30_000): Promise<void> {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const catchesSigint = (): boolean => {
    try {
      const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return caught !== undefined && (BigInt(`0x${caught}`) & 2n) !== 0n; // bit 1: signal 2, SIGINT
    } catch {
      return false;
    }
  };
  const until = Date.now() + limitMs;
  while (!catchesSigint() && Date.now() < until) await sleep(20);
  let last = cpuTicks(pid);
  let quietSince = Date.now();
  while (last !== undefined && Date.now() < until) {
    await sleep(50);
    const now = cpuTicks(pid);
    if (now !== last) quietSince = Date.now();
    else if (Date.now() - quietSince >= quietMs) return;
    last = now;
  }
}

/** Runs the CLI with `args` (which write to the named pipe `fifo`) while `cat` reads the pipe: the run, and what the reader got. */
export async function runCliIntoFifo(args: readonly string[], fifo: string): Promise<{ r: CliResult; got: string }> {
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
  let got = '';
  reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
  const read = new Promise((resolve) => reader.on('close', resolve));
  const r = await runCli(args);
  await read;
  return { r, got };
}
