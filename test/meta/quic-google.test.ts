/**
 * Google's protected QUIC versions, with Initials built and protected in the test
 * (builder.ts, gquic-builder.ts): Q050 carries a gQUIC CHLO and T050/T051 a TLS
 * ClientHello, both in Google-encoded CRYPTO frames (type 0x08), under Google's salts.
 * The salts themselves are checked against real captures in ndpi-gquic.test.ts.
 */
import t from 'tap';
import { createInspector, type HandshakeInspector, type MetaLimits } from '../../agent/meta/index.js';
import { quicVersion } from '../../agent/meta/quic-keys.js';
import { clientHello, ext, initialPacket, QUIC_V1, serverHello, type QuicVersionSpec } from './builder.js';
import { ackFrame, googleCryptoFrame, GOOGLE_CHLO, Q050, T050, T050_HELLO, T051 } from './gquic-builder.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const DCID = Buffer.from('c1c2c3c4c5c6c7c8', 'hex');
const SERVER_CID = Buffer.from('d1d2d3d4d5d6d7d8', 'hex');
const CHLO = GOOGLE_CHLO;
const HELLO = T050_HELLO;

function inspector(): { insp: HandshakeInspector; errors: string[] } {
  const errors: string[] = [];
  return { insp: createInspector(LIMITS, (r) => errors.push(r)), errors };
}

function client(spec: QuicVersionSpec, frames: Buffer, pn: number): Buffer {
  return initialPacket({ spec, dcid: DCID, pn, pnLen: 2, frames, padTo: 1350 });
}

t.test('the three Google versions are read with Google frames; only Q050 carries a CHLO', async (t) => {
  t.same([Q050, T050, T051].map((s) => [quicVersion(s.version)?.name, quicVersion(s.version)?.frames, quicVersion(s.version)?.handshake]), [
    ['Q050', 'google', 'chlo'], ['T050', 'google', 'tls'], ['T051', 'google', 'tls'],
  ]);
});

t.test('Q050: a CHLO over two Initials, the second led by an ACK', async (t) => {
  const { insp, errors } = inspector();
  const split = 900;
  t.equal(insp.onPacket(0, 17, client(Q050, googleCryptoFrame(0, CHLO.subarray(0, split)), 1), 0, 0), false);
  t.ok(insp.retainedBytes() > 0, 'the first part is held');
  const second = Buffer.concat([ackFrame(50), googleCryptoFrame(split, CHLO.subarray(split))]);
  t.equal(insp.onPacket(0, 17, client(Q050, second, 2), 0, 0), true, 'done at the CHLO');
  t.same(insp.result(), { sni: 'www.example.org', alpn: [], tlsVersion: null, ja4: null, transport: 'quic', quicVersion: 'Q050' });
  t.equal(insp.retainedBytes(), 0);
  t.same(errors, []);
});

// The same hello offering nothing above TLS 1.2, which QUIC forbids: the reader then waits for the
// ServerHello, the only case in which it reads the server's Initial.
const HELLO_12 = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [ext.sni('fonts.example.com'), ext.alpn(['h3-T050']), ext.supportedVersions([0x0303])],
});

for (const spec of [T050, T051]) {
  const name = spec === T050 ? 'T050' : 'T051';
  t.test(`${name}: a TLS ClientHello in Google CRYPTO frames ends the inspection (TLS 1.3 offered)`, async (t) => {
    const { insp, errors } = inspector();
    t.equal(insp.onPacket(0, 17, client(spec, googleCryptoFrame(0, HELLO), 1), 0, 0), true, 'done at the hello');
    const m = insp.result();
    t.equal(m.sni, 'fonts.example.com');
    t.same(m.alpn, ['h3-T050']);
    t.match(m.ja4, /^q13d0307h0_[0-9a-f]{12}_[0-9a-f]{12}$/, 'JA4 q: QUIC carrying TLS');
    t.equal(m.quicVersion, name);
    t.equal(m.tlsVersion, '1.3');
    t.same(errors, []);
  });

  t.test(`${name}: a hello without TLS 1.3, then the server's Initial`, async (t) => {
    const { insp, errors } = inspector();
    t.equal(insp.onPacket(0, 17, client(spec, googleCryptoFrame(0, HELLO_12), 1), 0, 0), false, 'waits for the server');
    t.equal(insp.result().tlsVersion, '1.2', 'highest offered');
    // The server's Initial: Google ACK, then the ServerHello at CRYPTO offset 0.
    const frames = Buffer.concat([ackFrame(50), googleCryptoFrame(0, serverHello({ supportedVersion: 0x0304 }))]);
    const server = initialPacket({ spec, dcid: Buffer.alloc(0), scid: SERVER_CID, keyDcid: DCID, server: true, pn: 1, pnLen: 2, frames });
    t.equal(insp.onPacket(1, 17, server, 0, 0), true, 'done after the ServerHello');
    t.equal(insp.result().tlsVersion, '1.3', 'from the ServerHello');
    t.same(errors, []);
  });
}

t.test('the salts tell the versions apart, and broken Google frames are counted', async (t) => {
  // A T051 Initial protected with T050's salt does not open.
  const a = inspector();
  a.insp.onPacket(0, 17, client({ ...T050, version: T051.version }, googleCryptoFrame(0, HELLO), 1), 0, 0);
  t.same(a.errors, ['quic-decrypt-failed']);
  // A Q050 Initial protected with the RFC 9001 salt does not either.
  const b = inspector();
  b.insp.onPacket(0, 17, client({ ...QUIC_V1, version: Q050.version }, googleCryptoFrame(0, CHLO), 1), 0, 0);
  t.same(b.errors, ['quic-decrypt-failed']);
  // A CRYPTO frame whose length runs past the packet.
  const c = inspector();
  const bad = googleCryptoFrame(0, CHLO.subarray(0, 50));
  bad[3] = 0x4f;
  c.insp.onPacket(0, 17, initialPacket({ spec: Q050, dcid: DCID, pn: 1, frames: bad }), 0, 0);
  t.same(c.errors, ['gquic-malformed']);
  // Q050's CRYPTO stream must open a CHLO.
  const d = inspector();
  d.insp.onPacket(0, 17, client(Q050, googleCryptoFrame(0, HELLO), 1), 0, 0);
  t.same(d.errors, ['gquic-malformed']);
});
