/**
 * Handshake metadata through the flow meter: the in-place fast path (whole
 * ClientHello in one segment) and the inspector path (split hello) give the
 * same result as the inspector alone; flows that cannot carry a hello get none.
 */
import t from 'tap';
import { createInspector } from '../../agent/meta/index.js';
import { feat, Harness } from '../helpers/harness.js';
import { eth, F, ipv4, tcp } from '../helpers/packets.js';
import { clientHello, cut, ext, records, serverHello } from './builder.js';

const hello = records(clientHello({
  ciphers: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
  extensions: [ext.sni('www.example.test'), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x3a3a, 0x0304, 0x0303]),
    ext.sigAlgs([0x0403, 0x0804, 0x0401]), ext.raw(0x000a, Buffer.from([0, 2, 0, 0x1d])), ext.raw(0x0017)],
}));
const server = records(serverHello({ supportedVersion: 0x0304 }));
const C = '10.0.0.1';
const S = '10.0.0.2';
const up = (seq: number, flags: number, data = Buffer.alloc(0), sport = 50000, dport = 443): Buffer =>
  eth(ipv4({ src: C, dst: S, proto: 6 }, tcp({ sport, dport, seq, flags }, data)));
const down = (seq: number, flags: number, data = Buffer.alloc(0), sport = 50000, dport = 443): Buffer =>
  eth(ipv4({ src: S, dst: C, proto: 6 }, tcp({ sport: dport, dport: sport, seq, flags }, data)));

function expected(): ReturnType<ReturnType<typeof createInspector>['result']> {
  const insp = createInspector({ enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 4096 }, () => undefined);
  insp.onPacket(0, 6, new Uint8Array(0), 999, F.SYN);
  insp.onPacket(1, 6, new Uint8Array(0), 4999, F.SYN | F.ACK);
  insp.onPacket(0, 6, hello, 1000, F.ACK | F.PSH);
  insp.onPacket(1, 6, server, 5000, F.ACK | F.PSH);
  return insp.result();
}

function session(h: Harness, segments: readonly Uint8Array[], sport = 50000, dport = 443, lead: readonly Uint8Array[] = [], reply: Uint8Array = server): void {
  let ms = 0;
  h.send(ms++, up(999, F.SYN, undefined, sport, dport)).send(ms++, down(4999, F.SYN | F.ACK, undefined, sport, dport));
  let seq = 1000;
  for (const l of [...lead, ...segments]) {
    h.send(ms++, up(seq, F.ACK | F.PSH, Buffer.from(l), sport, dport));
    seq += l.length;
  }
  h.send(ms++, down(5000, F.ACK | F.PSH, Buffer.from(reply), sport, dport));
}

t.test('a ClientHello in one segment (fast path) reads as the inspector reads it', async (t) => {
  const h = new Harness();
  session(h, [hello]);
  const [f] = h.finish();
  const want = expected();
  t.same(f!.meta, want);
  t.same([want.sni, want.alpn, want.tlsVersion], ['www.example.test', ['h2', 'http/1.1'], '1.3']);
  t.match(want.ja4, /^t13d0[56]0[56]h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
});

t.test('a ClientHello split over three segments goes through the inspector, same result', async (t) => {
  const h = new Harness();
  session(h, cut(hello, [7, 60]));
  const [f] = h.finish();
  t.same(f!.meta, expected());
});

t.test('odd first payload bytes before the hello, STARTTLS ports, and flows without a hello', async (t) => {
  const h = new Harness();
  session(h, [hello], 50001, 443, [Buffer.from([0])]); // a one-byte keep-alive first
  session(h, [hello], 50002, 587, [Buffer.from('EHLO eta\r\n'), Buffer.from('STARTTLS\r\n')]);
  session(h, [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], 50003, 80, [], Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  const flows = h.finish();
  const by = (p: number): (typeof flows)[number] => flows.find((f) => f.srcPort === p)!;
  t.equal(by(50001).meta?.sni, 'www.example.test');
  t.equal(by(50002).meta?.sni, 'www.example.test', 'STARTTLS on the submission port');
  t.equal(by(50003).meta, null, 'plain HTTP has no hello');
  t.equal(feat(by(50003), 'src2dst_packets'), 2);
});

t.test('a ClientHello whose first segment arrives after a later one is read (the SYN fixes the stream start)', async (t) => {
  const h = new Harness();
  const [a, b, c] = cut(hello, [40, 90]) as [Buffer, Buffer, Buffer];
  let ms = 0;
  h.send(ms++, up(999, F.SYN)).send(ms++, down(4999, F.SYN | F.ACK));
  h.send(ms++, up(1000 + a.length, F.ACK | F.PSH, Buffer.from(b))); // the middle first
  h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from(a)));
  h.send(ms++, up(1000 + a.length + b.length, F.ACK | F.PSH, Buffer.from(c)));
  h.send(ms++, down(5000, F.ACK | F.PSH, Buffer.from(server)));
  // The same with the first segment lost for good, and a plaintext flow with a gap: nothing, no error.
  h.send(ms++, up(999, F.SYN, undefined, 50010)).send(ms++, down(4999, F.SYN | F.ACK, undefined, 50010));
  h.send(ms++, up(1000 + a.length, F.ACK | F.PSH, Buffer.from(b), 50010));
  h.send(ms++, up(999, F.SYN, undefined, 50011, 80)).send(ms++, down(4999, F.SYN | F.ACK, undefined, 50011, 80));
  h.send(ms++, up(1010, F.ACK | F.PSH, Buffer.from('Host: x\r\n\r\n'), 50011, 80));
  h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from('GET / HTTP'), 50011, 80));
  const flows = h.finish();
  const by = (p: number): (typeof flows)[number] => flows.find((f) => f.srcPort === p)!;
  t.same(by(50000).meta, expected());
  t.equal(by(50010).meta, null);
  t.equal(by(50011).meta, null);
});

t.test('a SYN retried with a new ISN before the handshake: the hello at the new ISN + 1 reads in order', async (t) => {
  const h = new Harness();
  let ms = 0;
  h.send(ms++, up(70000, F.SYN)); // unanswered
  h.send(ms++, up(999, F.SYN)).send(ms++, down(4999, F.SYN | F.ACK));
  h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from(hello))).send(ms++, down(5000, F.ACK | F.PSH, Buffer.from(server)));
  const [f] = h.finish();
  t.same(f!.meta, expected());
});

t.test('a ClientHello whose first segment holds 1 to 5 bytes is read (DPI evasion splits, a header written apart)', async (t) => {
  // Found by review: the first bytes did not open a hello record, so the flow was scanned as
  // another protocol and its hello lost, with nothing counted; tshark reads them all.
  const h = new Harness();
  for (let k = 1; k <= 8; k++) session(h, cut(hello, [k]), 50100 + k);
  const flows = h.finish();
  for (let k = 1; k <= 8; k++) t.same(flows.find((f) => f.srcPort === 50100 + k)?.meta, expected(), `split after byte ${k}`);
});

t.test('a ClientHello whose 4-byte message header is split across TLS records is read (RFC 8446 5.1)', async (t) => {
  // Found by review: the reader refused a first record under 4 bytes as malformed (zapret's tlsrec
  // splits there). Records of k and then the rest of the message, in one segment or two.
  const msg = clientHello({
    ciphers: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
    extensions: [ext.sni('www.example.test'), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x3a3a, 0x0304, 0x0303]),
      ext.sigAlgs([0x0403, 0x0804, 0x0401]), ext.raw(0x000a, Buffer.from([0, 2, 0, 0x1d])), ext.raw(0x0017)],
  });
  const h = new Harness();
  for (let k = 1; k <= 6; k++) {
    const recs = Buffer.concat([records(msg.subarray(0, k)), records(msg.subarray(k))]);
    session(h, [recs], 50200 + k);
    session(h, [recs.subarray(0, 5 + k), recs.subarray(5 + k)], 50300 + k);
  }
  const errors: string[] = [];
  const flows = h.finish();
  for (let k = 1; k <= 6; k++) {
    for (const port of [50200 + k, 50300 + k]) t.same(flows.find((f) => f.srcPort === port)?.meta, expected(), `header split after byte ${k} (port ${port})`);
  }
  t.same(errors, []);
  t.same(h.meter.stats().metaErrors, {}, 'nothing counted as malformed');
});

t.test('a malformed ServerHello is counted after a hello C read in place, as after one the reader read', async (t) => {
  // Found by review: the C path dropped it without a report; the JavaScript path counted it.
  const bad = Buffer.concat([server.subarray(0, 43), Buffer.from([200]), server.subarray(44)]); // a session id past the end
  const h = new Harness();
  session(h, [hello], 50400, 443, [], bad); // whole: read in place in C
  session(h, cut(hello, [7, 60]), 50401, 443, [], bad); // split: the reader
  const flows = h.finish();
  t.equal(flows.find((f) => f.srcPort === 50400)?.meta?.sni, 'www.example.test');
  t.same(h.meter.stats().metaErrors, { 'tls-malformed': 2 }, 'counted once per flow, on both paths');
});

t.test('hellos being reassembled are bounded (meta.max_reassembling): in C and in the reader, the rest counted', async (t) => {
  // Found by review: a flood of hellos that never complete held 22 KB per flow (57 KB with QUIC),
  // with nothing bounding the total. Here 2 may reassemble in C and 2 in the reader.
  const limits = { enabled: true, max_packets: 12, max_buffer: 16384, max_reassembling: 2 };
  const h = new Harness({ meta: limits });
  const big = records(clientHello({ ciphers: [0x1301], extensions: [ext.sni('flood.example'), ext.raw(0x0033, Buffer.alloc(3000, 1))] }));
  let ms = 0;
  for (let i = 0; i < 6; i++) {
    const sport = 51000 + i;
    h.send(ms++, up(999, F.SYN, undefined, sport)).send(ms++, down(4999, F.SYN | F.ACK, undefined, sport));
    // In order (C's reassembly), or its first segment late (the reader's): the rest never comes.
    if (i % 2 === 0) h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from(big.subarray(0, 1400)), sport));
    else h.send(ms++, up(1100, F.ACK | F.PSH, Buffer.from(big.subarray(100, 1400)), sport));
  }
  h.finish();
  // The four reassembling when the input ends were cut mid-hello: each is counted so at its end.
  t.same(h.meter.stats().metaErrors, { 'reassembly-overflow': 2, 'hello-incomplete': 4 }, 'the two flows past both bounds are counted');
});

t.test('a flow that ends mid-hello (RST, FIN, the input\'s end) counts hello-incomplete, in C and in the reader', async (t) => {
  // Found by review: only a packet budget running out counted a hello cut short; a flow closed,
  // reset or cut by the capture's end with part of one buffered was counted nowhere.
  const h = new Harness();
  let ms = 0;
  const open = (sport: number): void => void h.send(ms++, up(999, F.SYN, undefined, sport)).send(ms++, down(4999, F.SYN | F.ACK, undefined, sport));
  const ends = [['RST', F.RST | F.ACK], ['FIN', F.FIN | F.ACK], ['input end', 0]] as const;
  ends.forEach(([, flags], k) => {
    // In order from the first byte: C reassembles (tls_split.c).
    open(52000 + k);
    h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from(hello.subarray(0, 60)), 52000 + k));
    if (flags) h.send(ms++, up(1060, flags, undefined, 52000 + k)).send(ms++, down(5000, flags, undefined, 52000 + k));
    // The first segment late: the reader holds the rest.
    open(52100 + k);
    h.send(ms++, up(1010, F.ACK | F.PSH, Buffer.from(hello.subarray(10, 60)), 52100 + k));
    if (flags) h.send(ms++, up(1060, flags, undefined, 52100 + k)).send(ms++, down(5000, flags, undefined, 52100 + k));
  });
  // A whole hello, then a FIN: nothing to count.
  open(52200);
  h.send(ms++, up(1000, F.ACK | F.PSH, Buffer.from(hello), 52200)).send(ms++, up(1000 + hello.length, F.FIN | F.ACK, undefined, 52200));
  const flows = h.finish();
  t.equal(flows.length, 7);
  t.same(h.meter.stats().metaErrors, { 'hello-incomplete': 6 }, 'each of the six cut flows once, on both paths');
  t.equal(flows.find((f) => f.srcPort === 52200)?.meta?.sni, 'www.example.test');
});
