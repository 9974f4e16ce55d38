/** Runs the built `eta-sensor` binary as a user would, capturing its output. */
import { spawn } from 'node:child_process';

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
