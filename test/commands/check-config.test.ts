import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('check-config: the defaults are valid (exit 0)', async (t) => {
  const r = await runCli(['check-config']);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'built-in defaults: configuration is valid\n');
});

t.test('check-config --print shows the effective configuration, its secrets as "***"', async (t) => {
  const withPassword = await runCli(['check-config', '--print'], { env: { ETA_MQTT_PASSWORD: 'hunter2' } });
  t.equal(withPassword.code, 0, withPassword.stderr);
  t.notMatch(withPassword.stdout, 'hunter2', 'the password is not printed');
  const cfg = JSON.parse(withPassword.stdout) as { publish: { mqtt: { password: unknown; url: string } } };
  t.equal(cfg.publish.mqtt.password, '***', 'it is shown as set');
  t.equal(cfg.publish.mqtt.url, 'mqtt://localhost:1883', 'the rest as it is');
  const without = JSON.parse((await runCli(['check-config', '--print'], { env: { ETA_MQTT_PASSWORD: '' } })).stdout) as typeof cfg;
  t.equal(without.publish.mqtt.password, null, 'an unset password stays null');
});

t.test('check-config compiles the capture filter with libpcap, as run would', async (t) => {
  const lo = ['--set', 'capture.interfaces=lo'];
  const ok = await runCli(['check-config', ...lo, '--set', 'capture.filter=tcp port 443 or udp']);
  t.equal(ok.code, 0, 'a good filter passes');
  t.equal(ok.stderr, '');
  const bad = await runCli(['check-config', ...lo, '--set', 'capture.filter=tcp port 443 and']);
  t.equal(bad.code, 2, 'a configuration mistake exits 2');
  t.match(bad.stderr, 'invalid configuration:\n  - capture.filter: libpcap cannot compile "tcp port 443 and" for lo (Ethernet): ');
  t.match(bad.stderr, /syntax error/);
  const unknown = await runCli(['check-config', ...lo, '--set', 'capture.filter=port https-nonexistent-service']);
  t.equal(unknown.code, 2, 'an unknown port name is caught too');
  t.match(unknown.stderr, /capture\.filter: libpcap cannot compile "port https-nonexistent-service" for lo \(Ethernet\): .*unknown port/);
});

t.test('check-config compiles the filter for each interface\'s link type', async (t) => {
  const ether = 'capture.filter=ether host 02:00:00:00:00:01';
  const onLo = await runCli(['check-config', '--set', 'capture.interfaces=lo', '--set', ether]);
  t.equal(onLo.code, 0, 'Ethernet addresses are fine on lo (libpcap gives it an Ethernet header)');
  const both = await runCli(['check-config', '--set', 'capture.interfaces=lo,any', '--set', ether]);
  t.equal(both.code, 2, 'but not on the any device, whose frames are Linux cooked');
  t.equal(both.stderr, 'eta-sensor check-config: invalid configuration:\n'
    + '  - capture.filter: libpcap cannot compile "ether host 02:00:00:00:00:01" for any (Linux cooked v1): '
    + 'ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel\n'
    + '  fix: fix the listed values (--set, or the environment)\n');
  const vlan = await runCli(['check-config', '--set', 'capture.interfaces=any', '--set', 'capture.filter=vlan and tcp']);
  t.equal(vlan.code, 2);
  t.match(vlan.stderr, 'for any (Linux cooked v1): no VLAN support for Linux cooked v1');
  const elsewhere = await runCli(['check-config', '--set', 'capture.interfaces=eta-no-such-if0', '--set', 'capture.filter=vlan and tcp']);
  t.equal(elsewhere.code, 0, 'an interface of another machine: compiled for Ethernet, and said so');
  t.equal(elsewhere.stderr, 'eta-sensor check-config: capture.interfaces: eta-no-such-if0 is not an interface of this machine (or of a type not known here); capture.filter compiled for Ethernet\n');
  // Without a filter too (found by review: a mistyped name passed in silence, and run then failed at every start).
  const unfiltered = await runCli(['check-config', '--set', 'capture.interfaces=lo,eta-no-such-if0']);
  t.equal(unfiltered.code, 0, 'valid: the configuration may be meant for another machine');
  t.equal(unfiltered.stderr, 'eta-sensor check-config: capture.interfaces: eta-no-such-if0 is not an interface of this machine (or of a type not known here)\n');
});

// run and check-config must agree: a filter check-config passes must not stop run, and the reverse.
t.test('check-config and run agree on a filter the any device cannot take', { skip: process.getuid?.() !== 0 && 'live capture needs root' }, async (t) => {
  const set = ['--set', 'capture.interfaces=any', '--set', 'capture.filter=ether host 02:00:00:00:00:01', '--set', 'publish.sink=stdout'];
  const check = await runCli(['check-config', ...set]);
  const run = await runCli(['run', ...set], { timeoutMs: 20_000 });
  t.equal(check.code, 2);
  // The same exit status: a configuration mistake, which the unit does not restart on, not a capture that may work next time.
  t.equal(run.code, 2, 'run stops at startup, exit 2 as check-config');
  t.match(run.stderr, 'cannot capture on any: filter: ethernet addresses supported only on ethernet');
  t.match(run.stderr, /fix capture\.filter/);
  const syntax = await runCli(['run', '--set', 'capture.interfaces=lo', '--set', 'capture.filter=tcp port 443 and', '--set', 'publish.sink=stdout'], { timeoutMs: 20_000 });
  t.equal(syntax.code, 2, 'a filter that does not parse: exit 2 too');
  t.match(syntax.stderr, /cannot capture on lo: .*syntax error/);
  // The daemon's log says it too, as JSON (found by review: only the text lines said why it stopped).
  const logged = await runCli(['run', '--set', 'capture.interfaces=lo', '--set', 'capture.filter=tcp port 443 and', '--set', 'publish.sink=none'], { timeoutMs: 20_000 });
  const fatal = logged.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; err: string }).find((l) => l.level === 60);
  t.match(fatal, { msg: 'eta-sensor stopped on an error', err: /cannot capture on lo: .*syntax error/ });
});

// A configuration check-config passes must not be refused by run for a file it names (the README's
// service steps run check-config, then start the unit).
t.test('check-config reads the files the configuration names, as run would', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-check-files-'));
  const notOnnx = join(dir, 'notes.onnx');
  writeFileSync(notOnnx, 'not a model\n');
  const cases: Array<[string, string[], string]> = [
    ['a missing model', ['infer.app.path=/nonexistent/app.onnx'],
      '  - the app model /nonexistent/app.onnx does not exist (fix: train one (eta-sensor train ... --out /nonexistent/app.onnx), '
      + 'regenerate the shipped ones (npm run build-models), or set infer.app.path to null to run without it)\n'],
    ['a file that is not a model', [`infer.attribution.path=${notOnnx}`], `  - ${notOnnx} is not an ONNX model`],
    ['an MQTT password file that cannot be read', ['publish.sink=mqtt', 'publish.mqtt.username=eta', `publish.mqtt.password_file=${join(dir, 'pw')}`],
      `  - cannot read publish.mqtt.password_file (${join(dir, 'pw')}): ENOENT`],
    // Every unreadable file at once, not one per check (found by review).
    ['a password file and a CA that cannot be read', ['publish.sink=mqtt', 'publish.mqtt.url=mqtts://127.0.0.1:8883', 'publish.mqtt.username=eta', `publish.mqtt.password_file=${join(dir, 'pw')}`,
      `publish.mqtt.tls.ca=${join(dir, 'ca.pem')}`],
    `  - cannot read publish.mqtt.password_file (${join(dir, 'pw')}): ENOENT: no such file or directory, open '${join(dir, 'pw')}' (fix: make the file readable by the agent's user or fix publish.mqtt.password_file)\n`
      + `  - cannot read publish.mqtt.tls.ca (${join(dir, 'ca.pem')}): ENOENT`],
    ['a buffer folder that is a file', ['publish.sink=mqtt', `publish.buffer.dir=${notOnnx}`], `  - publish.buffer.dir: ${notOnnx} is a file, not a folder\n`],
    ['an output file in a missing folder', ['publish.sink=file', `publish.file.path=${join(dir, 'no', 'x.jsonl')}`],
      `  - publish.file.path: the folder of ${join(dir, 'no', 'x.jsonl')} does not exist\n`],
    // Found by review: these two gave exit 1 and a bare "ENOTDIR: not a directory, stat ...".
    ['a buffer folder below a file', ['publish.sink=mqtt', `publish.buffer.dir=${join(notOnnx, 'sub')}`],
      `  - publish.buffer.dir: ${notOnnx}, in the path of ${join(notOnnx, 'sub')}, is a file, not a folder\n`],
    ['an output file below a file', ['publish.sink=file', `publish.file.path=${join(notOnnx, 'x.jsonl')}`],
      `  - publish.file.path: the folder of ${join(notOnnx, 'x.jsonl')} does not exist\n`],
    // Found by review: check-config passed these, and run then exited 1 (systemd restarting it forever).
    ['an output file that is a folder', ['publish.sink=file', `publish.file.path=${dir}`], `  - publish.file.path: ${dir} is a folder, not a file\n`],
    ['an output file under /proc', ['publish.sink=file', 'publish.file.path=/proc/eta.jsonl'],
      '  - publish.file.path: /proc is on a kernel file system (proc, sysfs...), where nothing can be written\n'],
    ['a buffer folder under /sys', ['publish.sink=mqtt', 'publish.buffer.dir=/sys/eta/buf'],
      '  - publish.buffer.dir: /sys is on a kernel file system (proc, sysfs...), where nothing can be written: /sys/eta/buf cannot be made there\n'],
  ];
  for (const [what, sets, message] of cases) {
    const r = await runCli(['check-config', ...sets.flatMap((s) => ['--set', s])]);
    t.equal(r.code, 2, what);
    t.match(r.stderr, 'eta-sensor check-config: invalid configuration:\n', what);
    t.match(r.stderr, message, what);
    t.equal(r.stdout, '', what);
  }
  const fine = await runCli(['check-config', '--set', 'publish.sink=file', '--set', `publish.file.path=${join(dir, 'x.jsonl')}`]);
  t.equal(fine.code, 0, fine.stderr);
  // A password file other users can read is said, not refused (found by review: accepted in silence).
  const pw = join(dir, 'pw-open');
  writeFileSync(pw, 'secret\n', { mode: 0o644 });
  chmodSync(pw, 0o644);
  const sets = ['publish.sink=mqtt', 'publish.mqtt.username=eta', `publish.mqtt.password_file=${pw}`, `publish.buffer.dir=${join(dir, 'buf')}`].flatMap((s) => ['--set', s]);
  const open = await runCli(['check-config', ...sets]);
  t.equal(open.code, 0, open.stderr);
  t.match(open.stderr, `eta-sensor check-config: publish.mqtt.password_file (${pw}) can be read by other users (mode 0644): chmod 600 it, owned by the agent's user (under the unit's DynamicUser`);
  chmodSync(pw, 0o600);
  t.notMatch((await runCli(['check-config', ...sets])).stderr, /can be read by other users/);
});

t.test('a model path meant from the current folder: the fix says where relative paths are read from', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-check-rel-'));
  copyFileSync(new URL('../../../models/app.onnx', import.meta.url), join(dir, 'mine.onnx'));
  const r = await runCli(['check-config', '--set', 'infer.app.path=./mine.onnx'], { cwd: dir });
  t.equal(r.code, 2);
  t.match(r.stderr, `relative model paths are read from the package directory (`);
  t.match(r.stderr, `not the current one: set infer.app.path to ${join(dir, 'mine.onnx')})`);
});

t.test('each mistake is listed once, and a number is shown as YAML wrote it', async (t) => {
  const twice = await runCli(['check-config', '--set', 'capture.interfaces=', '--set', 'publish.mqtt.url=http://x']);
  t.equal(twice.code, 2);
  t.equal(twice.stderr, 'eta-sensor check-config: invalid configuration:\n'
    + '  - capture.interfaces[0] must not be empty\n'
    + '  - publish.mqtt.url must start with mqtt:// or mqtts:// (got "http://x")\n'
    + '  fix: fix the listed values (--set, or the environment)\n');
  const dir = mkdtempSync(join(tmpdir(), 'eta-check-inf-'));
  writeFileSync(join(dir, 'c.yaml'), 'flows:\n  idle_timeout: .inf\n');
  const inf = await runCli(['check-config', '-c', join(dir, 'c.yaml')]);
  t.equal(inf.code, 2);
  t.match(inf.stderr, '  - flows.idle_timeout must be a finite number > 0 (got Infinity)\n');
  t.match(inf.stderr, /\n {2}fix: fix the listed keys\n$/, 'no circular advice to run check-config (found by review)');
});

t.test('a mistake next to a secret does not show the secret', async (t) => {
  // Found by review: a password written as a number, the line of a YAML error on the password,
  // and a bad broker URL holding one were echoed in the message (into the journal on a reload).
  const dir = mkdtempSync(join(tmpdir(), 'eta-check-secret-'));
  const cases: Array<[string, RegExp]> = [
    ['    password: 987654321', /publish\.mqtt\.password must be a string or null \(got a number, not shown\)/],
    ['    password: [hunter2x]', /publish\.mqtt\.password must be a string or null \(got a list, not shown\)/],
    ['    password: hunter2: xyz', /YAML syntax error at line 4, column \d+: [^\n(]*\n/],
    ['    url: "mqtt://u:hunter9@h:99999"', /must be a URL like .* \(got "mqtt:\/\/\*\*\*@h:99999"\)/],
    ['    url: "tcp://u:hunter9@h:1883"', /must start with mqtt:\/\/ or mqtts:\/\/ \(got "tcp:\/\/\*\*\*@h:1883"\)/],
  ];
  for (const [i, [line, want]] of cases.entries()) {
    const file = join(dir, `c${i}.yaml`);
    writeFileSync(file, `publish:\n  sink: mqtt\n  mqtt:\n${line}\n`);
    const r = await runCli(['check-config', '-c', file]);
    t.equal(r.code, 2, line);
    t.match(r.stderr, want, line);
    t.notMatch(r.stderr, /hunter|987654321/, `${line}: the secret is not shown`);
  }
});

t.test('qos 2 with more in flight than Mosquitto allows by default is warned of, not refused', async (t) => {
  // Found by review: 100 in flight at QoS 2 against a default Mosquitto delivered nothing, and check-config said valid.
  const r = await runCli(['check-config', '--set', 'publish.sink=mqtt', '--set', 'publish.mqtt.qos=2', '--set', 'publish.mqtt.max_inflight=50']);
  t.equal(r.code, 0, 'the broker may allow more');
  t.match(r.stderr, /publish\.mqtt\.max_inflight 50 at qos 2 is above Mosquitto's default max_inflight_messages \(20\).*set max_inflight to 20 or less/);
  const ok = await runCli(['check-config', '--set', 'publish.sink=mqtt', '--set', 'publish.mqtt.qos=2']);
  t.equal(ok.stderr, '', 'the default for qos 2 (20) says nothing');
});
