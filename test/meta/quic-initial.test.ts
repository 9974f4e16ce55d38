/**
 * QUIC Initials built and protected in the test (builder.ts, checked against the RFC
 * packets in quic-rfc.test.ts): hellos split across Initials and out of order, v1, v2 and
 * draft-29, coalesced packets, the ServerHello, Retry, and failures.
 */
import t from 'tap';
import { paddingEnd } from '../../agent/meta/quic-packet.js';
import { createInspector, type HandshakeInspector, type MetaLimits } from '../../agent/meta/index.js';
import {
  clientHello, cryptoFrame, ext, initialPacket, QUIC_DRAFT29, QUIC_V1, QUIC_V2, serverHello, type QuicVersionSpec,
} from './builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const DCID = Buffer.from('0102030405060708', 'hex');
const SCID = Buffer.from('a1a2a3a4', 'hex');
const SERVER_CID = Buffer.from('b1b2b3b4b5b6b7b8', 'hex');

// A Chrome-like QUIC hello: GREASE, a ~1.2 KB post-quantum key share, transport parameters.
const HELLO = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [
    ext.raw(0x4a4a),
    ext.sni('quic.example.net'),
    ext.alpn(['h3']),
    ext.raw(0x0033, Buffer.alloc(1230, 5)),
    ext.raw(0x0039, Buffer.alloc(60, 1)),
    ext.sigAlgs([0x0403, 0x0804]),
    ext.supportedVersions([0x0304]),
    ext.raw(0x000a, Buffer.from([0, 2, 0x11, 0xec])),
  ],
});

// The same hello offering nothing above TLS 1.2, which QUIC forbids: only then does the reader wait
// for the ServerHello (a hello offering 1.3 ends the inspection, QuicReader.finished), so the tests
// of the server's Initial use it.
const HELLO_12 = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [
    ext.sni('quic.example.net'),
    ext.alpn(['h3']),
    ext.raw(0x0033, Buffer.alloc(1230, 5)),
    ext.sigAlgs([0x0403, 0x0804]),
    ext.supportedVersions([0x0303]),
  ],
});

function feed(insp: HandshakeInspector, dir: 0 | 1, datagram: Uint8Array): boolean {
  return insp.onPacket(dir, 17, datagram, 0, 0);
}

function inspector(limits = LIMITS): { insp: HandshakeInspector; errors: string[] } {
  const errors: string[] = [];
  return { insp: createInspector(limits, (r) => errors.push(r)), errors };
}

function clientInitial(spec: QuicVersionSpec, frames: Buffer, pn: number, dcid = DCID): Buffer {
  return initialPacket({ spec, dcid, scid: SCID, pn, frames, padTo: 1200 });
}

function serverInitial(spec: QuicVersionSpec, pn = 0, keyDcid = DCID): Buffer {
  const sh = serverHello({ supportedVersion: 0x0304 });
  const ack = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00]);
  return initialPacket({ spec, dcid: SCID, scid: SERVER_CID, keyDcid, server: true, pn, pnLen: 2, frames: Buffer.concat([ack, cryptoFrame(0, sh)]) });
}

t.test('HELLO needs two Initials (it is larger than one packet)', async (t) => {
  t.ok(HELLO.length > 1200, `hello is ${HELLO.length} bytes`);
});

for (const spec of [QUIC_V1, QUIC_V2, QUIC_DRAFT29]) {
  const name = spec.version.toString(16);
  t.test(`${name}: hello in two Initials, then the server Initial`, async (t) => {
    const { insp, errors } = inspector();
    const split = 1000;
    t.equal(feed(insp, 0, clientInitial(spec, cryptoFrame(0, HELLO.subarray(0, split)), 0)), false);
    t.equal(insp.result().ja4, null, 'not yet complete');
    t.ok(insp.retainedBytes() > 0);
    t.equal(feed(insp, 0, clientInitial(spec, cryptoFrame(split, HELLO.subarray(split)), 1)), true, 'done: TLS 1.3 offered');
    const m = insp.result();
    t.equal(m.sni, 'quic.example.net');
    t.same(m.alpn, ['h3']);
    t.equal(m.transport, 'quic');
    t.match(m.ja4, /^q13d0307h3_[0-9a-f]{12}_[0-9a-f]{12}$/);
    t.equal(insp.retainedBytes(), 0, 'freed once parsed');
    t.equal(insp.result().tlsVersion, '1.3');
    t.same(errors, []);
  });

  t.test(`${name}: a hello without TLS 1.3 in two Initials, then the server Initial`, async (t) => {
    const { insp, errors } = inspector();
    t.equal(feed(insp, 0, clientInitial(spec, cryptoFrame(0, HELLO_12.subarray(0, 1000)), 0)), false);
    t.equal(feed(insp, 0, clientInitial(spec, cryptoFrame(1000, HELLO_12.subarray(1000)), 1)), false, 'waits for the server');
    t.equal(insp.result().tlsVersion, '1.2', 'highest offered');
    t.equal(feed(insp, 1, serverInitial(spec)), true, 'done after the ServerHello');
    t.equal(insp.result().tlsVersion, '1.3', 'from the ServerHello');
    t.same(errors, []);
  });
}

t.test('draft and mvfst versions map to the salt their Initials use', async (t) => {
  const v1Salt = QUIC_V1.salt;
  const cases: Array<[string, QuicVersionSpec]> = [
    ['draft-34 (RFC salt)', { ...QUIC_V1, version: 0xff000022 }],
    ['draft-32', { ...QUIC_DRAFT29, version: 0xff000020 }],
    ['draft-27', { ...QUIC_V1, version: 0xff00001b, salt: 'c3eef712c72ebb5a11a7d2432bb46365bef9f502' }],
    ['mvfst draft-27', { ...QUIC_V1, version: 0xfaceb002, salt: 'c3eef712c72ebb5a11a7d2432bb46365bef9f502' }],
    ['mvfst draft-22', { ...QUIC_V1, version: 0xfaceb001, salt: '7fbcdb0e7c66bbe9193a96cd21519ebd7a02644a' }],
  ];
  for (const [name, spec] of cases) {
    const { insp, errors } = inspector();
    feed(insp, 0, clientInitial(spec, cryptoFrame(0, HELLO.subarray(0, 1000)), 0));
    feed(insp, 0, clientInitial(spec, cryptoFrame(1000, HELLO.subarray(1000)), 1));
    t.equal(insp.result().sni, 'quic.example.net', name);
    t.same(errors, [], name);
  }
  // Same layout, wrong salt: the version must not be mistaken for another.
  const { insp, errors } = inspector();
  feed(insp, 0, clientInitial({ ...QUIC_V1, version: 0xff00001d, salt: v1Salt }, cryptoFrame(0, HELLO), 0));
  t.same(errors, ['quic-decrypt-failed']);
});

t.test('CRYPTO frames out of order: across Initials and within one', async (t) => {
  const want = (() => {
    const { insp } = inspector();
    feed(insp, 0, clientInitial(QUIC_V1, Buffer.concat([cryptoFrame(0, HELLO.subarray(0, 1000))]), 0));
    feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(1000, HELLO.subarray(1000)), 1));
    return insp.result();
  })();
  t.ok(want.ja4);
  // Second Initial first.
  const a = inspector();
  feed(a.insp, 0, clientInitial(QUIC_V1, cryptoFrame(1000, HELLO.subarray(1000)), 1));
  t.equal(a.insp.result().ja4, null);
  feed(a.insp, 0, clientInitial(QUIC_V1, cryptoFrame(0, HELLO.subarray(0, 1000)), 0));
  t.same(a.insp.result(), want, 'second Initial first');
  // Chrome-style: many small CRYPTO frames shuffled with PING and PADDING between them.
  const pieces = [[0, 300], [300, 650], [650, 1000]] as const;
  const shuffled = Buffer.concat([
    cryptoFrame(650, HELLO.subarray(650, 1000)), Buffer.from([0x01, 0x00, 0x00]),
    cryptoFrame(0, HELLO.subarray(0, 300)), Buffer.from([0x01]),
    cryptoFrame(300, HELLO.subarray(300, 650)),
  ]);
  t.equal(pieces.length, 3);
  const b = inspector();
  feed(b.insp, 0, clientInitial(QUIC_V1, cryptoFrame(1000, HELLO.subarray(1000)), 7));
  feed(b.insp, 0, clientInitial(QUIC_V1, shuffled, 6));
  t.same(b.insp.result(), want, 'shuffled frames');
  t.same(b.errors, []);
});

t.test('coalesced packets: client Initial + 0-RTT, server Initial + Handshake', async (t) => {
  const { insp, errors } = inspector();
  const initial = initialPacket({ spec: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, HELLO_12.subarray(0, 900)) });
  // A 0-RTT packet (type 01) we cannot read: skipped by its length field.
  const zeroRtt = Buffer.concat([Buffer.from([0xd3, 0, 0, 0, 1, 8]), DCID, Buffer.from([4]), SCID, Buffer.from([0x40, 40]), Buffer.alloc(40, 9)]);
  feed(insp, 0, Buffer.concat([initial, zeroRtt]));
  const second = initialPacket({ spec: QUIC_V1, dcid: DCID, scid: SCID, pn: 1, frames: cryptoFrame(900, HELLO_12.subarray(900)) });
  feed(insp, 0, Buffer.concat([zeroRtt, second])); // Initial after another packet in the datagram
  t.equal(insp.result().sni, 'quic.example.net');
  t.equal(insp.result().tlsVersion, '1.2', 'before the ServerHello');
  const handshake = Buffer.concat([Buffer.from([0xe1, 0, 0, 0, 1, 4]), SCID, Buffer.from([8]), SERVER_CID, Buffer.from([0x40, 30]), Buffer.alloc(30, 3)]);
  t.equal(feed(insp, 1, Buffer.concat([serverInitial(QUIC_V1), handshake])), true);
  t.equal(insp.result().tlsVersion, '1.3');
  t.same(errors, []);
});

t.test('compatible version negotiation: v1 client, v2 server Initial', async (t) => {
  const { insp, errors } = inspector();
  feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(0, HELLO_12.subarray(0, 1000)), 0));
  t.equal(feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(1000, HELLO_12.subarray(1000)), 1)), false);
  t.equal(feed(insp, 1, serverInitial(QUIC_V2)), true);
  t.equal(insp.result().tlsVersion, '1.3');
  t.same(errors, []);
});

t.test('Retry: the client starts again under keys from the new DCID', async (t) => {
  const { insp, errors } = inspector();
  feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(0, HELLO_12.subarray(0, 1000)), 0));
  const retryDcid = Buffer.from('c0c1c2c3c4c5c6c7c8', 'hex');
  const retry = Buffer.concat([Buffer.from([0xf0, 0, 0, 0, 1, 4]), SCID, Buffer.from([9]), retryDcid, Buffer.alloc(16 + 20, 0x77)]);
  feed(insp, 1, retry);
  feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(0, HELLO_12.subarray(0, 1000)), 1, retryDcid));
  t.equal(feed(insp, 0, clientInitial(QUIC_V1, cryptoFrame(1000, HELLO_12.subarray(1000)), 2, retryDcid)), false);
  t.equal(insp.result().sni, 'quic.example.net');
  t.equal(feed(insp, 1, serverInitial(QUIC_V1, 0, retryDcid)), true, 'server keys follow the new DCID');
  t.same(errors, []);
});

t.test('failures are counted, never thrown', async (t) => {
  const good = clientInitial(QUIC_V1, cryptoFrame(0, HELLO.subarray(0, 1000)), 0);
  const corrupt = Buffer.from(good);
  corrupt[300] = corrupt[300]! ^ 0xff;
  const a = inspector();
  t.equal(feed(a.insp, 0, corrupt), false);
  t.same(a.errors, ['quic-decrypt-failed']);
  // Truncated by a small snap length: the Length field runs past the datagram.
  const b = inspector();
  feed(b.insp, 0, good.subarray(0, 200));
  t.same(b.errors, ['quic-malformed']);
  // A CRYPTO stream that does not start a ClientHello.
  const c = inspector();
  feed(c.insp, 0, clientInitial(QUIC_V1, cryptoFrame(0, Buffer.from([2, 0, 0, 4, 1, 2, 3, 4])), 0));
  t.same(c.errors, ['tls-malformed']);
  // A hello larger than max_buffer.
  const d = inspector({ ...LIMITS, max_buffer: 1024, max_reassembling: 4096 });
  feed(d.insp, 0, good);
  t.same(d.errors, ['reassembly-overflow']);
  // An unknown frame type inside a decrypted Initial.
  const e = inspector();
  feed(e.insp, 0, clientInitial(QUIC_V1, Buffer.concat([Buffer.from([0x08, 0, 0]), cryptoFrame(0, HELLO)]), 0));
  t.same(e.errors, ['quic-malformed']);
  // The same frame after a whole hello: the rest of a packet whose hello is read is not walked
  // (it is PADDING and ACKs in practice), so the hello counts and nothing is reported.
  const small = clientHello({ version: 0x0303, ciphers: [0x1301], extensions: [ext.sni('after.example'), ext.supportedVersions([0x0304])] });
  const late = inspector();
  feed(late.insp, 0, clientInitial(QUIC_V1, Buffer.concat([cryptoFrame(0, small), Buffer.from([0x08, 0, 0])]), 0));
  t.equal(late.insp.result().sni, 'after.example');
  t.same(late.errors, []);
  // Budget spent with half a hello: counted as incomplete.
  const f = inspector({ ...LIMITS, max_packets: 2 });
  feed(f.insp, 0, good);
  t.equal(feed(f.insp, 1, Buffer.from('not quic')), true);
  t.same(f.errors, ['hello-incomplete']);
});

t.test('UDP that is not QUIC or DTLS costs nothing and ends at the budget', async (t) => {
  const { insp, errors } = inspector({ ...LIMITS, max_packets: 3 });
  const dns = Buffer.from('1234010000010000000000000377777706676f6f676c6503636f6d0000010001', 'hex');
  t.equal(feed(insp, 0, dns), false);
  t.equal(insp.retainedBytes(), 0);
  // A version negotiation packet and an unknown version are ignored.
  t.equal(feed(insp, 1, Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1])), false);
  t.equal(feed(insp, 0, Buffer.from([0xc0, 0xba, 0xba, 0xba, 0xba, 0, 0, 0, 0, 1])), true);
  t.same(insp.result(), { sni: null, alpn: [], tlsVersion: null, ja4: null, transport: null });
  t.same(errors, []);
});

t.test('paddingEnd: a run of zeros ends at the first other byte, or at n', async (t) => {
  const b = Buffer.alloc(70000);
  t.equal(paddingEnd(b, 10, 1200), 1200, 'padding to the end of the packet');
  b[700] = 0x06;
  t.equal(paddingEnd(b, 10, 1200), 700, 'a frame after the padding');
  t.equal(paddingEnd(b, 700, 1200), 700, 'no padding at all');
  t.equal(paddingEnd(b, 701, 70000), 70000, 'a run longer than the zero block, walked');
  b[69000] = 1;
  t.equal(paddingEnd(b, 701, 70000), 69000);
  t.equal(paddingEnd(b, 5, 5), 5, 'an empty range');
});
