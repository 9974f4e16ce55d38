import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('check-config: the defaults are valid (exit 0)', async (t) => {
  const r = await runCli(['check-config']);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'built-in defaults: configuration is valid\n');
});

t.test('check-config compiles the capture filter with libpcap, as run would', async (t) => {
  const ok = await runCli(['check-config', '--set', 'capture.filter=tcp port 443 or udp']);
  t.equal(ok.code, 0, 'a good filter passes');
  const bad = await runCli(['check-config', '--set', 'capture.filter=tcp port 443 and']);
  t.equal(bad.code, 2, 'a configuration mistake exits 2');
  t.match(bad.stderr, 'invalid configuration:\n  - capture.filter: libpcap cannot compile "tcp port 443 and": ');
  t.match(bad.stderr, /syntax error/);
  const unknown = await runCli(['check-config', '--set', 'capture.filter=port https-nonexistent-service']);
  t.equal(unknown.code, 2, 'an unknown port name is caught too');
  t.match(unknown.stderr, /capture\.filter: libpcap cannot compile "port https-nonexistent-service": .*unknown port/);
});
