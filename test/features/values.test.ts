/**
 * Every feature of the registry checked against a value worked out by hand
 * for one small TCP conversation (and a few edge cases). The first test fails
 * if a feature is added to the registry without an expectation here.
 */
import t from 'tap';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { feat, Harness } from '../helpers/harness.js';
import { eth, F, icmp, ipv4, tcp, udp } from '../helpers/packets.js';

const A = '192.0.2.10';
const B = '198.51.100.20';
const ab = (flags: number, payload: number, win = 64240): Buffer =>
  eth(ipv4({ src: A, dst: B, proto: 6 }, tcp({ sport: 50000, dport: 443, flags, win }, Buffer.alloc(payload))));
const ba = (flags: number, payload: number, win = 65160): Buffer =>
  eth(ipv4({ src: B, dst: A, proto: 6 }, tcp({ sport: 443, dport: 50000, flags, win }, Buffer.alloc(payload))));

// time (ms), frame; IP sizes are 40 + payload.
const conversation: Array<[number, Buffer]> = [
  [0, ab(F.SYN, 0)],
  [10, ba(F.SYN | F.ACK, 0)],
  [20, ab(F.ACK, 0)],
  [30, ab(F.PSH | F.ACK, 100)],
  [50, ba(F.ACK, 1000)],
  [6050, ba(F.PSH | F.ACK, 20)], // 6 s gap: longer than the 5 s activity gap
  [6060, ab(F.FIN | F.ACK, 0)],
  [6070, ba(F.FIN | F.ACK, 0)],
  [6080, ab(F.ACK, 0)],
];

const sd = (xs: number[]): number => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
};

const expected: Record<string, number> = {
  src2dst_packets: 5, src2dst_bytes: 300, src2dst_payload_bytes: 100, src2dst_duration_ms: 6080,
  src2dst_size_min: 40, src2dst_size_max: 140, src2dst_size_mean: 60, src2dst_size_stddev: 40,
  src2dst_iat_min_ms: 10, src2dst_iat_max_ms: 6030, src2dst_iat_mean_ms: 1520, src2dst_iat_stddev_ms: sd([20, 10, 6030, 20]),
  src2dst_fin_packets: 1, src2dst_syn_packets: 1, src2dst_rst_packets: 0, src2dst_psh_packets: 1, src2dst_ack_packets: 4,
  src2dst_urg_packets: 0, src2dst_ece_packets: 0, src2dst_cwr_packets: 0, src2dst_init_window: 64240,
  dst2src_packets: 4, dst2src_bytes: 1180, dst2src_payload_bytes: 1020, dst2src_duration_ms: 6060,
  dst2src_size_min: 40, dst2src_size_max: 1040, dst2src_size_mean: 295, dst2src_size_stddev: sd([40, 1040, 60, 40]),
  dst2src_iat_min_ms: 20, dst2src_iat_max_ms: 6000, dst2src_iat_mean_ms: 2020, dst2src_iat_stddev_ms: sd([40, 6000, 20]),
  dst2src_fin_packets: 1, dst2src_syn_packets: 1, dst2src_rst_packets: 0, dst2src_psh_packets: 1, dst2src_ack_packets: 4,
  dst2src_urg_packets: 0, dst2src_ece_packets: 0, dst2src_cwr_packets: 0, dst2src_init_window: 65160,
  bidirectional_packets: 9, bidirectional_bytes: 1480, bidirectional_payload_bytes: 1120, bidirectional_duration_ms: 6080,
  bidirectional_size_min: 40, bidirectional_size_max: 1040, bidirectional_size_mean: 1480 / 9,
  bidirectional_size_stddev: sd([40, 40, 40, 140, 1040, 60, 40, 40, 40]),
  bidirectional_iat_min_ms: 10, bidirectional_iat_max_ms: 6000, bidirectional_iat_mean_ms: 760,
  bidirectional_iat_stddev_ms: sd([10, 10, 10, 20, 6000, 10, 10, 10]),
  bidirectional_fin_packets: 2, bidirectional_syn_packets: 2, bidirectional_rst_packets: 0, bidirectional_psh_packets: 2,
  bidirectional_ack_packets: 8, bidirectional_urg_packets: 0, bidirectional_ece_packets: 0, bidirectional_cwr_packets: 0,
  active_min_ms: 30, active_max_ms: 50, active_mean_ms: 40, active_stddev_ms: 10,
  idle_min_ms: 6000, idle_max_ms: 6000, idle_mean_ms: 6000, idle_stddev_ms: 0,
  packets_per_second: 9 / 6.08, bytes_per_second: 1480 / 6.08, byte_ratio: (300 - 1180) / 1480, packet_ratio: 1 / 9,
};
// The three packets with payload, in order: A→B 100 B, B→A 1000 B 20 ms later, B→A 20 B 6 s later.
const ppi: Array<[number, number, number]> = [[100, 1, 0], [1000, -1, 20], [20, -1, 6000]];
for (let k = 1; k <= 30; k++) {
  expected[`ppi_size_${k}`] = ppi[k - 1]?.[0] ?? 0;
  expected[`ppi_dir_${k}`] = ppi[k - 1]?.[1] ?? 0;
  expected[`ppi_iat_${k}`] = ppi[k - 1]?.[2] ?? 0;
}
for (let b = 0; b < 8; b++) {
  expected[`src2dst_size_hist_${b}`] = b === 3 ? 1 : 0; // 100 B: 64-127
  expected[`dst2src_size_hist_${b}`] = b === 6 || b === 1 ? 1 : 0; // 1000 B: 512-1023, 20 B: 16-31
  expected[`src2dst_iat_hist_${b}`] = 0; // one packet with payload: no gap
  expected[`dst2src_iat_hist_${b}`] = b === 7 ? 1 : 0; // 6000 ms: 1024+
}

t.test('every registered feature has an expectation here', async (t) => {
  t.same(Object.keys(expected).sort(), [...FEATURE_NAMES].sort());
});

t.test('each feature of a hand-worked TCP conversation', async (t) => {
  const h = new Harness();
  for (const [ms, frame] of conversation) h.send(ms, frame);
  const [f] = h.finish();
  t.equal(f!.srcIp, A, 'src is the side that sent the first packet');
  for (const name of FEATURE_NAMES) {
    const got = feat(f!, name);
    const want = expected[name]!;
    if (Math.abs(got - want) > 1e-6 * Math.max(1, Math.abs(want))) t.fail(`${name}: got ${got}, want ${want}`);
  }
  t.pass(`${FEATURE_NAMES.length} features checked`);
});

t.test('a one-packet flow: no gaps, no rates, windows only for TCP', async (t) => {
  const h = new Harness();
  h.send(0, eth(ipv4({ src: A, dst: B, proto: 17 }, udp(1, 2, Buffer.alloc(10)))));
  const [f] = h.finish();
  for (const n of ['src2dst_iat_min_ms', 'src2dst_iat_max_ms', 'bidirectional_iat_mean_ms', 'bidirectional_duration_ms',
    'packets_per_second', 'bytes_per_second', 'src2dst_init_window', 'dst2src_size_min', 'active_min_ms', 'idle_max_ms']) {
    t.equal(feat(f!, n), 0, n);
  }
  t.same([feat(f!, 'byte_ratio'), feat(f!, 'packet_ratio'), feat(f!, 'src2dst_size_min'), feat(f!, 'ppi_size_1')], [1, 1, 38, 10]);
});

t.test('ICMP payload is the body after the 8-byte header', async (t) => {
  const h = new Harness();
  h.send(0, eth(ipv4({ src: A, dst: B, proto: 1 }, icmp(8, 0, Buffer.alloc(60)))));
  const [f] = h.finish();
  t.same([feat(f!, 'src2dst_payload_bytes'), feat(f!, 'src2dst_bytes')], [56, 84]);
});

t.test('the first 30 packets with payload only; later ones do not shift the sequence', async (t) => {
  const h = new Harness();
  for (let i = 0; i < 40; i++) {
    const out = i % 2 === 0;
    const l4 = udp(out ? 1 : 2, out ? 2 : 1, Buffer.alloc(i + 1));
    h.send(i * 2, eth(ipv4({ src: out ? A : B, dst: out ? B : A, proto: 17 }, l4)));
    h.send(i * 2 + 1, eth(ipv4({ src: A, dst: B, proto: 17 }, udp(1, 2)))); // empty datagrams are skipped by PPI
  }
  const [f] = h.finish();
  t.same([1, 2, 30].map((k) => feat(f!, `ppi_size_${k}`)), [1, 2, 30]);
  t.same([1, 2, 30].map((k) => feat(f!, `ppi_dir_${k}`)), [1, -1, -1]);
  t.same([1, 2].map((k) => feat(f!, `ppi_iat_${k}`)), [0, 2]);
  t.equal(feat(f!, 'src2dst_packets'), 60);
});
