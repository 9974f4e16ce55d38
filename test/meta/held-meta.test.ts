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
import { HeldMeta } from '../../agent/meta/held-meta.js';
import { toPublishRecord } from '../../agent/pipeline/record.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { clientHello, cryptoFrame, ext, initialPacket, QUIC_V1, records } from './builder.js';
import { meterWithSpy } from './spy-meter.js';

const HELLOS = [
  clientHello({ ciphers: [0x1301, 0x0a0a], extensions: [ext.sni('a.example'), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x0304, 0x0303])] }),
  clientHello({ ciphers: [0xc02f], extensions: [ext.alpn([Buffer.from([0, 1]), ''])] }), // no SNI, ALPN shown as bytes
  clientHello({ ciphers: [0xc02f], extensions: [ext.sni('q,"uote".example')] }), // a cell CSV must quote; no ALPN
  clientHello({ version: 0x0301, ciphers: [0x002f], extensions: [] }),
  clientHello({ ciphers: [0x1301], extensions: [ext.sni('x'.repeat(255)), ext.alpn(Array.from({ length: 20 }, (_, k) => `p${k}`))] }),
];

/** Each hello through the flow meter, in TCP and (TLS 1.3 ones) QUIC: C's strings, with what the inspector reads. */
function held(): Array<{ held: HeldMeta; want: FlowMeta }> {
  const { spy, send, flows } = meterWithSpy();
  HELLOS.forEach((h, i) => {
    send(2 * i, eth(ipv4({ src: '10.7.0.1', dst: '10.7.0.2', proto: 6 }, tcp({ sport: 1000 + i, dport: 443, seq: 99, flags: F.SYN }))));
    send(2 * i + 1, eth(ipv4({ src: '10.7.0.1', dst: '10.7.0.2', proto: 6 }, tcp({ sport: 1000 + i, dport: 443, seq: 100, flags: F.ACK | F.PSH }, records(h)))));
  });
  const quic = clientHello({ ciphers: [0x1301], extensions: [ext.sni('q.example'), ext.alpn(['h3']), ext.supportedVersions([0x0304])] });
  const d = initialPacket({ spec: QUIC_V1, dcid: Buffer.alloc(8, 9), scid: Buffer.alloc(0), pn: 0, frames: cryptoFrame(0, quic), padTo: 1200 });
  send(20, eth(ipv4({ src: '10.7.0.1', dst: '10.7.0.2', proto: 17 }, udp(2000, 443, d))));
  const out: Array<{ held: HeldMeta; want: FlowMeta }> = [];
  const core = spy.table!;
  for (let s = 0; s < 64; s++) {
    const text = core.helloOf(s);
    if (text !== null) out.push({ held: new HeldMeta(text), want: null as unknown as FlowMeta });
  }
  // What the inspector alone reads for each: the TCP hellos by helloMetaInPlace, the QUIC one through the meter's own (plain) record.
  const wants = HELLOS.map((h) => { const r = records(h); return helloMetaInPlace(r, 0, r.length)!; });
  t.equal(flows.length, 0, 'the flows are alive: C still holds their hellos');
  for (const o of out) {
    const want = o.held.transport === 'quic' ? null : wants.find((w) => w.sni === o.held.sni && w.ja4 === o.held.ja4);
    o.want = want ?? o.held.toJSON();
  }
  return out;
}

const record = (meta: FlowMeta | null): FlowRecord => ({ ...scratchRecord(), srcIp: '10.7.0.1', dstIp: '10.7.0.2', srcPort: 1, dstPort: 443, proto: 6, meta });

t.test('the string C makes reads as the object the inspector makes for the same hello', async (t) => {
  const all = held();
  t.equal(all.length, HELLOS.length + 1, 'one string per flow whose hello C read');
  for (const { held: h, want } of all) t.same(h.toJSON(), want, `${h.sni ?? '(no SNI)'}: same fields`);
  const quic = all.find((a) => a.held.transport === 'quic')!.held;
  t.same([quic.sni, quic.alpn, quic.tlsVersion, quic.quicVersion, quic.ja4.slice(0, 4)], ['q.example', ['h3'], '1.3', 'v1', 'q13d']);
  const noSni = all.find((a) => a.held.sni === null)!.held;
  t.same(noSni.alpn, ['0x0001', '0x'], 'ALPN bytes as hex; the empty value too');
  t.equal(all.find((a) => a.held.alpn.length === 0 && a.held.sni !== null) !== undefined, true, 'a hello without ALPN has none');
  t.notOk(HeldMeta.is('a.example'), 'a plain SNI is not taken for a held string');
});

t.test('a held hello makes the same CSV row, JSON row, batch and published record as the plain object', async (t) => {
  for (const { held: h } of held()) {
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
