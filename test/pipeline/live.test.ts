/**
 * The daemon as operators run it: `eta-sensor run` capturing on lo while this
 * test sends real TCP, UDP and TLS traffic; the labeled flows arrive over the
 * real Mosquitto; stats come every interval; SIGTERM leaves status "offline",
 * and SIGKILL makes the broker publish the last will.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { BIN, cliEnv } from '../helpers/cli.js';
import { tinyModelArgs } from '../helpers/models.js';
import { uniqueNames } from '../publish/helpers/config.js';
import { makePki } from '../publish/helpers/pki.js';
import { subscribe } from '../publish/helpers/subscriber.js';

const BROKER = 'mqtt://127.0.0.1:1883';
const root = process.getuid?.() === 0;

interface Rec { flow: { proto: number; dst_port: number; end_reason: string; packets: number[] }; tls: { sni: string; version: string } | null; app: { label: string } | null; attribution: { label: string } | null }

function startAgent(args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, log: () => out };
}

t.test('live capture on lo → flows over MQTT, stats, clean stop', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-live-'));
  const models = await tinyModelArgs(dir);
  const pki = makePki(t);
  // Servers first, so their ports can go into the capture filter.
  const tcp = createServer((s) => s.on('data', (d) => s.write(d)).on('end', () => s.end())).listen(0, '127.0.0.1');
  const tls = createTlsServer({ key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) }, (s) => {
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end());
  }).listen(0, '127.0.0.1');
  const udp = createSocket('udp4').bind(0, '127.0.0.1');
  await Promise.all([once(tcp, 'listening'), once(tls, 'listening'), once(udp, 'listening')]);
  udp.on('message', (m, r) => udp.send(m, r.port, r.address));
  t.teardown(() => { tcp.close(); tls.close(); udp.close(); });
  const ports = { tcp: (tcp.address() as { port: number }).port, tls: (tls.address() as { port: number }).port, udp: udp.address().port };

  const { prefix, sensor } = uniqueNames();
  const sub = await subscribe(t, BROKER, [`${prefix}/${sensor}/#`]);
  const agent = startAgent([
    '--set', 'capture.interfaces=lo', '--set', `capture.filter=tcp port ${ports.tcp} or tcp port ${ports.tls} or udp port ${ports.udp}`,
    '--set', 'publish.sink=mqtt', '--set', `publish.mqtt.url=${BROKER}`, '--set', `publish.buffer.dir=${join(dir, 'buffer')}`,
    '--set', `publish.topic_prefix=${prefix}`, '--set', `publish.sensor_id=${sensor}`, '--set', 'publish.stats_interval=0.5',
    '--set', 'flows.idle_timeout=1', '--set', 'flows.tcp_close_grace=0.2', '--set', 'capture.clock_interval=0.2',
    ...models,
  ]);
  t.teardown(() => { agent.child.kill('SIGKILL'); });
  await sub.waitFor(() => sub.on(`${prefix}/${sensor}/status`).some((m) => m.payload.toString().includes('online')), 15_000, 'status online');

  // Real traffic: a TCP echo session, a TLS 1.3 session with SNI, UDP datagrams both ways.
  const c = connect(ports.tcp, '127.0.0.1');
  await once(c, 'connect');
  c.write('hello over tcp');
  await once(c, 'data');
  c.end();
  const s = tlsConnect({ port: ports.tls, host: '127.0.0.1', servername: 'live.eta-sensor.test', ca: readFileSync(pki.ca), checkServerIdentity: () => undefined });
  await once(s, 'secureConnect');
  s.write('hello over tls');
  await once(s, 'data');
  s.end();
  const u = createSocket('udp4');
  for (let i = 0; i < 3; i++) {
    u.send(Buffer.alloc(60, i), ports.udp, '127.0.0.1');
    await once(u, 'message');
  }
  u.close();

  const flowsTopic = `${prefix}/${sensor}/flows`;
  await sub.waitFor(() => sub.on(flowsTopic).length >= 3, 20_000, 'three flows over MQTT');
  await sub.waitFor(() => sub.on(`${prefix}/${sensor}/stats`).length >= 2, 10_000, 'periodic stats');
  const recs = sub.on(flowsTopic).map((m) => JSON.parse(m.payload.toString()) as Rec);
  const byPort = (p: number): Rec | undefined => recs.find((r) => r.flow.dst_port === p);
  t.equal(byPort(ports.tcp)?.flow.end_reason, 'end', 'TCP flow ended by FIN both ways');
  t.equal(byPort(ports.tls)?.tls?.sni, 'live.eta-sensor.test', 'SNI from the live TLS handshake');
  t.equal(byPort(ports.tls)?.tls?.version, '1.3');
  t.same(byPort(ports.udp)?.flow.packets, [3, 3], 'UDP both ways');
  t.ok(recs.every((r) => r.app && r.attribution), 'both labels');
  const stats = JSON.parse(sub.on(`${prefix}/${sensor}/stats`).at(-1)!.payload.toString()) as { capture: { kernel_drops: number }; flows: { created: number } };
  t.equal(stats.capture.kernel_drops, 0, 'kernel drop counter reported');
  t.ok(stats.flows.created >= 3);

  agent.child.kill('SIGTERM');
  const [code] = await once(agent.child, 'exit') as [number | null];
  t.equal(code, 0, agent.log().slice(-2000));
  await sub.waitFor(() => sub.on(`${prefix}/${sensor}/status`).at(-1)?.payload.toString().includes('offline') ?? false, 5000, 'status offline');
});

t.test('SIGKILL: the broker publishes the last will', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-lwt-'));
  const { prefix, sensor } = uniqueNames();
  const sub = await subscribe(t, BROKER, [`${prefix}/${sensor}/status`]);
  const agent = startAgent([
    '--set', 'capture.interfaces=lo', '--set', 'capture.filter=udp port 9', '--set', 'publish.sink=mqtt',
    '--set', `publish.mqtt.url=${BROKER}`, '--set', `publish.buffer.dir=${join(dir, 'buffer')}`,
    '--set', `publish.topic_prefix=${prefix}`, '--set', `publish.sensor_id=${sensor}`,
    '--set', 'infer.app.path=', '--set', 'infer.attribution.path=',
  ]);
  await sub.waitFor(() => sub.messages.some((m) => m.payload.toString().includes('online')), 15_000, 'online');
  agent.child.kill('SIGKILL');
  await sub.waitFor(() => sub.messages.at(-1)?.payload.toString().includes('offline') ?? false, 10_000, 'last will offline');
  t.pass('last will received');
});

t.test('SIGHUP reloads models without losing flows; stats carry the documented counters', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-hup-'));
  const models = await tinyModelArgs(dir);
  const { prefix, sensor } = uniqueNames();
  const sub = await subscribe(t, BROKER, [`${prefix}/${sensor}/#`]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const agent = startAgent([
    '--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`, '--set', 'publish.sink=mqtt',
    '--set', `publish.mqtt.url=${BROKER}`, '--set', `publish.buffer.dir=${join(dir, 'buffer')}`, '--set', `publish.topic_prefix=${prefix}`,
    '--set', `publish.sensor_id=${sensor}`, '--set', 'publish.stats_interval=0.3', '--set', 'flows.idle_timeout=0.5',
    '--set', 'capture.clock_interval=0.1', ...models,
  ]);
  t.teardown(() => { agent.child.kill('SIGKILL'); });
  await sub.waitFor(() => sub.on(`${prefix}/${sensor}/status`).some((m) => m.payload.toString().includes('online')), 15_000, 'online');
  const send = async (sport: number): Promise<void> => {
    const s = createSocket('udp4');
    s.bind(sport, '127.0.0.1');
    await once(s, 'listening');
    await new Promise((r) => s.send(Buffer.alloc(100), port, '127.0.0.1', r));
    s.close();
  };
  const flows = `${prefix}/${sensor}/flows`;
  await send(port + 1);
  await sub.waitFor(() => sub.on(flows).length >= 1, 10_000, 'first flow');
  agent.child.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 50));
  await send(port + 2); // during the reload
  for (let i = 0; i < 100 && !agent.log().includes('reloaded configuration and models'); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(agent.log(), /reloaded configuration and models/);
  await send(port + 3);
  await sub.waitFor(() => sub.on(flows).length >= 3, 10_000, 'flows before, during and after the reload');
  const recs = sub.on(flows).map((m) => JSON.parse(m.payload.toString()) as { flow: { src_port: number }; app: { label: string } | null });
  t.same(recs.map((r) => r.flow.src_port).sort(), [port + 1, port + 2, port + 3]);
  t.ok(recs.every((r) => r.app !== null), 'all labelled');
  const stats = JSON.parse(sub.on(`${prefix}/${sensor}/stats`).at(-1)!.payload.toString()) as Record<string, Record<string, unknown>>;
  t.match(stats, {
    capture: { frames: Number, kernel_drops: Number },
    flows: { active: Number, created: Number, ended: { idle: Number, active: Number, end: Number, forced: Number, evicted: Number } },
    infer: { queue: Number, classified: Number, per_second: Number, busy_ms: Number },
    publish: { queue: Number, records: Number, per_second: Number, dropped: { backlog_full: 0, after_shutdown: 0 }, sink: { buffered_records: Number } },
  });
  agent.child.kill('SIGTERM');
  const [code] = await once(agent.child, 'exit') as [number | null];
  t.equal(code, 0);
});

t.test('the documented defaults capture: only the interface and a stdout sink set', { skip: root ? false : 'live capture needs root' }, async (t) => {
  // Everything else as shipped (the default capture.filter among them), so a default that
  // libpcap refuses fails here rather than on an operator's gateway.
  const port = 20000 + Math.floor(Math.random() * 20000);
  const agent = startAgent([
    '--set', 'capture.interfaces=lo', '--set', 'publish.sink=stdout', '--set', 'flows.idle_timeout=0.5', '--set', 'capture.clock_interval=0.1',
  ]);
  t.teardown(() => { agent.child.kill('SIGKILL'); });
  const s = createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  const seen = (): boolean => agent.log().includes(`"dst_port":${port}`);
  for (let i = 0; i < 100 && !seen() && agent.child.exitCode === null; i++) {
    // Until the capture is open, packets go unseen: keep sending.
    if (i % 5 === 0) await new Promise((r) => s.send(Buffer.alloc(64), port, '127.0.0.1', r));
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  t.ok(seen(), `the UDP flow to port ${port} was published:\n${agent.log().slice(-1500)}`);
  agent.child.kill('SIGTERM');
  const [code] = await once(agent.child, 'exit') as [number | null];
  t.equal(code, 0);
});
