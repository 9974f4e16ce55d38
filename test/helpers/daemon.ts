/** `eta-sensor run` as a child process for live tests: its output gathered, and a wait on it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { BIN, cliEnv } from './cli.js';

export interface Daemon {
  child: ChildProcess;
  /** Standard output so far (records, with publish.sink stdout). */
  out(): string;
  /** Standard error so far (the log, with publish.sink stdout). */
  log(): string;
  /** Resolves when ok() holds, checked every 50 ms; throws after 15 s, with the log. */
  until(what: string, ok: () => boolean): Promise<void>;
}

export function startDaemon(args: readonly string[], env: Record<string, string> = {}): Daemon {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { env: { ...cliEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  return {
    child,
    out: () => out,
    log: () => log,
    until: async (what, ok) => {
      for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!ok()) throw new Error(`timed out waiting for ${what}; log: ${log}`);
    },
  };
}

/** One UDP datagram from 127.0.0.1:sport to 127.0.0.1:port: one flow on lo. */
export async function udpFrom(sport: number, port: number, size = 64): Promise<void> {
  const s = createSocket('udp4').bind(sport, '127.0.0.1');
  await once(s, 'listening');
  await new Promise((r) => s.send(Buffer.alloc(size), port, '127.0.0.1', r));
  s.close();
}
