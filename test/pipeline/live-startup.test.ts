/**
 * The daemon's startup and reloads, now that the inference workers open the models: packets
 * that reach the capture before the pipeline reads them are counted, never lost silently, and
 * reloads asked in quick succession take effect in the order asked.
 */
import t from 'tap';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { untilIdle } from '../helpers/cli.js';
import { startDaemon, udpFrom } from '../helpers/daemon.js';
import { tinyModel } from '../helpers/models.js';

const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'eta-live-start-'));

t.test('packets sent while the daemon starts are metered or counted, none lost unsaid', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const app = await tinyModel(dir, 'app', ['chat', 'web', 'video']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const d = startDaemon(['--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`, '--set', 'publish.sink=stdout',
    '--set', 'flows.idle_timeout=0.3', '--set', 'capture.clock_interval=0.1', '--set', `infer.app.path=${app}`, '--set', 'infer.attribution.path=null']);
  t.teardown(() => { d.child.kill('SIGKILL'); });
  // From the moment the process starts until well after it runs: one datagram (one flow) every 20 ms.
  let sport = port + 1;
  let sending = true;
  const sender = (async () => {
    while (sending) {
      await udpFrom(sport++, port);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await d.until('the daemon running', () => d.log().includes('eta-sensor running'));
  await new Promise((r) => setTimeout(r, 500));
  sending = false;
  await sender;
  await new Promise((r) => setTimeout(r, 800));
  d.child.kill('SIGTERM');
  const [code] = (await once(d.child, 'exit')) as [number];
  t.equal(code, 0, d.log());
  const stopped = d.log().split('\n').find((l) => l.includes('eta-sensor stopped'));
  t.ok(stopped, 'the final stats are logged');
  const st = JSON.parse(stopped!) as { capture: { frames: number; skipped: Record<string, number> }; packets: number };
  t.equal(st.capture.frames, st.packets + (st.capture.skipped['before_start'] ?? 0), `every frame read was metered or counted: ${JSON.stringify(st.capture)}, packets ${st.packets}`);
  t.equal(d.out().trim().split('\n').filter(Boolean).length, st.packets, 'one record per metered packet (one flow each)');
});

t.test('two reloads in quick succession: the later configuration is the one in force', { skip: root ? false : 'live capture needs root' }, async (t) => {
  // The shipped models: the attribution forest takes the workers tens of milliseconds to open, so
  // a reload of both finishes well after one of the app model alone asked just after it.
  const app = new URL('../../../models/app.onnx', import.meta.url).pathname;
  const attribution = new URL('../../../models/attribution.onnx', import.meta.url).pathname;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = join(dir, 'agent.yaml');
  const yaml = (withAttribution: boolean): string => `capture:\n  interfaces: [lo]\n  filter: udp port ${port}\n  clock_interval: 0.1\n`
    + 'publish:\n  sink: stdout\nflows:\n  idle_timeout: 0.3\n'
    + `infer:\n  app:\n    path: ${app}\n  attribution:\n    path: ${withAttribution ? attribution : 'null'}\n`;
  writeFileSync(config, yaml(true));
  const d = startDaemon(['-c', config]);
  t.teardown(() => { d.child.kill('SIGKILL'); });
  await d.until('the daemon running', () => d.log().includes('eta-sensor running'));
  const reloads = (): number => d.log().split('\n').filter((l) => l.includes('"msg":"reloaded')).length;
  d.child.kill('SIGHUP'); // reloads both models: its workers take a while to open them
  await new Promise((r) => setTimeout(r, 10));
  writeFileSync(config, yaml(false));
  d.child.kill('SIGHUP'); // asks for the app model alone, while the first reload still runs
  // One reload or two (a signal arriving before the first began merges into it): the last word is the file as rewritten.
  await d.until('a reload', () => reloads() >= 1);
  await untilIdle(d.child.pid!); // the second reload, if there is one, done too
  await udpFrom(port + 1, port);
  await d.until('a flow after the reloads', () => d.out().includes(`"src_port":${port + 1}`));
  const rec = JSON.parse(d.out().trim().split('\n').find((l) => l.includes(`"src_port":${port + 1}`))!) as { app: unknown; attribution: unknown };
  t.not(rec.app, null);
  t.equal(rec.attribution, null, 'the second reload (no attribution model) is in force');
  d.child.kill('SIGTERM');
  const [code] = (await once(d.child, 'exit')) as [number];
  t.equal(code, 0);
});

t.test('SIGTERM ends within shutdown_timeout, flows inference cannot label go out unlabeled "shutdown"', { skip: root ? false : 'live capture needs root' }, async (t) => {
  // Found by review: the stop's time counted from after every open flow was labelled (18 s for
  // 600,000 flows with shutdown_timeout 2), and README's unlabeled "shutdown" was never given.
  // Here a worker never answers: the flows must still be published, unlabeled, in time.
  const app = await tinyModel(dir, 'app', ['chat', 'web', 'video']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const d = startDaemon(['--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`, '--set', 'publish.sink=stdout',
    '--set', 'flows.idle_timeout=600', '--set', `infer.app.path=${app}`, '--set', 'infer.attribution.path=null', '--set', 'service.shutdown_timeout=2'],
  { ETA_FAULT_WORKER_STALL: '1' });
  t.teardown(() => { d.child.kill('SIGKILL'); });
  await d.until('the daemon running', () => d.log().includes('eta-sensor running'));
  for (let i = 1; i <= 20; i++) await udpFrom(port + i, port);
  await new Promise((r) => setTimeout(r, 500)); // the capture reads them
  const stoppedAt = Date.now();
  d.child.kill('SIGTERM');
  const [code] = (await once(d.child, 'exit')) as [number];
  const took = Date.now() - stoppedAt;
  t.equal(code, 0, d.log());
  t.ok(took < 2000 + 1500, `stopped in ${took} ms (shutdown_timeout 2 s)`);
  const records = d.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { unlabeled?: string; app: unknown });
  t.equal(records.length, 20, 'every open flow published');
  t.same(new Set(records.map((r) => r.unlabeled)), new Set(['shutdown']), 'unlabeled, with the reason');
});

t.test('SIGTERM after a reload still ends within shutdown_timeout when the retired workers are stuck', { skip: root ? false : 'live capture needs root' }, async (t) => {
  // Found by review: the reload retired the classifier and waited for its batches, SIGTERM told
  // only the new one to give up on stuck workers, and run waited for the reload: it never stopped.
  const app = await tinyModel(dir, 'app', ['chat', 'web', 'video']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const d = startDaemon(['--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`, '--set', 'publish.sink=stdout',
    '--set', 'flows.idle_timeout=0.5', '--set', 'capture.clock_interval=0.1', '--set', 'infer.workers=1',
    '--set', `infer.app.path=${app}`, '--set', 'infer.attribution.path=null', '--set', 'service.shutdown_timeout=2'],
  { ETA_FAULT_WORKER_STALL: '1' });
  t.teardown(() => { d.child.kill('SIGKILL'); });
  await d.until('the daemon running', () => d.log().includes('eta-sensor running'));
  for (let i = 1; i <= 20; i++) await udpFrom(port + i, port);
  await new Promise((r) => setTimeout(r, 1500)); // the flows end (idle) and wait at the stuck worker
  d.child.kill('SIGHUP');
  // The reload's new workers open the models; it never ends by itself, as the old batches never come back.
  await new Promise((r) => setTimeout(r, 2000));
  const stoppedAt = Date.now();
  d.child.kill('SIGTERM');
  const exited = await Promise.race([once(d.child, 'exit').then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 8000))]);
  const took = Date.now() - stoppedAt;
  t.ok(exited && took < 2000 + 1500, `stopped in ${took} ms (shutdown_timeout 2 s; exited: ${exited})`);
  const records = d.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { unlabeled?: string });
  t.equal(records.length, 20, 'every flow published');
  t.same(new Set(records.map((r) => r.unlabeled)), new Set(['shutdown']), 'unlabeled, with the reason');
});
