/** Runs fixtures/publisher.js as a child process; SIGKILLed in teardown if still alive. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PublisherEvent, PublisherSpec } from '../fixtures/publisher.js';

interface Teardown { teardown(fn: () => unknown): void }

const script = fileURLToPath(new URL('../fixtures/publisher.js', import.meta.url));

export interface PublisherProcess {
  readonly child: ChildProcess;
  readonly events: PublisherEvent[];
  /** Highest `upTo` reported: records below it were accepted by the sink. */
  written(): number;
  stderr(): string;
  waitFor(pred: (e: PublisherEvent) => boolean, timeoutMs: number, what: string): Promise<PublisherEvent>;
  kill(): Promise<void>;
  close(): Promise<Record<string, unknown>>;
}

/** The environment without the test runner's own settings (a child is not a tap test). */
export function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TAP|_TAPJS|NODE_OPTIONS$)/.test(k)));
}

export function runPublisher(t: Teardown, spec: PublisherSpec): PublisherProcess {
  const child = fork(script, [], {
    env: { ...childEnv(), ETA_TEST_PUBLISHER: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: ['--enable-source-maps'],
  });
  const events: PublisherEvent[] = [];
  const listeners = new Set<(e: PublisherEvent) => void>();
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdout?.resume();
  child.on('message', (m) => {
    const e = m as PublisherEvent;
    events.push(e);
    for (const l of [...listeners]) l(e);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const p: PublisherProcess = {
    child, events,
    written: () => events.reduce((m, e) => (e.kind === 'written' ? Math.max(m, e.upTo) : m), 0),
    stderr: () => stderr,
    waitFor(pred, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const found = events.find(pred);
        if (found) return resolve(found);
        const l = (e: PublisherEvent): void => { if (pred(e)) { done(); resolve(e); } };
        const onExit = (): void => { done(); reject(new Error(`publisher exited while waiting for ${what}:\n${stderr}`)); };
        const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${stderr}`)); }, timeoutMs);
        const done = (): void => { listeners.delete(l); clearTimeout(timer); child.off('exit', onExit); };
        listeners.add(l);
        child.once('exit', onExit);
      });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
    async close() {
      child.send('close');
      const e = await p.waitFor((x) => x.kind === 'closed', 10_000, 'close');
      await exited;
      return (e as { stats: Record<string, unknown> }).stats;
    },
  };
  return p;
}
