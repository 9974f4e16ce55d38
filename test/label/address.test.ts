// Addresses as labels files print them meet addresses as `extract` prints them.
import t from 'tap';
import { addressKeys, canonicalAddress, protocolNumber } from '../../agent/label/address.js';

t.test('one text per address, whatever the spelling', async (t) => {
  t.equal(canonicalAddress('192.168.001.010'), '192.168.1.10');
  t.equal(canonicalAddress('2001:db8::1'), '2001:db8:0:0:0:0:0:1');
  t.equal(canonicalAddress('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8:0:0:0:0:0:1');
  // nDPI writes "::" for a single zero group; RFC 5952 writes the 0.
  t.equal(canonicalAddress('2a03:2880:1010:3f20:face:b00c::25de'), canonicalAddress('2a03:2880:1010:3f20:face:b00c:0:25de'));
  t.equal(canonicalAddress('::ffff:192.0.2.1'), '0:0:0:0:0:ffff:c000:201');
  t.equal(canonicalAddress('[fe80::1]'), 'fe80:0:0:0:0:0:0:1');
  t.equal(canonicalAddress('fe80::1%eth0'), 'fe80:0:0:0:0:0:0:1');
  t.equal(canonicalAddress('::'), '0:0:0:0:0:0:0:0');
});

t.test('two "::" (nDPI) stand for every address they can mean', async (t) => {
  const keys = addressKeys('2600:1901::7a0b::');
  t.ok(keys.includes(canonicalAddress('2600:1901:0:7a0b::') as string), 'one zero group first, the rest last');
  t.ok(keys.includes(canonicalAddress('2600:1901::7a0b:0') as string), 'the rest first, one zero group last');
  t.equal(keys.length, 4, '5 zero groups over 2 runs of at least one each');
  t.equal(addressKeys('302e::3d00::8001').length, 4);
  t.equal(canonicalAddress('2600:1901::7a0b::'), null, 'ambiguous: no single canonical text');
});

t.test('not addresses', async (t) => {
  for (const bad of ['', 'example.com', '1.2.3', '256.1.1.1', '1:2:3:4:5:6:7:8:9', 'g::1', '1::2::3::4::5::6::7::8']) {
    t.same(addressKeys(bad), [], bad);
  }
});

t.test('protocols by name or number', async (t) => {
  t.equal(protocolNumber('TCP'), 6);
  t.equal(protocolNumber('udp'), 17);
  t.equal(protocolNumber('ICMPV6'), 58);
  t.equal(protocolNumber('ICMPv6'), 58);
  t.equal(protocolNumber('37'), 37);
  t.equal(protocolNumber('256'), null);
  t.equal(protocolNumber('QUIC'), null, 'not an IP protocol');
});
