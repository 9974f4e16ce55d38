import t from 'tap';
import { feat, Harness } from '../helpers/harness.js';
import { eth, frag6, ipv4, ipv6, udp } from '../helpers/packets.js';

/** A UDP datagram in three IPv4 fragments (1500 + 1500 + 120 bytes), and a reply. */
function fragmented(): { first: Buffer; second: Buffer; last: Buffer; reply: Buffer } {
  return {
    first: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, mf: true }, udp(5000, 53, Buffer.alloc(1472))),
    second: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, mf: true, fragOffset: 1480 }, Buffer.alloc(1480)),
    last: ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, fragOffset: 2960 }, Buffer.alloc(100)),
    reply: ipv4({ src: '10.0.0.2', dst: '10.0.0.1', proto: 17, id: 1 }, udp(53, 5000, Buffer.alloc(30))),
  };
}

t.test('IPv4: later fragments join the flow of their first fragment', async (t) => {
  const h = new Harness();
  const { first, second, last, reply } = fragmented();
  h.send(0, eth(first)).send(1, eth(second)).send(2, eth(last)).send(3, eth(reply));
  const all = h.finish();
  t.equal(all.length, 1, 'one flow, not one per fragment');
  t.same([feat(all[0]!, 'src2dst_packets'), feat(all[0]!, 'dst2src_packets')], [3, 1]);
  t.equal(feat(all[0]!, 'src2dst_bytes'), 1500 + 1500 + 120);
});

t.test('IPv6: the fragment header id ties fragments to the flow', async (t) => {
  const h = new Harness();
  const first = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[44, frag6(0, true, 77)]] }, udp(6000, 443, Buffer.alloc(1200)));
  const later = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[44, frag6(1208, false, 77)]] }, Buffer.alloc(300));
  h.send(0, eth(first)).send(1, eth(later));
  const all = h.finish();
  t.equal(all.length, 1);
  t.equal(feat(all[0]!, 'src2dst_packets'), 2);
  t.equal(all[0]!.dstPort, 443);
});

t.test('IPv6: Destination Options after the Fragment header (RFC 8200) still tie the later fragments to the flow', async (t) => {
  // Found by review: the first fragment was keyed on UDP (past the options), the later ones on the
  // Fragment header's next header (60): they were counted as fragments without a first.
  const h = new Harness();
  const first = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[44, frag6(0, true, 79)], [60, Buffer.alloc(6)]] }, udp(6000, 53, Buffer.alloc(1200)));
  const later = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 60, ext: [[44, frag6(1216, false, 79)]] }, Buffer.alloc(300));
  h.send(0, eth(first)).send(1, eth(later));
  const all = h.finish();
  t.same(all.map((f) => [f.dstPort, feat(f, 'src2dst_packets')]), [[53, 2]]);
  t.same(h.meter.stats().skipped, {});
});

t.test('a later fragment without its first is counted, not guessed', async (t) => {
  const h = new Harness();
  h.send(0, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 9, fragOffset: 1480 }, Buffer.alloc(100))));
  t.equal(h.finish().length, 0);
  t.same(h.meter.stats().skipped, { 'fragment-without-first': 1 });
});

t.test('IPv4: later fragments that come before their first join its flow when it comes', async (t) => {
  const h = new Harness();
  const { first, second, last, reply } = fragmented();
  // The order a sender that emits the last fragment first gives (and reordering links).
  h.send(0, eth(last)).send(1, eth(second)).send(2, eth(first)).send(3, eth(reply));
  const all = h.finish();
  t.equal(all.length, 1, 'one flow');
  t.same([feat(all[0]!, 'src2dst_packets'), feat(all[0]!, 'dst2src_packets')], [3, 1]);
  t.equal(feat(all[0]!, 'src2dst_bytes'), 1500 + 1500 + 120, 'every fragment\'s bytes');
  t.equal(all[0]!.dstPort, 53);
  t.equal(all[0]!.srcPort, 5000, 'oriented by the datagram, whose first fragment carries the ports');
  const s = h.meter.stats();
  t.same(s.skipped, {}, 'no orphan left: the held fragments became packets');
  t.equal(s.packets, 4, 'all four packets in flows');
});

t.test('IPv6: a later fragment before its first joins too', async (t) => {
  const h = new Harness();
  const first = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[44, frag6(0, true, 78)]] }, udp(6000, 443, Buffer.alloc(1200)));
  const later = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nh: 17, ext: [[44, frag6(1208, false, 78)]] }, Buffer.alloc(300));
  h.send(0, eth(later)).send(1, eth(first));
  const all = h.finish();
  t.equal(all.length, 1);
  t.equal(feat(all[0]!, 'src2dst_packets'), 2);
  t.same(h.meter.stats().skipped, {});
});

t.test('held fragments: bounded per datagram, and orphans for good when the first never comes', async (t) => {
  const h = new Harness();
  // 10 later fragments of one datagram before its first: 8 are held (FRAG_HOLD), 2 stay orphans.
  for (let i = 1; i <= 10; i++) {
    h.send(i * 0.001, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 7, mf: i < 10, fragOffset: i * 1480 }, Buffer.alloc(1480))));
  }
  // Another datagram's later fragment whose first never comes.
  h.send(0.5, eth(ipv4({ src: '10.0.0.3', dst: '10.0.0.4', proto: 17, id: 8, fragOffset: 1480 }, Buffer.alloc(100))));
  h.send(1, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 7, mf: true }, udp(5000, 53, Buffer.alloc(1472)))));
  const all = h.finish();
  t.equal(all.length, 1);
  t.equal(feat(all[0]!, 'src2dst_packets'), 1 + 8);
  t.same(h.meter.stats().skipped, { 'fragment-without-first': 3 });
});

t.test('a first fragment more than 30 s after its later ones does not take them', async (t) => {
  const h = new Harness();
  h.send(0, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 5, fragOffset: 1480 }, Buffer.alloc(100))));
  h.send(31_000, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 5, mf: true }, udp(5000, 53, Buffer.alloc(1472)))));
  const all = h.finish();
  t.equal(feat(all[0]!, 'src2dst_packets'), 1);
  t.same(h.meter.stats().skipped, { 'fragment-without-first': 1 });
});

t.test('a later fragment without its first does not push out a datagram in progress', async (t) => {
  const h = new Harness();
  // Two datagrams whose entries collide are rare; a stray fragment must at least never cost a
  // datagram whose first fragment came the ports of its later ones. Many strays, one datagram.
  h.send(0, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 11, mf: true }, udp(5000, 53, Buffer.alloc(1472)))));
  for (let id = 0; id < 3000; id++) h.send(0.1, eth(ipv4({ src: '10.9.0.1', dst: '10.9.0.2', proto: 17, id, fragOffset: 1480 }, Buffer.alloc(10))));
  h.send(0.2, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 11, fragOffset: 1480 }, Buffer.alloc(100))));
  const all = h.finish();
  t.equal(all.length, 1);
  t.equal(feat(all[0]!, 'src2dst_packets'), 2);
  t.same(h.meter.stats().skipped, { 'fragment-without-first': 3000 });
});
