import t from 'tap';
import { feat, Harness } from '../helpers/harness.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const up = (sport: number, flags: number, payload = 0): Buffer =>
  eth(ipv4({ src: A, dst: B, proto: 6 }, tcp({ sport, dport: 443, flags }, Buffer.alloc(payload))));
const down = (dport: number, flags: number, payload = 0): Buffer =>
  eth(ipv4({ src: B, dst: A, proto: 6 }, tcp({ sport: 443, dport, flags }, Buffer.alloc(payload))));
const dgram = (sport: number, dport = 53, from = A, to = B): Buffer => eth(ipv4({ src: from, dst: to, proto: 17 }, udp(sport, dport, Buffer.alloc(20))));

t.test('both directions are one flow; src is the first sender', async (t) => {
  const h = new Harness();
  h.send(0, down(5000, F.SYN)).send(1, up(5000, F.SYN | F.ACK)).send(2, down(5000, F.ACK));
  const [f] = h.finish();
  t.equal(h.flows.length, 1);
  t.same([f!.srcIp, f!.srcPort, f!.dstIp, f!.dstPort, f!.proto], [B, 443, A, 5000, 6]);
  t.same([feat(f!, 'src2dst_packets'), feat(f!, 'dst2src_packets')], [2, 1]);
  t.equal(f!.endReason, 'forced');
});

t.test('active: the flow that goes on keeps its src when the packet that cut it came from dst', async (t) => {
  // Found by review: a long download's next record had the server as src, every feature mirrored.
  const h = new Harness({ activeTimeout: 60, idleTimeout: 120 });
  h.send(0, up(6200, F.SYN)).send(1, down(6200, F.SYN | F.ACK)).send(2, up(6200, F.ACK));
  for (let s = 1; s <= 70; s++) h.send(s * 1000, down(6200, F.ACK, 1000)); // the server sends, 1 s apart
  h.send(71_000, up(6200, F.ACK));
  const all = h.finish();
  t.same(all.map((f) => [f.endReason, f.srcIp, f.srcPort]), [['active', A, 6200], ['forced', A, 6200]], 'the client is src in both');
  t.same(all.map((f) => [feat(f, 'src2dst_packets'), feat(f, 'dst2src_packets')]), [[2, 60], [1, 11]]);
  t.same(all.map((f) => feat(f, 'dst2src_payload_bytes')), [59_000, 11_000]);
});

t.test('active: a SYN from dst after the active timeout opens a new connection, its sender src', async (t) => {
  // Review of the previous: the old connection vanished without FIN or RST, and dst opened another on the same ports.
  const h = new Harness({ activeTimeout: 60, idleTimeout: 120 });
  h.send(0, up(6300, F.SYN)).send(1, down(6300, F.SYN | F.ACK)).send(2, up(6300, F.ACK, 100));
  h.send(61_000, down(6300, F.SYN));
  const all = h.finish();
  t.same(all.map((f) => [f.endReason, f.srcIp, f.srcPort]), [['active', A, 6300], ['forced', B, 443]]);
});

t.test('a TCP flow first seen at its SYN-ACK: the side that opened it (the SYN-ACK\'s receiver) is src', async (t) => {
  // Found by review: on two interfaces drained out of order (a tap's two directions) the SYN-ACK
  // came first, and the server was src in the live record where the capture file said the client.
  const h = new Harness();
  h.send(1, down(5100, F.SYN | F.ACK)).send(0, up(5100, F.SYN)).send(2, up(5100, F.ACK));
  const [f] = h.finish();
  t.same([f!.srcIp, f!.srcPort, f!.dstIp, f!.dstPort], [A, 5100, B, 443]);
  t.same([feat(f!, 'src2dst_packets'), feat(f!, 'dst2src_packets'), feat(f!, 'src2dst_syn_packets')], [2, 1, 1]);
});

t.test('idle: no packet for the idle timeout', async (t) => {
  const h = new Harness({ idleTimeout: 10 });
  h.send(0, dgram(1000)).send(5_000, dgram(1000));
  h.send(16_000, dgram(2000)); // 11 s after the last packet of flow 1000: it expires before this one is placed
  t.equal(h.flows.length, 1);
  t.equal(h.flows[0]!.endReason, 'idle');
  t.equal(feat(h.flows[0]!, 'src2dst_packets'), 2);
  h.send(16_500, dgram(1000));
  const all = h.finish();
  t.same(all.map((f) => [f.srcPort, f.endReason]), [[1000, 'idle'], [2000, 'forced'], [1000, 'forced']]);
});

t.test('active: a long flow is cut and its next packet starts a new one', async (t) => {
  const h = new Harness({ activeTimeout: 60, idleTimeout: 120 });
  for (let s = 0; s <= 100; s += 10) h.send(s * 1000, dgram(1000));
  const all = h.finish();
  t.same(all.map((f) => [f.endReason, feat(f, 'src2dst_packets')]), [['active', 6], ['forced', 5]]);
  t.equal(feat(all[0]!, 'bidirectional_duration_ms'), 50_000);
});

t.test('end: FIN both ways, after the grace the final ACK still counts', async (t) => {
  const h = new Harness({ tcpCloseGrace: 2 });
  h.send(0, up(6000, F.SYN)).send(1, down(6000, F.SYN | F.ACK)).send(2, up(6000, F.ACK, 100));
  h.send(10, up(6000, F.FIN | F.ACK)).send(11, down(6000, F.FIN | F.ACK)).send(12, up(6000, F.ACK));
  t.equal(h.flows.length, 0, 'still open during the grace');
  h.send(3000, dgram(9)); // the clock passes the grace
  t.equal(h.flows.length, 1);
  const f = h.flows[0]!;
  t.equal(f.endReason, 'end');
  t.same([feat(f, 'src2dst_packets'), feat(f, 'dst2src_packets'), feat(f, 'src2dst_fin_packets'), feat(f, 'dst2src_fin_packets')], [4, 2, 1, 1]);
});

t.test('end: a closed flow is end, not idle, when the next packet comes after a gap past the idle timeout', async (t) => {
  // Found by review: a quiet capture (or two captures merged) ended its closed TCP flows as idle:
  // the idle expiry ran before the closed flows' grace was looked at.
  const h = new Harness({ tcpCloseGrace: 2, idleTimeout: 10 });
  h.send(0, up(6100, F.SYN)).send(1, down(6100, F.SYN | F.ACK)).send(2, up(6100, F.ACK, 100));
  h.send(10, up(6100, F.FIN | F.ACK)).send(11, down(6100, F.FIN | F.ACK)).send(12, up(6100, F.ACK));
  h.send(0, dgram(1000)); // open, idle by then
  h.send(5_000_000, dgram(9)); // 83 minutes later
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]).sort(), [[1000, 'idle'], [6100, 'end']]);
});

t.test('end: RST ends a flow after the grace; FIN one way does not', async (t) => {
  const h = new Harness({ tcpCloseGrace: 1 });
  h.send(0, up(7000, F.SYN)).send(1, down(7000, F.RST | F.ACK));
  h.send(0, up(7001, F.SYN)).send(2, up(7001, F.FIN | F.ACK));
  h.send(5000, dgram(9));
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[7000, 'end']]);
  t.same(h.finish().map((f) => f.endReason), ['end', 'forced', 'forced']);
});

t.test('a new SYN on a closed connection starts a new flow', async (t) => {
  const h = new Harness({ tcpCloseGrace: 30 });
  h.send(0, up(8000, F.SYN)).send(1, down(8000, F.RST | F.ACK));
  h.send(100, up(8000, F.SYN)).send(101, down(8000, F.SYN | F.ACK));
  const all = h.finish();
  t.same(all.map((f) => [f.endReason, feat(f, 'bidirectional_packets')]), [['end', 2], ['forced', 2]]);
});

t.test('evicted: a full table ends the least recently used flow', async (t) => {
  const h = new Harness({ maxFlows: 3 });
  h.send(0, dgram(1)).send(1, dgram(2)).send(2, dgram(3));
  h.send(3, dgram(1)); // 1 is now the most recent; 2 is the least
  h.send(4, dgram(4));
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[2, 'evicted']]);
  h.send(5, dgram(5));
  t.same(h.flows.map((f) => f.srcPort), [2, 3]);
  t.equal(h.meter.stats().flowsActive, 3, 'never more than max_flows alive');
  t.same(h.meter.stats().flowsEnded, { idle: 0, active: 0, end: 0, forced: 0, evicted: 2 });
});

t.test('end of input during a closed flow\'s grace: it ended, and says so (end), the open ones forced', async (t) => {
  // Found by review: every TLS flow of the sample capture closed with FIN or RST within the grace
  // before the capture ended, and came out forced, while the README's example record says end.
  const h = new Harness({ tcpCloseGrace: 2 });
  h.send(0, up(6100, F.SYN)).send(1, down(6100, F.SYN | F.ACK)).send(2, up(6100, F.FIN | F.ACK)).send(3, down(6100, F.FIN | F.ACK));
  h.send(0, up(6101, F.SYN)).send(1, down(6101, F.RST | F.ACK));
  h.send(0, up(6102, F.SYN)).send(2, up(6102, F.FIN | F.ACK)); // FIN one way: still open
  t.same(h.finish().map((f) => [f.srcPort, f.endReason]).sort(), [[6100, 'end'], [6101, 'end'], [6102, 'forced']]);
  t.match(h.meter.stats().flowsEnded, { end: 2, forced: 1 });
});

t.test('forced: end of input ends every flow', async (t) => {
  const h = new Harness();
  for (let i = 0; i < 50; i++) h.send(i, dgram(1000 + i));
  t.equal(h.finish().filter((f) => f.endReason === 'forced').length, 50);
  t.equal(h.meter.stats().flowsActive, 0);
});

t.test('the flow cap holds under a flood and the hash index stays consistent', async (t) => {
  const h = new Harness({ maxFlows: 1000 });
  let ok = true;
  for (let i = 0; i < 20000; i++) {
    h.send(i, dgram(1 + (i % 60000), 53, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    // Every 7th packet revisits a recent flow: it must be found, not duplicated.
    if (i % 7 === 0 && i > 10) {
      const j = i - 3;
      h.send(i, dgram(1 + (j % 60000), 53, `10.${(j >> 16) & 255}.${(j >> 8) & 255}.${j & 255}`));
    }
    if (h.meter.stats().flowsActive > 1000) ok = false;
  }
  t.ok(ok, 'never above the cap');
  const all = h.finish();
  const packets = all.reduce((n, f) => n + feat(f, 'bidirectional_packets'), 0);
  t.equal(packets, h.meter.stats().packets, 'every packet is in exactly one finished flow');
  const revisited = all.filter((f) => feat(f, 'bidirectional_packets') === 2).length;
  t.ok(revisited > 2500, `revisits found their flow (${revisited})`);
});

t.test('a full table ends a TCP flow waiting out its close grace first, as end, not the least recently used one', async (t) => {
  // Found by review: the closed flow was reported evicted, or a live flow was split in its place.
  const h = new Harness({ maxFlows: 2, tcpCloseGrace: 2 });
  h.send(0, dgram(1)); // the least recently used, and live
  h.send(1, up(7000, F.SYN)).send(2, down(7000, F.SYN | F.ACK)).send(3, up(7000, F.FIN | F.ACK)).send(4, down(7000, F.FIN | F.ACK));
  h.send(5, dgram(2)); // the table is full: room is made
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[7000, 'end']]);
  t.same(h.meter.stats().flowsEnded, { idle: 0, active: 0, end: 1, forced: 0, evicted: 0 });
  h.send(6, dgram(3)); // none closing now: the least recently used goes
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[7000, 'end'], [1, 'evicted']]);
});
