/**
 * Broker outages lose nothing, end to end: a replay publishing 20,000 flows
 * to a private Mosquitto that is stopped in the middle and restarted; then a
 * replay SIGKILLed while its records wait in the disk buffer, and a new run
 * on the same buffer delivering them. Every flow arrives (duplicates allowed).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cliEnv } from '../helpers/cli.js';
import { flowId, manyFlows } from '../helpers/flood.js';
import { startBroker } from '../publish/helpers/broker.js';
import { uniqueNames } from '../publish/helpers/config.js';
import { subscribe } from '../publish/helpers/subscriber.js';

const N = 20_000;
const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;

function replay(args: string[]): { done: Promise<number | null>; stderr: () => string; kill: () => void } {
  const child = spawn(process.execPath, [BIN, 'replay', ...args], { env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { done: once(child, 'exit').then(([c]) => c as number | null), stderr: () => err, kill: () => child.kill('SIGKILL') };
}

function collect(sub: { client: { on(e: 'message', f: (topic: string, p: Buffer) => void): void } }): Set<string> {
  const seen = new Set<string>();
  sub.client.on('message', (_topic, payload) => {
    const rec = JSON.parse(payload.toString()) as Parameters<typeof flowId>[0];
    seen.add(flowId(rec));
  });
  return seen;
}

const dir = mkdtempSync(join(tmpdir(), 'eta-outage-'));
const capture = join(dir, 'many.pcap');
manyFlows(capture, N);
const noModels = ['--set', 'infer.app.path=', '--set', 'infer.attribution.path='];

t.test('broker stopped mid-replay and restarted: every flow arrives', { timeout: 180_000 }, async (t) => {
  const broker = await startBroker(t, { persistence: true });
  const { prefix, sensor } = uniqueNames();
  const sub = await subscribe(t, broker.url, `${prefix}/${sensor}/flows`, { clientId: `sub-${sensor}`, clean: false });
  const seen = collect(sub);
  const run = replay([capture, '--mqtt', broker.url, ...noModels, '--set', `publish.topic_prefix=${prefix}`, '--set', `publish.sensor_id=${sensor}`,
    '--set', 'publish.mqtt.reconnect_period=0.2']);
  await sub.waitFor(() => seen.size >= 3000, 30_000, '3000 flows before the outage');
  await broker.stop();
  await new Promise((r) => setTimeout(r, 1500));
  await broker.start();
  try {
    await sub.waitFor(() => seen.size >= N, 90_000, `all ${N} flows`);
  } finally {
    t.comment(`seen ${seen.size}; replay: ${run.stderr().slice(-1500)}`);
  }
  t.equal(await run.done, 0, run.stderr());
  t.equal(seen.size, N, 'no flow lost');
});

t.test('replay SIGKILLed with records in the disk buffer: the next run delivers them', { timeout: 180_000 }, async (t) => {
  const broker = await startBroker(t, { persistence: true });
  const { prefix, sensor } = uniqueNames();
  const buffer = join(dir, 'buffer');
  const common = [...noModels, '--set', `publish.topic_prefix=${prefix}`, '--set', `publish.sensor_id=${sensor}`,
    '--set', 'publish.mqtt.reconnect_period=0.2', '--set', `publish.buffer.dir=${buffer}`, '--set', 'publish.sink=mqtt',
    '--set', `publish.mqtt.url=${broker.url}`, '-c', '/dev/null'];
  await broker.stop(); // everything goes to the disk buffer
  const first = replay([capture, ...common]);
  for (let i = 0; i < 600 && !/waiting up to 60 s for the broker to take (\d+)/.test(first.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  const buffered = Number(/take (\d+) buffered/.exec(first.stderr())?.[1] ?? 0);
  t.equal(buffered, N, 'every flow is in the disk buffer');
  first.kill();
  await first.done;
  await broker.start();
  const sub = await subscribe(t, broker.url, `${prefix}/${sensor}/flows`, { clientId: `sub2-${sensor}`, clean: false });
  const seen = collect(sub);
  const second = replay([SAMPLE, ...common]);
  try {
    await sub.waitFor(() => seen.size >= N + 7, 90_000, `the ${N} buffered flows and the 7 new ones`);
  } finally {
    t.comment(`seen ${seen.size}; second run: ${second.stderr().slice(-1500)}`);
  }
  t.equal(await second.done, 0, second.stderr());
  t.equal(seen.size, N + 7, 'nothing lost across the kill');
});
