/** Runs the built `eta-sensor` binary as a user would, capturing its output. */
import { spawn } from 'node:child_process';

export const BIN = new URL('../../agent/cli.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
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
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [BIN, ...args];
    const env = { ...process.env, ...opts.env };
    const child = spawn(process.execPath, argv, { env, stdio: ['pipe', opts.stdoutFd ?? 'pipe', 'pipe'] });
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
