/**
 * The daemon tells systemd its state (Type=notify): READY=1 once it runs and takes reloads,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 on SIGTERM. Found by review: with
 * Type=exec a reload right after the start killed the service (SIGHUP before Node's handler).
 * A Python socket stands in for systemd's (Node cannot bind an AF_UNIX datagram socket).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notifySystemd } from '../../agent/lib/sd-notify.js';
import { startDaemon } from '../helpers/daemon.js';

const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'eta-notify-'));
const UNIT = new URL('../../../systemd/eta-sensor.service', import.meta.url).pathname;

/** A datagram socket at `address` (a path, or @name), whose messages arrive in `messages`. */
async function systemdSocket(address: string): Promise<{ messages: string[]; close(): void }> {
  const py = 'import socket,sys,json\n'
    + 's=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\n'
    + `a=sys.argv[1]\ns.bind('\\0'+a[1:] if a.startswith('@') else a)\n`
    + 'print("ready",flush=True)\n'
    + 'while True:\n  print(json.dumps(s.recv(4096).decode()),flush=True)\n';
  const child = spawn('python3', ['-c', py, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line !== 'ready') messages.push(JSON.parse(line) as string);
      else child.emit('bound');
    }
  });
  await once(child, 'bound');
  return { messages, close: () => child.kill() };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

t.test('the unit waits for the daemon\'s READY=1', async (t) => {
  const unit = readFileSync(UNIT, 'utf8');
  t.match(unit, /^Type=notify$/m);
  t.match(unit, /^NotifyAccess=main$/m);
});

t.test('without NOTIFY_SOCKET nothing is sent; with one, the message arrives (path and abstract name)', async (t) => {
  t.equal(notifySystemd('READY=1', {}), undefined);
  for (const address of [join(dir, 'direct.sock'), `@eta-notify-${process.pid}`]) {
    const s = await systemdSocket(address);
    t.teardown(s.close);
    t.equal(notifySystemd('READY=1\nSTATUS=x', { NOTIFY_SOCKET: address }), undefined, address);
    await until('the message', () => s.messages.length > 0);
    t.same(s.messages, ['READY=1\nSTATUS=x']);
  }
  t.match(notifySystemd('READY=1', { NOTIFY_SOCKET: join(dir, 'nobody.sock') }), /No such file|Connection refused/, 'an error is said, not thrown');
  t.match(notifySystemd('READY=1', { NOTIFY_SOCKET: 'relative.sock' }), /neither an absolute path/);
});

t.test('run: READY=1 when running, RELOADING=1 then READY=1 around a reload, STOPPING=1 on SIGTERM', { skip: root ? false : 'live capture needs root' }, async (t) => {
  const address = join(dir, 'notify.sock');
  const s = await systemdSocket(address);
  t.teardown(s.close);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const d = startDaemon(['--set', 'capture.interfaces=lo', '--set', `capture.filter=udp port ${port}`, '--set', 'publish.sink=stdout'], { NOTIFY_SOCKET: address });
  t.teardown(() => { d.child.kill('SIGKILL'); });
  await until('READY=1', () => s.messages.length > 0);
  t.match(s.messages[0], /^READY=1\nSTATUS=running$/);
  t.ok(d.log().includes('eta-sensor running'), 'said once the daemon runs');
  d.child.kill('SIGHUP');
  await until('the reload', () => s.messages.length >= 3);
  t.match(s.messages[1], /^RELOADING=1\nMONOTONIC_USEC=\d+$/);
  t.equal(s.messages[2], 'READY=1');
  d.child.kill('SIGTERM');
  const [code] = (await once(d.child, 'exit')) as [number];
  t.equal(code, 0, d.log());
  t.equal(s.messages[3], 'STOPPING=1');
  t.notMatch(d.log(), /cannot notify systemd/);
});
