import t from 'tap';
import { feat, Harness } from '../helpers/harness.js';
import { eth, ipv4, udp } from '../helpers/packets.js';
import { wallMicros } from '../../agent/lib/wall-clock.js';

const pkt = (sport: number): Buffer => eth(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17 }, udp(sport, 53, Buffer.alloc(10))));

t.test('a backward jump (concatenated captures) neither stalls nor fires expiry early', async (t) => {
  const h = new Harness({ idleTimeout: 60 });
  h.send(1_000_000, pkt(1)); // capture A at t = 1000 s
  h.send(1_001_000, pkt(1));
  h.send(0, pkt(2)); // capture B starts at t = 0: 1000 s earlier
  t.equal(h.flows.length, 0, 'nothing expired by the jump itself');
  for (let s = 1; s <= 50; s++) h.send(s * 1000, pkt(2)); // B's flow stays alive, one packet a second
  t.equal(h.flows.length, 0, "B's own packets keep its flow alive (no early idle)");
  h.send(70_000, pkt(3)); // 70 s into B: A's flow is idle for longer than 60 s on the rebased clock
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[1, 'idle']], "A's flow expires as B's time passes");
  const all = h.finish();
  const b = all.find((f) => f.srcPort === 2)!;
  t.equal(feat(b, 'src2dst_packets'), 51);
  t.equal(feat(b, 'src2dst_iat_min_ms'), 1000, 'gaps inside B are real gaps');
  t.equal(h.meter.stats().clockJumps, 1);
});

t.test('small disorder (merged captures) gives zero gaps, never negative ones', async (t) => {
  const h = new Harness();
  h.send(100, pkt(1)).send(99.5, pkt(1)).send(101, pkt(1));
  const [f] = h.finish();
  t.equal(feat(f!, 'src2dst_iat_min_ms'), 0);
  t.equal(feat(f!, 'src2dst_iat_max_ms'), 1, 'measured from the latest packet so far');
  t.equal(feat(f!, 'bidirectional_duration_ms'), 1);
  t.equal(h.meter.stats().clockJumps, 0);
});

t.test('a clock tick without packets expires idle flows (quiet live link)', async (t) => {
  const h = new Harness({ idleTimeout: 5 });
  h.send(0, pkt(1));
  h.meter.tick(1.7e15 + 4_000_000);
  t.equal(h.flows.length, 0);
  h.meter.tick(1.7e15 + 5_000_001);
  t.same(h.flows.map((f) => f.endReason), ['idle']);
});

t.test('a live capture that lags behind the timer does not age its flows ahead of time', async (t) => {
  // The daemon stalled (SIGSTOP, load): the timer ticked to the wall clock while packets waited
  // in the ring, then those packets came seconds behind the ticks. They were taken for a new time
  // base, and each stall put every flow's idle time ahead for good (found by review: 20 s idle
  // for a 30 s idle_timeout after 8 stalls of 4 s).
  const base = 1.7e15;
  const h = new Harness({ idleTimeout: 30 });
  h.send(0, pkt(1)); // flow A: one packet at t = 0
  for (let i = 1; i <= 8; i++) {
    h.meter.tick(base + i * 3_000_000); // the timer at t = 3i s...
    h.send(i * 3000 - 2500, pkt(2)); // ...and a packet of flow B that waited 2.5 s in the ring
  }
  t.equal(h.flows.length, 0, 'at t = 24 s nothing has been idle for 30 s');
  h.meter.tick(base + 29_000_000);
  t.equal(h.flows.length, 0, 'nor at t = 29 s');
  h.meter.tick(base + 30_000_001);
  t.same(h.flows.map((f) => [f.srcPort, f.endReason]), [[1, 'idle']], 'A ends idle at 30 s');
  t.equal(h.meter.stats().clockJumps, 0, 'no new time base');
});

t.test('one packet stamped far back, alone, is placed at the clock: no new time base, no flow cut', async (t) => {
  // Found by review: a packet with ts_sec zeroed started a new time base, the next good packet
  // then jumped ahead by the whole offset, and every open flow ended idle (a UDP flow with 20 ms
  // between packets came out as two).
  const h = new Harness({ idleTimeout: 60 });
  for (let i = 0; i < 10; i++) h.send(1_000_000 + 20 * i, pkt(1));
  h.send(-1_700_000_000_000, pkt(1)); // the 1970 packet (the harness adds 1.7e15 µs)
  for (let i = 10; i < 20; i++) h.send(1_000_000 + 20 * i, pkt(1));
  t.equal(h.flows.length, 0, 'nothing ended');
  const all = h.finish();
  t.equal(all.length, 1, 'one flow');
  t.equal(feat(all[0]!, 'src2dst_packets'), 21, 'the odd packet counted in it');
  t.equal(feat(all[0]!, 'src2dst_iat_max_ms'), 20, 'placed at the clock: no gap');
  t.same([h.meter.stats().clockJumps, h.meter.stats().clockHeld], [0, 1], 'counted as held, not as a jump');
});

t.test('the timer reads the wall clock the kernel stamps packets with: after a step ahead, a quiet link still expires', async (t) => {
  // Found by review: the ticks came from the monotonic clock since the start; after an NTP step
  // ahead (or a paused machine) they stayed behind the packets' times and no idle flow ended.
  const real = Date.now;
  t.teardown(() => { Date.now = real; });
  let now = real() + 600_000; // the wall clock, stepped 600 s ahead after the agent started
  Date.now = () => now;
  const h = new Harness({ idleTimeout: 5 });
  h.send(now - 1.7e12, pkt(1)); // stamped by the kernel on the stepped clock (Harness times are ms from 1.7e12)
  now += 6_000;
  h.meter.tick(wallMicros());
  t.same(h.flows.map((f) => f.endReason), ['idle'], 'ended idle 6 s later, by the timer alone');
});
