import t from 'tap';
import { feat, Harness } from '../helpers/harness.js';
import { eth, frag6, ipv4, ipv6, udp } from '../helpers/packets.js';

t.test('IPv4: later fragments join the flow of their first fragment', async (t) => {
  const h = new Harness();
  const first = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, mf: true }, udp(5000, 53, Buffer.alloc(1472)));
  const second = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, mf: true, fragOffset: 1480 }, Buffer.alloc(1480));
  const last = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 4242, fragOffset: 2960 }, Buffer.alloc(100));
  const reply = ipv4({ src: '10.0.0.2', dst: '10.0.0.1', proto: 17, id: 1 }, udp(53, 5000, Buffer.alloc(30)));
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

t.test('a later fragment without its first is counted, not guessed', async (t) => {
  const h = new Harness();
  h.send(0, eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, id: 9, fragOffset: 1480 }, Buffer.alloc(100))));
  t.equal(h.finish().length, 0);
  t.same(h.meter.stats().skipped, { 'fragment-without-first': 1 });
});
