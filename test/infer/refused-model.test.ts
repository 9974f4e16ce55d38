/**
 * A model whose metadata reads well but whose graph onnxruntime refuses. The inference workers
 * open the models (the main thread does not), and every command must still stop at startup
 * with the file named, publish nothing and leave an output file as it was; a reload with such
 * a model keeps the running ones.
 */
import t from 'tap';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startDaemon, udpFrom } from '../helpers/daemon.js';
import { refusedModel, tinyModel } from '../helpers/models.js';

const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'eta-refused-'));
const refused = await refusedModel(dir, 'app', ['chat', 'web', 'video']);
const MESSAGE = new RegExp(`onnxruntime cannot load ${refused.replaceAll('.', '\\.')}: .*\\n  fix: the file is damaged or not ONNX; retrain it or restore it`);

t.test('replay stops with the model named, and leaves -o as it was', async (t) => {
  const out = join(dir, 'keep.jsonl');
  writeFileSync(out, 'earlier records\n');
  const r = await runCli(['replay', SAMPLE, '-o', out, '--set', `infer.app.path=${refused}`]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, MESSAGE);
  t.notMatch(r.stderr, '[E:onnxruntime', "onnxruntime's own log line (not JSON) stays out of the output");
  t.equal(readFileSync(out, 'utf8'), 'earlier records\n', 'the output file is untouched');
  const stdout = await runCli(['replay', SAMPLE, '--set', `infer.attribution.path=${refused}`]);
  t.equal(stdout.code, 1);
  t.equal(stdout.stdout, '', 'nothing published on standard output');
});

t.test('a worker that dies while opening the models stops startup, said as such', async (t) => {
  const out = join(dir, 'kept.jsonl');
  writeFileSync(out, 'earlier\n');
  const r = await runCli(['replay', SAMPLE, '-o', out], { env: { ETA_FAULT_WORKER_EXIT_PROBE: '1' } });
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, /eta-sensor replay: the inference worker stopped while opening the models: .*\n {2}fix: run `eta-sensor check-config`/);
  t.equal(readFileSync(out, 'utf8'), 'earlier\n');
});

t.test('CSV replay stops the same way', async (t) => {
  const csv = join(dir, 'flows.csv');
  const ex = await runCli(['extract', SAMPLE, '-o', csv]);
  t.equal(ex.code, 0, ex.stderr);
  const r = await runCli(['replay', csv, '--set', `infer.app.path=${refused}`]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, MESSAGE);
  t.equal(r.stdout, '');
});

t.test('an empty capture with models still writes its (empty) output', async (t) => {
  const empty = join(dir, 'empty.pcap');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  writeFileSync(empty, header);
  const out = join(dir, 'empty.jsonl');
  const r = await runCli(['replay', empty, '-o', out]);
  t.equal(r.code, 0, r.stderr);
  t.ok(existsSync(out), 'created');
  t.equal(readFileSync(out, 'utf8'), '');
});

t.test('check-config opens the models itself and names the refused one', async (t) => {
  const r = await runCli(['check-config', '--set', `infer.app.path=${refused}`]);
  t.equal(r.code, 2);
  t.match(r.stderr, `  - onnxruntime cannot load ${refused}: `);
});

t.test('run stops at startup and exits; it does not hang with its capture open', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const started = Date.now();
  const r = await runCli(['run', '--set', 'capture.interfaces=lo', '--set', 'publish.sink=stdout', '--set', `infer.app.path=${refused}`]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, MESSAGE);
  t.ok(Date.now() - started < 20_000, 'exited by itself');
});

t.test('SIGHUP with a model onnxruntime refuses keeps the running models', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const app = join(dir, 'live-app.onnx');
  copyFileSync(await tinyModel(dir, 'hup', ['chat', 'web', 'video']), app);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const d = startDaemon(['--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`,
    '--set', 'publish.sink=stdout', '--set', 'flows.idle_timeout=0.3', '--set', 'capture.clock_interval=0.1',
    '--set', `infer.app.path=${app}`, '--set', 'infer.attribution.path=null']);
  const { child, until } = d;
  t.teardown(() => { child.kill('SIGKILL'); });
  const log = (): string => d.log();
  const send = (sport: number): Promise<void> => udpFrom(sport, port, 100);
  await until('the daemon running', () => log().includes('eta-sensor running'));
  copyFileSync(refused, app);
  child.kill('SIGHUP');
  await until('the reload refused', () => log().includes('reload failed; still running with the previous configuration and models'));
  t.match(log(), 'onnxruntime cannot load');
  await send(port + 1);
  await until('a flow labelled after the reload', () => d.out().includes(`"src_port":${port + 1}`));
  const rec = JSON.parse(d.out().trim().split('\n').find((l) => l.includes(`"src_port":${port + 1}`))!) as { app: { label: string } | null };
  t.ok(rec.app !== null, 'labelled by the previous model');
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0);
});
