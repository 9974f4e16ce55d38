/**
 * A whole ClientHello in a TCP flow's first payload, or in a QUIC flow's first client Initial, is
 * read by the C flow table itself (hello_watch.c), kept until the flow ends, and read back
 * through helloOf: JavaScript sees none of those packets, the flow reports what JavaScript's
 * in-place readers report, and hellos C cannot read whole still reach JavaScript's reader.
 */
import t from 'tap';
import { WATCH_BEGIN } from '../../agent/flows/table.js';
import { helloMetaInPlace } from '../../agent/meta/fast-tls.js';
import { helloSummary } from '../../agent/meta/hello-native.js';
import { Inspector } from '../../agent/meta/inspector.js';
import { rng } from '../helpers/fuzz.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { clientHello, cryptoFrame, ext, initialPacket, QUIC_DRAFT29, QUIC_V1, QUIC_V2, records, type Ext } from './builder.js';
import { meterWithSpy } from './spy-meter.js';

const CAPACITY = 4096; // meterWithSpy's

/** ClientHellos of every shape the summary covers: SNI or none, ALPN text and bytes, GREASE, version lists, long lists. */
function hellos(): Buffer[] {
  const r = rng(3);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const out: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const exts: Ext[] = [];
    if (r() < 0.8) exts.push(ext.sni(pick(['a.example', 'video.example.com', 'x'.repeat(255), 'caf\u00e9.example', 'bad name'])));
    if (r() < 0.7) exts.push(ext.alpn(pick([['h2', 'http/1.1'], ['h3'], [Buffer.from([0, 1, 2])], [''], Array.from({ length: 20 }, (_, k) => `p${k}`)])));
    if (r() < 0.7) exts.push(ext.supportedVersions(pick([[0x0304, 0x0303], [0x7a7a, 0x0304], [0x0303], [0x7f1c]])));
    if (r() < 0.5) exts.push(ext.sigAlgs([0x0403, 0x0804, 0x0401]));
    if (r() < 0.5) exts.push(ext.raw(0x0a0a), ext.raw(0x0033, Buffer.alloc(36, 7)));
    const ciphers = Array.from({ length: 1 + Math.floor(r() * 70) }, () => pick([0x1301, 0x1302, 0xc02f, 0x2a2a, 0x009c, 0xcca8]) + Math.floor(r() * 3));
    out.push(records(clientHello({ version: pick([0x0303, 0x0301]), ciphers, extensions: exts })));
  }
  return out;
}

/** Whether tls_split.c begins reassembling at first payload p: a ClientHello record, in one record, longer than p (default max_buffer). */
function splitStarts(p: Buffer): boolean {
  if (p.length < 9 || p[0] !== 0x16 || p[1] !== 3 || p[2]! > 4 || p[5] !== 1) return false;
  const rec = p.readUInt16BE(3);
  const msg = 4 + p.readUIntBE(6, 3);
  return rec >= 4 && rec <= 16384 + 2048 && msg <= rec && msg <= 16384 && 5 + msg > p.length;
}

/**
 * A first payload C reports malformed itself (tls_resume.c hw_malformed_hello): one ClientHello
 * record, all here, that the reader anchored at it would parse, and that does not parse.
 */
function malformedInC(p: Buffer): boolean {
  if (p.length < 9 || p[0] !== 0x16 || p[1] !== 3 || p[2]! > 4 || p[5] !== 1) return false;
  const rec = p.readUInt16BE(3);
  const need = 4 + p.readUIntBE(6, 3);
  if (rec === 0 || rec > 16384 + 2048 || need > rec || 5 + need > 16384 || 5 + rec > p.length) return false;
  return helloSummary(p, 9, 5 + need, false, 't') === null;
}

function tlsFlow(sport: number): (seq: number, flags: number, data?: Buffer) => Buffer {
  return (seq, flags, data) => eth(ipv4({ src: '10.3.0.1', dst: '10.3.0.2', proto: 6 }, tcp({ sport, dport: 443, seq, flags }, data)));
}

t.test('a whole ClientHello in the first payload is read in C, as helloMetaInPlace reads it, and dropped at the flow end', async (t) => {
  const { spy, send, finish, flows } = meterWithSpy();
  const all = hellos();
  all.forEach((hello, i) => {
    const up = tlsFlow(10000 + i);
    send(2 * i, up(99, F.SYN));
    send(2 * i + 1, up(100, F.ACK | F.PSH, hello));
  });
  t.same(spy.seen, [], 'no packet of these flows reached JavaScript');
  const core = spy.table!;
  let held = 0;
  for (let s = 0; s < CAPACITY; s++) if (core.helloOf(s) !== null) held++;
  t.equal(held, all.length, 'C keeps one hello per flow while the flows live');
  t.throws(() => core.helloOf(CAPACITY), RangeError, 'a slot outside the table is refused');
  finish();
  held = 0;
  for (let s = 0; s < CAPACITY; s++) if (core.helloOf(s) !== null) held++;
  t.equal(held, 0, 'every hello is dropped when its flow ends');
  t.equal(flows.length, all.length);
  let same = 0;
  for (const f of flows) {
    const hello = all[f.srcPort - 10000]!;
    if (JSON.stringify(f.meta) === JSON.stringify(helloMetaInPlace(hello, 0, hello.length))) same++;
  }
  t.equal(same, all.length, 'every flow reports exactly the metadata helloMetaInPlace reads');
  t.ok(flows.filter((f) => f.meta?.sni === null).length > 30 && flows.filter((f) => f.meta?.alpn.some((a) => a.startsWith('0x'))).length > 10,
    'the set covers hellos without a readable SNI and ALPN values shown as bytes');
});

t.test("a hello split over in-order segments is read in C too; a malformed one is reported in C, as the reader reported it", async (t) => {
  const { spy, send, finish, flows, errors } = meterWithSpy();
  const hello = records(clientHello({ ciphers: [0x1301], extensions: [ext.sni('split.example'), ext.alpn(['h2'])] }));
  const split = tlsFlow(20001);
  send(0, split(99, F.SYN));
  send(1, split(100, F.ACK | F.PSH, hello.subarray(0, 40)));
  send(2, split(140, F.ACK | F.PSH, hello.subarray(40)));
  const broken = Buffer.from(hello);
  broken[9 + 2 + 32] = 200; // a session id longer than the hello
  const bad = tlsFlow(20002);
  send(3, bad(99, F.SYN));
  send(4, bad(100, F.ACK | F.PSH, broken));
  t.same(spy.seen.filter((s) => s.action === WATCH_BEGIN).map((s) => s.sport), [], 'neither was handed to JavaScript');
  finish();
  const meta = new Map(flows.map((f) => [f.srcPort, f.meta]));
  t.equal(meta.get(20001)?.sni, 'split.example', 'the split hello is read in C');
  t.equal(meta.get(20002) ?? null, null, 'the malformed one yields nothing');
  const ref: string[] = [];
  new Inspector({ enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 }, (r) => ref.push(r)).onPacket(0, 6, broken, 100, F.ACK | F.PSH);
  t.same(errors, ref, "the reader's report (tls-malformed), counted when the flow ended");
  t.same(ref, ['tls-malformed']);
});

t.test("a QUIC flow's first client Initial holding a TLS 1.3 hello is read in C, as the inspector reads it", async (t) => {
  const { spy, send, finish, flows } = meterWithSpy();
  const limits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
  const hello13 = clientHello({ ciphers: [0x1301, 0x1302], extensions: [ext.raw(0x4a4a), ext.sni('q.example'), ext.alpn(['h3']), ext.supportedVersions([0x0304])] });
  const hello12 = clientHello({ ciphers: [0x1301], extensions: [ext.sni('old.example'), ext.alpn(['h3']), ext.supportedVersions([0x0303])] });
  const big = clientHello({ ciphers: [0x1301], extensions: [ext.sni('big.example'), ext.raw(0x0033, Buffer.alloc(1300, 5)), ext.supportedVersions([0x0304])] });
  const datagrams = new Map<number, Buffer>();
  let port = 30000;
  for (const spec of [QUIC_V1, QUIC_V2, QUIC_DRAFT29]) {
    for (const [hello, split] of [[hello13, false], [hello12, false], [big, true]] as const) {
      const dcid = Buffer.alloc(8, port & 0xff);
      const frames = split ? cryptoFrame(0, hello.subarray(0, 1000)) : cryptoFrame(0, hello);
      const d = initialPacket({ spec, dcid, scid: Buffer.from('a1a2', 'hex'), pn: 0, frames, padTo: 1200 });
      datagrams.set(++port, d);
      send(port, eth(ipv4({ src: '10.4.0.1', dst: '10.4.0.2', proto: 17 }, udp(port, 443, d))));
    }
  }
  const handed = spy.seen.map((s) => s.sport);
  t.same(handed, [30002, 30005, 30008], 'only hellos without TLS 1.3 reached JavaScript (one over two Initials waits in C for the second: quic_split.c)');
  finish();
  let same = 0;
  for (const f of flows) {
    const d = datagrams.get(f.srcPort)!;
    const insp = new Inspector(limits, () => undefined);
    insp.onPacket(0, 17, d, 0, 0);
    const r = insp.result();
    // A flow where nothing was found (a hello split over Initials, of which only the first came) reports null.
    if (JSON.stringify(f.meta) === JSON.stringify(r.ja4 === null && r.sni === null ? null : r)) same++;
  }
  t.equal(same, flows.length, 'every flow reports what the JavaScript reader reads from its first datagram');
  t.equal(flows.find((f) => f.srcPort === 30001)?.meta?.quicVersion, 'v1');
  t.equal(flows.find((f) => f.srcPort === 30004)?.meta?.sni, 'q.example');
});

t.test('mutated first payloads: C reads in place exactly what helloMetaInPlace read, and leaves the rest to the inspector (3,000 cases)', async (t) => {
  const { spy, send, finish, flows, errors } = meterWithSpy();
  const limits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
  const base = hellos().slice(0, 20);
  const r = rng(11);
  const payloads = new Map<number, Buffer>();
  for (let i = 0; i < 3000; i++) {
    const p = Buffer.from(base[i % base.length]!);
    // Mostly the record and handshake headers (type, lengths), sometimes anywhere; some cut short.
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) p[r() < 0.7 ? Math.floor(r() * 12) : Math.floor(r() * p.length)] = Math.floor(r() * 256);
    const payload = i % 7 === 6 ? p.subarray(0, Math.floor(r() * p.length) + 1) : p;
    const sport = 40000 + i;
    payloads.set(sport, payload);
    const up = tlsFlow(sport);
    send(2 * i, up(99, F.SYN));
    send(2 * i + 1, up(100, F.ACK | F.PSH, payload));
  }
  finish();
  const handed = new Set(spy.seen.map((x) => x.sport));
  let routed = 0;
  let same = 0;
  const wantErrors: string[] = [];
  for (const f of flows) {
    const p = payloads.get(f.srcPort)!;
    // C keeps exactly the hellos helloMetaInPlace reads, and starts reassembling a record that opens a
    // ClientHello and claims more bytes than came (tls_split.c); every other record that opens a
    // ClientHello or ServerHello goes to JavaScript; the rest C scans (the reader would ignore them).
    const kept = helloMetaInPlace(p, 0, p.length) != null || splitStarts(p) || malformedInC(p);
    const opens = p.length >= 6 && p[0] === 0x16 && p[1] === 3 && p[2]! <= 4 && (p[5] === 1 || p[5] === 2);
    // Under 6 bytes that a hello record's header may begin with, at the stream's start: the reader's too
    // (a hello split after byte 1 to 5, found by review).
    const prefix = p.length < 6 && p[0] === 0x16 && (p.length < 2 || p[1] === 3) && (p.length < 3 || p[2]! <= 4);
    if (kept ? !handed.has(f.srcPort) : handed.has(f.srcPort) === (opens || prefix)) routed++;
    // What MetaPlugin.begin did in JavaScript: the hello read in place, else an inspector from this packet
    // on (a prefix after the SYN replayed), told at the end that the flow ended (a hello cut short counts).
    const payload = payloads.get(f.srcPort)!;
    let want = helloMetaInPlace(payload, 0, payload.length) ?? null;
    if (want === null) {
      const insp = new Inspector(limits, (r) => wantErrors.push(r));
      if (prefix) insp.onPacket(0, 6, Buffer.alloc(0), 99, F.SYN);
      insp.onPacket(0, 6, payload, 100, F.ACK | F.PSH);
      insp.flowEnded();
      const r = insp.result();
      want = r.ja4 === null && r.sni === null && r.tlsVersion === null ? null : r;
    }
    if (JSON.stringify(f.meta) === JSON.stringify(want)) same++;
  }
  t.equal(flows.length, 3000);
  t.equal(routed, 3000, 'C kept the hellos helloMetaInPlace reads, began the split ones, handed on the other hello records, scanned the rest');
  t.equal(same, 3000, 'every flow reports what the JavaScript path read from the same packets');
  t.same([...errors].sort(), wantErrors.sort(), `the same error reports (${wantErrors.length})`);
  t.ok(flows.filter((f) => f.meta !== null).length > 500 && flows.filter((f) => f.meta === null).length > 500, 'the mutations leave both kinds');
});

t.test('slots reused while hellos are kept: each flow reports its own hello (300 flows through 64 slots)', async (t) => {
  const { spy, send, finish, flows } = meterWithSpy(64);
  const all = hellos();
  all.forEach((hello, i) => {
    const up = tlsFlow(50000 + i);
    send(2 * i, up(99, F.SYN));
    send(2 * i + 1, up(100, F.ACK | F.PSH, hello));
  });
  finish();
  t.same(spy.seen, [], 'all read in C');
  t.equal(flows.length, all.length);
  const wrong = flows.filter((f) => {
    const hello = all[f.srcPort - 50000]!;
    return JSON.stringify(f.meta) !== JSON.stringify(helloMetaInPlace(hello, 0, hello.length));
  });
  t.equal(wrong.length, 0, 'no flow reports another flow\'s hello, though most ended to make room');
  t.ok(flows.filter((f) => f.endReason === 'evicted').length > 200, 'most flows were evicted');
});
