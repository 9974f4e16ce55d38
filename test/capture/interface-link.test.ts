/** The link type check-config compiles the capture filter for, from the interface's ARPHRD type. */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interfaceLink } from '../../agent/capture/interface-link.js';

t.test('ARPHRD types map to the link type libpcap chooses', async (t) => {
  const sys = mkdtempSync(join(tmpdir(), 'eta-sysnet-'));
  t.teardown(() => rmSync(sys, { recursive: true, force: true }));
  const iface = (name: string, type: string): void => {
    mkdirSync(join(sys, name));
    writeFileSync(join(sys, name, 'type'), type);
  };
  iface('eth0', '1\n');
  iface('lo', '772\n');
  iface('ppp0', '512\n');
  iface('tun0', '65534\n');
  iface('sit1', '776\n');
  iface('ipip1', '768\n');
  iface('can0', '280\n');
  t.same(interfaceLink('eth0', sys), { dlt: 1, name: 'Ethernet', known: true });
  t.same(interfaceLink('lo', sys), { dlt: 1, name: 'Ethernet', known: true });
  t.same(interfaceLink('ppp0', sys), { dlt: 113, name: 'Linux cooked v1', known: true });
  t.same(interfaceLink('tun0', sys), { dlt: 12, name: 'raw IP', known: true });
  t.same(interfaceLink('sit1', sys), { dlt: 12, name: 'raw IP', known: true });
  t.same(interfaceLink('ipip1', sys), { dlt: 12, name: 'raw IP', known: true });
  t.same(interfaceLink('any', sys), { dlt: 113, name: 'Linux cooked v1', known: true }, 'the any device has no entry; libpcap cooks it');
  t.same(interfaceLink('can0', sys), { dlt: 1, name: 'Ethernet', known: false }, 'a type not listed: Ethernet, not claimed known');
  t.same(interfaceLink('wlan9', sys), { dlt: 1, name: 'Ethernet', known: false }, 'no such interface');
  t.same(interfaceLink('../eth0', sys), { dlt: 1, name: 'Ethernet', known: false }, 'a path is no interface name');
});

t.test('on this machine, lo is Ethernet to libpcap', async (t) => {
  t.same(interfaceLink('lo'), { dlt: 1, name: 'Ethernet', known: true });
});
