/**
 * replay --mqtt takes the broker URL through the configuration's schema (publish.mqtt.url), so it
 * is held to the same rules as in a configuration file; it used to accept http:// and ws:// (and
 * connect as plain MQTT), and to answer a bare host with "Invalid URL" alone.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

const sample = 'samples/lo-sessions.pcap';

t.test('a URL that is not mqtt:// or mqtts:// is a configuration mistake (exit 2)', async (t) => {
  const cases: Array<[string, string]> = [
    ['http://127.0.0.1:1883', 'publish.mqtt.url must start with mqtt:// or mqtts:// (got "http://127.0.0.1:1883")'],
    ['ws://127.0.0.1:1883', 'publish.mqtt.url must start with mqtt:// or mqtts:// (got "ws://127.0.0.1:1883")'],
    ['127.0.0.1', 'publish.mqtt.url must be a URL like mqtt://broker:1883 or mqtts://broker:8883 (got "127.0.0.1")'],
    ['mqtt://127.0.0.1:99999', 'publish.mqtt.url must be a URL like mqtt://broker:1883 or mqtts://broker:8883 (got "mqtt://127.0.0.1:99999")'],
  ];
  for (const [url, message] of cases) {
    const r = await runCli(['replay', sample, '--mqtt', url]);
    t.equal(r.code, 2, url);
    t.equal(r.stderr, `eta-sensor replay: invalid configuration:\n  - ${message}\n`
      + '  fix: fix the listed values (--set, or the environment); `eta-sensor check-config --set KEY=VALUE` validates without starting\n', url);
    t.equal(r.stdout, '', url);
  }
});

t.test('-o with --mqtt, or an empty --mqtt, is a usage error', async (t) => {
  const both = await runCli(['replay', sample, '--mqtt', 'mqtt://127.0.0.1:1883', '-o', '/tmp/eta-never.jsonl']);
  t.equal(both.code, 2);
  t.match(both.stderr, 'eta-sensor replay: -o and --mqtt name two destinations: give one\n');
  const empty = await runCli(['replay', sample, '--mqtt', '']);
  t.equal(empty.code, 2);
  t.match(empty.stderr, 'eta-sensor replay: --mqtt needs a broker URL, e.g. mqtt://localhost:1883\n');
  t.equal(empty.stdout, '', 'nothing went to standard output instead');
});

t.test('with -c, the buffer is still a private one unless the configuration names a folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-replay-cfg-'));
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, 'log:\n  level: error\n');
  // Port 1: nothing listens, so the records stay in the buffer and the message names it.
  const r = await runCli(['replay', sample, '-c', cfg, '--mqtt', 'mqtt://127.0.0.1:1', '--wait', '1']);
  t.equal(r.code, 1);
  const kept = /they are kept in (\S+), and/.exec(r.stderr)?.[1];
  t.ok(kept?.startsWith(join(tmpdir(), 'eta-replay-buffer-')), `a private buffer: ${kept}`);
  if (kept) rmSync(kept, { recursive: true, force: true });
  writeFileSync(cfg, `publish:\n  buffer:\n    dir: ${join(dir, 'buf')}\n`);
  const named = await runCli(['replay', sample, '-c', cfg, '--mqtt', 'mqtt://127.0.0.1:1', '--wait', '1']);
  t.equal(named.code, 1);
  t.match(named.stderr, `they are kept in ${join(dir, 'buf')}, and`);
});

t.test('MQTT chosen by the configuration (publish.sink=mqtt, no --mqtt) also buffers in a private folder', async (t) => {
  // Found by review: without --mqtt, a replay wrote into the daemon's /var/lib/eta-sensor/buffer.
  const r = await runCli(['replay', sample, '--set', 'publish.sink=mqtt', '--set', 'publish.mqtt.url=mqtt://127.0.0.1:1', '--wait', '1']);
  t.equal(r.code, 1, r.stderr);
  const kept = /they are kept in (\S+), and/.exec(r.stderr)?.[1];
  t.ok(kept?.startsWith(join(tmpdir(), 'eta-replay-buffer-')), `a private buffer: ${kept}`);
  if (kept) rmSync(kept, { recursive: true, force: true });
});

t.test('publish settings refused once --mqtt chose MQTT leave no private buffer behind', async (t) => {
  // Found by review: the private folder was made before the settings were checked, and stayed.
  const tmp = mkdtempSync(join(tmpdir(), 'eta-replay-tmp-'));
  const r = await runCli(['replay', sample, '--mqtt', 'mqtt://127.0.0.1:1', '--set', `publish.mqtt.tls.ca=${join(tmp, 'x.pem')}`, '-q'], { env: { TMPDIR: tmp } });
  t.equal(r.code, 2, r.stderr);
  t.match(r.stderr, 'publish.mqtt.tls');
  t.same(readdirSync(tmp), [], 'nothing left in the temporary folder');
  rmSync(tmp, { recursive: true, force: true });
});
