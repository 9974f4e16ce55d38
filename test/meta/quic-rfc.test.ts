/**
 * The published QUIC Initial test vectors must decrypt exactly: RFC 9001 Appendix A (v1)
 * and RFC 9369 Appendix A (v2). The test's own packet protection (builder.ts) must
 * reproduce the published protected packets byte for byte, which is what makes the
 * other QUIC tests' packets trustworthy.
 */
import t from 'tap';
import { hkdfSync } from 'node:crypto';
import { createInspector } from '../../agent/meta/index.js';
import { openInitial } from '../../agent/meta/quic-packet.js';
import { initialKeys, initialSecret, quicVersion } from '../../agent/meta/quic-keys.js';
import { parseClientHello, parseServerHello } from '../../agent/meta/hello.js';
import { ja4 } from '../../agent/meta/ja4.js';
import { hex, initialPacket, QUIC_V1, QUIC_V2, type QuicVersionSpec } from './builder.js';
import { RFC9001, RFC9369, RFC_CLIENT_CRYPTO_FRAME, RFC_DCID, RFC_SERVER_FRAMES } from './quic-vectors.js';

const dcid = hex(RFC_DCID);
const LIMITS = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };

const cases: Array<[string, number, QuicVersionSpec, typeof RFC9001, string]> = [
  ['RFC 9001 (v1)', 0x00000001, QUIC_V1, RFC9001, 'c300000001088394c8f03e5157080000449e00000002'],
  ['RFC 9369 (v2)', 0x6b3343cf, QUIC_V2, RFC9369, 'd36b3343cf088394c8f03e5157080000449e00000002'],
];

for (const [name, version, spec, v, clientHeader] of cases) {
  t.test(`${name} A.1: initial secrets, keys, IVs and header protection keys`, async (t) => {
    const ver = quicVersion(version)!;
    t.ok(ver);
    t.equal(initialSecret(ver, dcid, false).toString('hex'), v.client.secret);
    t.equal(initialSecret(ver, dcid, true).toString('hex'), v.server.secret);
    for (const [side, want] of [['client', v.client], ['server', v.server]] as const) {
      const k = initialKeys(ver, dcid, side === 'server');
      t.same({ key: k.key.toString('hex'), iv: k.iv.toString('hex'), hp: k.hp.toString('hex') },
        { key: want.key, iv: want.iv, hp: want.hp }, side);
    }
    // Independently of our HMAC-based HKDF: node's hkdfSync does Extract then Expand.
    const info = Buffer.concat([Buffer.from([0, 32, 15]), Buffer.from('tls13 client in'), Buffer.from([0])]);
    t.equal(Buffer.from(hkdfSync('sha256', dcid, ver.salt, info, 32)).toString('hex'), v.client.secret);
  });

  t.test(`${name} A.2: the client Initial decrypts exactly to the published ClientHello`, async (t) => {
    const packet = hex(v.clientPacket);
    t.equal(packet.length, 1200);
    const ver = quicVersion(version)!;
    const opened = openInitial(packet, initialKeys(ver, dcid, false));
    t.ok(opened, 'authenticates');
    const frame = hex(RFC_CLIENT_CRYPTO_FRAME);
    t.equal(opened!.pn, 2, 'packet number 2');
    t.equal(opened!.frames.length, 1162);
    t.same(opened!.frames.subarray(0, frame.length), frame, 'CRYPTO frame as published');
    t.ok(opened!.frames.subarray(frame.length).every((b) => b === 0), 'then PADDING');
    // Our test protection reproduces the published packet.
    const frames = Buffer.concat([frame, Buffer.alloc(1162 - frame.length)]);
    const built = initialPacket({ spec, dcid, pn: 2, pnLen: 4, frames });
    t.same(built.subarray(0, 22), hex(clientHeader).map((b, i) => (i === 0 || i >= 18 ? built[i]! : b)));
    t.equal(built.toString('hex'), packet.toString('hex'), 'builder matches the RFC byte for byte');
    // A flipped ciphertext byte must fail authentication.
    const bad = Buffer.from(packet);
    bad[600] = bad[600]! ^ 1;
    t.equal(openInitial(bad, initialKeys(ver, dcid, false)), null);
  });

  t.test(`${name} A.2: the inspector reads the ClientHello and is done (TLS 1.3 offered)`, async (t) => {
    const errors: string[] = [];
    const insp = createInspector(LIMITS, (r) => errors.push(r));
    t.equal(insp.onPacket(0, 17, hex(v.clientPacket), 0, 0), true, 'no need for the server: QUIC is TLS 1.3 only');
    const m1 = insp.result();
    t.equal(m1.sni, 'example.com');
    t.same(m1.alpn, ['alpn']);
    t.equal(m1.transport, 'quic');
    t.equal(m1.tlsVersion, '1.3');
    // The JA4 of the published hello, computed from the published bytes.
    const frame = hex(RFC_CLIENT_CRYPTO_FRAME);
    const hello = parseClientHello(frame, 4 + 4, frame.length, false)!;
    t.equal(m1.ja4, ja4('q', hello));
    t.match(m1.ja4, /^q13d0211an_/, '2 ciphers, 11 extensions, ALPN "alpn"');
    t.same(errors, []);
  });

  t.test(`${name} A.3: the server Initial decrypts exactly to the published ServerHello`, async (t) => {
    const ver = quicVersion(version)!;
    const opened = openInitial(hex(v.serverPacket), initialKeys(ver, dcid, true));
    t.ok(opened, 'authenticates');
    t.equal(opened!.pn, 1, 'packet number 1');
    t.equal(opened!.frames.toString('hex'), hex(RFC_SERVER_FRAMES).toString('hex'), 'ACK and CRYPTO frames as published');
    // The ServerHello in its CRYPTO frame (type 6, offset 0, a 2-byte length) selects TLS 1.3.
    const f = opened!.frames;
    const at = f.indexOf(0x06);
    t.equal(f[at + 1], 0, 'CRYPTO offset 0');
    const body = at + 4;
    t.equal(f[body], 2, 'ServerHello');
    t.equal(parseServerHello(f, body + 4, body + 4 + f.readUIntBE(body + 1, 3)), 0x0304);
    // The server packet from the test's own protection, too.
    const built = initialPacket({ spec, dcid: Buffer.alloc(0), scid: hex(v.serverScid), keyDcid: dcid, server: true, pn: 1, pnLen: 2, frames: hex(RFC_SERVER_FRAMES) });
    t.equal(built.toString('hex'), hex(v.serverPacket).toString('hex'), 'server packet byte for byte');
  });
}
