/**
 * A hello the flow core read in place reaches JavaScript as one string (held-meta.ts): it must
 * read as the object the inspector makes for the same hello, in every place a record goes (CSV
 * and JSON rows, the row writer's batches, published records).
 */
import t from 'tap';
import { csvRow, jsonLine } from '../../agent/features/format.js';
import { scratchRecord, type FlowMeta, type FlowRecord } from '../../agent/features/record.js';
import { newBatch, pack, unpack } from '../../agent/features/row-batch.js';
import { helloMetaInPlace } from '../../agent/meta/fast-tls.js';
import { HeldMeta, packMeta } from '../../agent/meta/held-meta.js';
import { versionName } from '../../agent/meta/hello.js';
import { handshakeMeta } from '../../agent/meta/meta-object.js';
import { quicVersionName } from '../../agent/meta/quic-keys.js';
import type { HandshakeTransport } from '../../agent/meta/types.js';
import { ackFrame, chlo, publicPacket, streamFrame } from './gquic-builder.js';
import { Inspector } from '../../agent/meta/inspector.js';
import { toPublishRecord } from '../../agent/pipeline/record.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { clientHello, clientHelloBody, cryptoFrame, dtlsFragment, dtlsRecord, ext, initialPacket, QUIC_V1, records } from './builder.js';
import { meterWithSpy } from './spy-meter.js';

const HELLOS = [
  clientHello({ ciphers: [0x1301, 0x0a0a], extensions: [ext.sni('a.example'), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x0304, 0x0303])] }),
  clientHello({ ciphers: [0xc02f], extensions: [ext.alpn([Buffer.from([0, 1]), ''])] }), // no SNI, ALPN shown as bytes
  clientHello({ ciphers: [0xc02f], extensions: [ext.sni('q,"uote".example')] }), // a cell CSV must quote; no ALPN
  clientHello({ version: 0x0301, ciphers: [0x002f], extensions: [] }),
  clientHello({ ciphers: [0x1301], extensions: [ext.sni('x'.repeat(255)), ext.alpn(Array.from({ length: 20 }, (_, k) => `p${k}`))] }),
  clientHello({ ciphers: [0x1301], extensions: [ext.sni('b.example'), ext.alpn(['h2', 'a;b'])] }), // ';' joins the CSV cell's values
];

const QUIC_HELLO = clientHello({ ciphers: [0x1301], extensions: [ext.sni('q.example'), ext.alpn(['h3']), ext.supportedVersions([0x0304])] });
const LIMITS = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };

/** C's string for one flow alone in a flow meter (the flow still alive), or null when C holds no hello. */
function heldOf(frame: Buffer): HeldMeta | null {
  const { spy, send } = meterWithSpy();
  send(0, frame);
  const texts: string[] = [];
  for (let s = 0; s < 64; s++) {
    const text = spy.table!.helloOf(s);
    if (text !== null) texts.push(text);
  }
  return texts.length === 1 ? new HeldMeta(texts[0]!) : null;
}

/** Each hello through the flow meter, in TCP and (TLS 1.3 ones) QUIC: C's string, with what JavaScript's reader finds in the same packet. */
function held(): Array<{ held: HeldMeta | null; want: FlowMeta }> {
  const out: Array<{ held: HeldMeta | null; want: FlowMeta }> = HELLOS.map((h) => {
    const r = records(h);
    return { held: heldOf(eth(ipv4({ src: '10.7.0.1', dst: '10.7.0.2', proto: 6 }, tcp({ sport: 1000, dport: 443, seq: 100, flags: F.ACK | F.PSH }, r)))), want: helloMetaInPlace(r, 0, r.length)! };
  });
  const d = initialPacket({ spec: QUIC_V1, dcid: Buffer.alloc(8, 9), scid: Buffer.alloc(0), pn: 0, frames: cryptoFrame(0, QUIC_HELLO), padTo: 1200 });
  const ref = new Inspector(LIMITS, () => undefined);
  ref.onPacket(0, 17, d, 0, 0);
  out.push({ held: heldOf(eth(ipv4({ src: '10.7.0.1', dst: '10.7.0.2', proto: 17 }, udp(2000, 443, d)))), want: ref.result() });
  return out;
}

const record = (meta: FlowMeta | null): FlowRecord => ({ ...scratchRecord(), srcIp: '10.7.0.1', dstIp: '10.7.0.2', srcPort: 1, dstPort: 443, proto: 6, meta });

t.test('the string C makes reads as the object the inspector makes for the same hello', async (t) => {
  const all = held();
  for (const [i, { held: h, want }] of all.entries()) {
    if (h === null) {
      t.fail(`hello ${i}: C holds no string`);
      continue;
    }
    t.same(h.toJSON(), want, `hello ${i} (${h.sni ?? 'no SNI'}): same fields`);
  }
  const quic = all[all.length - 1]!.held!;
  t.same([quic.sni, quic.alpn, quic.tlsVersion, quic.quicVersion, quic.ja4?.slice(0, 4), quic.transport], ['q.example', ['h3'], '1.3', 'v1', 'q13d', 'quic']);
  t.same(all[1]!.held!.alpn, ['0x0001', '0x'], 'ALPN bytes as hex; the empty value too');
  t.same([all[2]!.held!.sni, all[2]!.held!.alpn], ['q,"uote".example', []], 'an SNI CSV must quote; no ALPN');
  t.equal(all[3]!.held!.sni, null, 'no SNI');
  // Found by review: "a;b" came back from the CSV cell "h2;a;b" as two values.
  t.same([all[5]!.held!.alpn, all[5]!.want.alpn], [['h2', '0x613b62'], ['h2', '0x613b62']], "an ALPN value with ';' as hex, in C and in JavaScript");
  const a = new AsciiBuffer();
  csvRow(a, record(all[5]!.held!));
  t.match(a.take().toString('latin1'), ',b.example,h2;0x613b62,', 'so the CSV cell splits back into the same values');
  t.notOk(HeldMeta.is('a.example'), 'a plain SNI is not taken for a held string');
});

t.test('a held hello makes the same CSV row, JSON row, batch and published record as the plain object', async (t) => {
  for (const { held: h } of held()) {
    if (h === null) continue; // the test above fails then
    const plain = h.toJSON();
    const a = new AsciiBuffer();
    const b = new AsciiBuffer();
    csvRow(a, record(h));
    csvRow(b, record(plain));
    t.equal(a.take().toString('latin1'), b.take().toString('latin1'), 'CSV');
    t.equal(jsonLine(record(h)), jsonLine(record(plain)), 'JSON line');
    const batch = newBatch(1);
    pack(batch, record(h));
    const back = unpack(structuredClone(batch), 0, scratchRecord());
    t.ok(back.meta instanceof HeldMeta, 'the writer thread receives the one string');
    t.same((back.meta as HeldMeta).toJSON(), plain, 'and reads the same fields from it');
    t.same(toPublishRecord(record(h), { kinds: [] }, 's'), toPublishRecord(record(plain), { kinds: [] }, 's'), 'published record');
  }
});

t.test('packMeta writes what the inspectors find so that it reads as handshakeMeta makes it, for every kind of field', async (t) => {
  const transports: Array<HandshakeTransport | null> = ['tls', 'quic', 'dtls', null];
  const versions = [null, 0x0304, 0x0303, 0xfefd, 0x7f1c, 0x1234];
  const wires = [0, 1, 0x6b3343cf, 0xff00001d, 0x51303433, 0x54303531, 0xabcdef01];
  const ja4s = [null, 't13d1516h2_8daaf6152771_b186095e22b6', 'd12i000000_000000000000_000000000000'];
  const snis = [null, 'a.example', 'x'.repeat(255), 'q,"u', 'c,d'];
  const alpns: string[][] = [[], ['h2'], ['0x', '0x0001', 'p;q', 'http/1.1'], ['a,b', 'c"d'], ['x,y']];
  let n = 0;
  const bad: string[] = [];
  const badCsv: string[] = [];
  const a1 = new AsciiBuffer();
  const a2 = new AsciiBuffer();
  for (const tr of transports) for (const v of versions) for (const w of wires) for (const j of ja4s) for (const sni of snis) for (const a of alpns) {
    n++;
    const plain = handshakeMeta(sni, a, v === null ? null : versionName(v), j, tr, w === 0 ? undefined : quicVersionName(w));
    const held = new HeldMeta(packMeta(tr, v, w, j, sni, a));
    const want = JSON.stringify(plain);
    const got = JSON.stringify(held);
    if (got !== want && bad.length < 5) bad.push(`${got} != ${want}`);
    // The CSV cells csvCells writes from the string, as csvRow writes them from the plain object.
    csvRow(a1, record(held));
    csvRow(a2, record(plain));
    const [c1, c2] = [a1.take().toString('latin1'), a2.take().toString('latin1')];
    if (c1 !== c2 && badCsv.length < 5) badCsv.push(`${c1.slice(0, 160)} != ${c2.slice(0, 160)}`);
  }
  t.same(bad, [], `${n} combinations`);
  t.same(badCsv, [], `${n} combinations: the same CSV rows`);
});

t.test("what JavaScript's readers find (gQUIC, DTLS) reaches the record as a HeldMeta reading as the inspector's object", async (t) => {
  const limits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
  // An ACK frame first: C reads a bare CHLO packet itself (gquic-in-place.test.ts), this one it leaves to the reader.
  const gq = publicPacket({ version: 43, frames: Buffer.concat([ackFrame(43), streamFrame(43, 1, 0, chlo({ SNI: 'gq.example', VER: 'Q043' }, 1024))]), padTo: 1350 });
  // In two fragments: C reads a whole DTLS ClientHello itself (dtls-in-place.test.ts), fragments it leaves to the reader.
  const body = clientHelloBody({ version: 0xfefd, ciphers: [0xc02b], cookie: Buffer.alloc(0), extensions: [ext.sni('d.example')] });
  const dtls = Buffer.concat([dtlsRecord(dtlsFragment(1, body, 0, 0, 20)), dtlsRecord(dtlsFragment(1, body, 0, 20), { seq: 1 })]);
  for (const [what, payload] of [['gQUIC', gq], ['DTLS', dtls]] as const) {
    const { spy, send, finish, flows } = meterWithSpy(64, limits);
    send(0, eth(ipv4({ src: '10.8.0.1', dst: '10.8.0.2', proto: 17 }, udp(3000, 443, payload))));
    finish();
    const ref = new Inspector(limits, () => undefined);
    ref.onPacket(0, 17, payload, 0, 0);
    t.equal(JSON.stringify(flows[0]?.meta), JSON.stringify(ref.result()), what);
    t.ok(ref.result().sni !== null, `${what}: the reader found the SNI`);
    t.ok(spy.seen.length > 0, `${what}: JavaScript's reader read it`);
  }
});
