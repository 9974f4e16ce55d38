/**
 * Google QUIC Q024-Q046 (null-encrypted packets built in the test, gquic-builder.ts): the
 * SNI from the CHLO on stream 1, across header and frame variants, split and late CHLOs,
 * and what must be ignored or counted.
 */
import t from 'tap';
import { createInspector, looksLikeGquic, type HandshakeInspector, type MetaLimits } from '../../agent/meta/index.js';
import { ackFrame, chlo, fnv1a128, publicPacket, q046Packet, streamFrame } from './gquic-builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
// A Chrome-like inchoate CHLO, padded to fill its packet as Chrome does.
const CHLO = chlo({ SNI: 'www.example.org', VER: 'Q043', UAID: 'Chrome/70.0', PDMD: 'X509', CCS: Buffer.alloc(16, 7) }, 1024);

function run(datagrams: ReadonlyArray<readonly [0 | 1, Uint8Array]>, limits = LIMITS): { insp: HandshakeInspector; errors: string[]; done: boolean[] } {
  const errors: string[] = [];
  const insp = createInspector(limits, (r) => errors.push(r));
  const done = datagrams.map(([dir, d]) => insp.onPacket(dir, 17, d, 0, 0));
  return { insp, errors, done };
}

t.test('the test hash is FNV-1a 128 (reference vectors of the FNV test suite)', async (t) => {
  t.equal(fnv1a128(Buffer.from('')).toString(16), '6c62272e07bb014262b821756295c58d');
  t.equal(fnv1a128(Buffer.from('a')).toString(16), 'd228cb696f1a8caf78912b704e4a8964');
  t.equal(fnv1a128(Buffer.from('foo'), Buffer.from('bar')).toString(16), '343e1662793c64bf6f0d3597ba446f18');
});

t.test('the CHLO builder writes what the protocol says', async (t) => {
  t.equal(CHLO.length, 1024);
  t.equal(CHLO.toString('latin1', 0, 4), 'CHLO');
  t.equal(CHLO.readUInt16LE(4), 6, 'five tags and PAD');
  t.equal(CHLO.toString('latin1', 8, 12), 'PAD\0', 'tags sorted by their little-endian value');
});

for (const version of [24, 25, 30, 33, 35, 37, 39, 43]) {
  t.test(`Q0${version}: CHLO in one public-header packet`, async (t) => {
    const p = publicPacket({ version, frames: streamFrame(version, 1, 0, CHLO), padTo: 1350 });
    t.ok(looksLikeGquic(p));
    const { insp, errors, done } = run([[0, p]]);
    t.same(done, [true], 'done at the CHLO: there is no ServerHello to wait for');
    t.same(insp.result(), { sni: 'www.example.org', alpn: [], tlsVersion: null, ja4: null, transport: 'quic', quicVersion: `Q0${version}` });
    t.equal(insp.retainedBytes(), 0);
    t.same(errors, []);
  });
}

t.test('Q046: the long-header Initial, null-encrypted', async (t) => {
  const p = q046Packet({ frames: streamFrame(46, 1, 0, CHLO), padTo: 1350 });
  t.ok(looksLikeGquic(p));
  const { insp, errors, done } = run([[0, p]]);
  t.same(done, [true]);
  t.equal(insp.result().sni, 'www.example.org');
  t.equal(insp.result().quicVersion, 'Q046');
  t.same(errors, []);
});

t.test('header and frame variants: packet-number lengths, ACK frames first, stream ID and offset widths, no data length', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['6-byte packet number, little-endian', publicPacket({ version: 30, pnLen: 6, pn: 0x0102030405, frames: streamFrame(30, 1, 0, CHLO) })],
    ['2-byte packet number, big-endian', publicPacket({ version: 43, pnLen: 2, pn: 0x1234, frames: streamFrame(43, 1, 0, CHLO) })],
    ['ACK (with a NACK range) then STREAM, Q030', publicPacket({ version: 30, frames: Buffer.concat([ackFrame(30, 1), streamFrame(30, 1, 0, CHLO)]) })],
    ['ACK (with blocks) then STREAM, Q043', publicPacket({ version: 43, frames: Buffer.concat([ackFrame(43, 2), streamFrame(43, 1, 0, CHLO)]) })],
    ['PING, STOP_WAITING, then a 4-byte stream ID and 8-byte offset 0', publicPacket({ version: 39, pnLen: 4, frames: Buffer.concat([Buffer.from([0x07, 0x06, 0, 0, 0, 1]), streamFrame(39, 1, 0, CHLO, { idLen: 4, offLen: 8 })]) })],
    ['STREAM without a data length (runs to the packet end)', publicPacket({ version: 35, frames: streamFrame(35, 1, 0, CHLO, { noLength: true }) })],
    ['FEC group byte in the private flags, Q025', publicPacket({ version: 25, privateFlags: 0x02, frames: Buffer.concat([Buffer.from([0x09]), streamFrame(25, 1, 0, CHLO)]) })],
  ];
  for (const [name, p] of cases) {
    const { insp, errors } = run([[0, p]]);
    t.equal(insp.result().sni, 'www.example.org', name);
    t.same(errors, [], name);
  }
});

t.test('a CHLO over two packets, in order and reversed; the second packet without the version', async (t) => {
  const half = 600;
  const first = publicPacket({ version: 43, pn: 1, frames: streamFrame(43, 1, 0, CHLO.subarray(0, half)) });
  const second = publicPacket({ version: 43, pn: 2, noVersion: true, frames: streamFrame(43, 1, half, CHLO.subarray(half)) });
  const a = run([[0, first], [0, second]]);
  t.same(a.done, [false, true]);
  t.equal(a.insp.result().sni, 'www.example.org');
  t.same(a.errors, []);
  const secondWithVersion = publicPacket({ version: 43, pn: 2, frames: streamFrame(43, 1, half, CHLO.subarray(half)) });
  const b = run([[0, secondWithVersion], [0, first]]);
  t.ok(b.insp.retainedBytes() === 0 && b.done[1], 'reassembled out of order, then freed');
  t.equal(b.insp.result().sni, 'www.example.org');
  t.same(b.errors, []);
});

t.test('a capture that starts after the first CHLO: the full CHLO at stream offset 1024 is read', async (t) => {
  const full = chlo({ SNI: 'late.example.org', STK: Buffer.alloc(54, 1), SNO: Buffer.alloc(52, 2) }, 1024);
  const p = q046Packet({ pn: 4, frames: streamFrame(46, 1, 1024, full) });
  const { insp, errors } = run([[0, p]]);
  t.equal(insp.result().sni, 'late.example.org');
  t.same(errors, []);
});

t.test('ignored without a count: server packets, encrypted packets, other streams, a CHLO without SNI', async (t) => {
  const good = publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO) });
  // The server's REJ on stream 1 carries the server's perspective in its hash.
  const rej = publicPacket({ version: 43, perspective: 'Server', frames: streamFrame(43, 1, 0, chlo({ SNI: 'not.the.client' })) });
  const a = run([[1, rej], [0, good]]);
  t.equal(a.insp.result().sni, 'www.example.org', 'a server-hashed packet is not the client');
  t.same(a.errors, []);
  // An encrypted packet: a valid-looking header, but the hash does not match.
  const encrypted = Buffer.from(good);
  encrypted[40] = encrypted[40]! ^ 0x55;
  const b = run([[0, encrypted]]);
  t.same(b.insp.result(), { sni: null, alpn: [], tlsVersion: null, ja4: null, transport: null });
  t.same(b.errors, []);
  // Stream 3 (headers) is not the crypto stream; a CHLO without SNI (Snapchat's calls) ends the inspection.
  const c = run([[0, publicPacket({ version: 39, frames: streamFrame(39, 3, 0, CHLO) })], [0, publicPacket({ version: 39, frames: streamFrame(39, 1, 0, chlo({ VER: 'Q039' })) })]]);
  t.same(c.done, [false, true]);
  t.equal(c.insp.result().sni, null);
  t.same(c.errors, []);
});

t.test('malformed frames and CHLOs, overflow and an unfinished CHLO are counted', async (t) => {
  // A STREAM frame whose length runs past the packet.
  const long = streamFrame(43, 1, 0, CHLO.subarray(0, 100));
  long.writeUInt16BE(5000, 2);
  t.same(run([[0, publicPacket({ version: 43, frames: long })]]).errors, ['gquic-malformed']);
  // Stream 1 data that is not a CHLO.
  t.same(run([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, Buffer.from('GET / HTTP/1.1\r\n')) })]]).errors, ['gquic-malformed']);
  // A tag table whose end offsets go backwards.
  const bad = Buffer.from(CHLO);
  bad.writeUInt32LE(0, 8 + 8 * 2 + 4);
  t.same(run([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, bad) })]]).errors, ['gquic-malformed']);
  // A CHLO larger than max_buffer.
  const big = run([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO.subarray(0, 700)) })]], { ...LIMITS, max_buffer: 512, max_reassembling: 4096 });
  t.same(big.errors, ['reassembly-overflow']);
  t.equal(big.insp.retainedBytes(), 0);
  // Half a CHLO when the packet budget runs out.
  const half = run([[0, publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO.subarray(0, 600)) })], [1, Buffer.from('x')]], { ...LIMITS, max_packets: 2 });
  t.same(half.errors, ['hello-incomplete']);
});

t.test('looksLikeGquic: cheap first-bytes check', async (t) => {
  const p = publicPacket({ version: 43, frames: streamFrame(43, 1, 0, CHLO) });
  t.ok(looksLikeGquic(p));
  t.ok(looksLikeGquic(Buffer.concat([Buffer.alloc(10), p]), 10), 'at an offset, without a copy');
  t.notOk(looksLikeGquic(p, 0, 20), 'too short for a header and hash');
  t.notOk(looksLikeGquic(publicPacket({ version: 44, frames: Buffer.alloc(30) })), 'Q044 is not read');
  t.notOk(looksLikeGquic(publicPacket({ version: 23, frames: Buffer.alloc(30) })), 'Q023 is not read');
  t.notOk(looksLikeGquic(publicPacket({ version: 43, noVersion: true, frames: Buffer.alloc(30) })), 'no version flag');
  const reset = Buffer.from(p);
  reset[0] = reset[0]! | 0x02;
  t.notOk(looksLikeGquic(reset), 'public reset');
  t.notOk(looksLikeGquic(Buffer.from('1234010000010000000000000377777706676f6f676c6503636f6d0000010001', 'hex')), 'DNS');
});
