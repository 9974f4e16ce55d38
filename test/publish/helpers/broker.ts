/**
 * A private Mosquitto for tests that stop, restart or reconfigure a broker (the shared one
 * on 127.0.0.1:1883 is left alone). Listens on a free port of 127.0.0.1; killed in teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir } from './tmp.js';

interface Teardown { teardown(fn: () => unknown): void }

export const SHARED_BROKER = 'mqtt://127.0.0.1:1883';

export interface BrokerOptions {
  /** TLS listener: PEM paths. */
  readonly tls?: { ca: string; cert: string; key: string; requireClientCert?: boolean };
  /** mosquitto_passwd file; anonymous access is then refused. */
  readonly passwordFile?: string;
  /** Keep sessions and queued messages across a stop/start (saved on a clean stop). */
  readonly persistence?: boolean;
  /** More mosquitto.conf lines (limits, say). */
  readonly extra?: readonly string[];
}

export interface Broker {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  start(): Promise<void>;
  /** SIGTERM and wait for exit (mosquitto saves its database then, if persistent). */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a broker that keeps its connections but answers nothing. */
  freeze(): void;
  thaw(): void;
  log(): string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startBroker(t: Teardown, opts: BrokerOptions = {}): Promise<Broker> {
  const dir = tempDir(t, 'eta-mosquitto-');
  const port = await freePort();
  const lines = [
    // Started as root, mosquitto would switch to its own user, which cannot write our temp dir.
    `user ${os.userInfo().username}`,
    `listener ${port} 127.0.0.1`,
    opts.passwordFile ? `password_file ${opts.passwordFile}` : 'allow_anonymous true',
    opts.passwordFile ? 'allow_anonymous false' : '',
    `persistence ${opts.persistence ? 'true' : 'false'}`,
    `persistence_location ${dir}/`,
    'autosave_interval 3600',
    // Queue without limit for a subscriber that is briefly away: loss must come from us, not the broker.
    'max_queued_messages 0',
    'max_inflight_messages 0',
    `log_dest file ${path.join(dir, 'mosquitto.log')}`,
    'log_type all',
    ...(opts.extra ?? []),
  ];
  if (opts.tls) {
    lines.push(`cafile ${opts.tls.ca}`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`,
      `require_certificate ${opts.tls.requireClientCert ? 'true' : 'false'}`);
  }
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, lines.filter(Boolean).join('\n') + '\n');
  let child: ChildProcess | undefined;
  const broker: Broker = {
    port, dir,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      // Started when its own log says "running": after a stop, another test's broker may have
      // taken the port, and waiting for the port alone then went on with that one (the last-will
      // test once read another broker's will). That mosquitto exits: "Address already in use".
      const runs = (): number => broker.log().split(' running\n').length;
      const before = runs();
      const c = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let stderr = '';
      c.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      c.once('exit', () => { if (child === c) child = undefined; });
      try {
        const deadline = Date.now() + 5000;
        while (runs() === before) {
          if (c.exitCode !== null || Date.now() > deadline) throw new Error(c.exitCode !== null ? `exited with ${c.exitCode}` : 'not running after 5 s');
          await new Promise((r) => setTimeout(r, 20));
        }
        await waitForPort(port);
      } catch (err) {
        throw new Error(`mosquitto did not start on port ${port}: ${stderr}\n${broker.log()}`, { cause: err });
      }
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = undefined;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    log() {
      try { return fs.readFileSync(path.join(dir, 'mosquitto.log'), 'utf8'); } catch { return ''; }
    },
  };
  t.teardown(async () => {
    const c = child;
    if (c && c.exitCode === null) {
      await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill('SIGKILL'); });
    }
  });
  await broker.start();
  return broker;
}
