import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('check-config: the defaults are valid (exit 0)', async (t) => {
  const r = await runCli(['check-config']);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'built-in defaults: configuration is valid\n');
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
    + '  fix: fix the listed keys; `eta-sensor check-config -c <file>` validates without starting\n');
  const vlan = await runCli(['check-config', '--set', 'capture.interfaces=any', '--set', 'capture.filter=vlan and tcp']);
  t.equal(vlan.code, 2);
  t.match(vlan.stderr, 'for any (Linux cooked v1): no VLAN support for Linux cooked v1');
  const elsewhere = await runCli(['check-config', '--set', 'capture.interfaces=eta-no-such-if0', '--set', 'capture.filter=vlan and tcp']);
  t.equal(elsewhere.code, 0, 'an interface of another machine: compiled for Ethernet, and said so');
  t.equal(elsewhere.stderr, 'eta-sensor check-config: eta-no-such-if0: not an interface of this machine (or of a type not known here); capture.filter compiled for Ethernet\n');
});

// run and check-config must agree: a filter check-config passes must not stop run, and the reverse.
t.test('check-config and run agree on a filter the any device cannot take', { skip: process.getuid?.() !== 0 && 'live capture needs root' }, async (t) => {
  const set = ['--set', 'capture.interfaces=any', '--set', 'capture.filter=ether host 02:00:00:00:00:01', '--set', 'publish.sink=stdout'];
  const check = await runCli(['check-config', ...set]);
  const run = await runCli(['run', ...set], { timeoutMs: 20_000 });
  t.equal(check.code, 2);
  t.equal(run.code, 1, 'run stops at startup');
  t.match(run.stderr, 'cannot capture on any: filter: ethernet addresses supported only on ethernet');
});
