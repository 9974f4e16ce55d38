/**
 * Google's protected QUIC versions read by the flow table (quic_initial.c google_hello, run by
 * hello_watch.c read_quic_in_place): a first Initial whose Google-encoded CRYPTO frames hold a
 * whole CHLO (Q050) or ClientHello (T050, T051), against the JavaScript reader: the same metadata
 * and reports through the flow meter as from a bare inspector, each case saying whether C read
 * it alone; and random damage to the frames inside a valid Initial.
 */
import t, { type Test } from 'tap';
import type { MetaLimits } from '../../agent/meta/index.js';
import { compare as compareFlows, metered, type Datagram } from './udp-compare.js';
import { clientHello, ext, initialPacket, type QuicVersionSpec } from './builder.js';
import { ackFrame, chlo, googleCryptoFrame, GOOGLE_CHLO, Q050, T050, T050_HELLO, T051 } from './gquic-builder.js';
import { rng } from '../helpers/fuzz.js';

const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 };
const compare = (t: Test, flow: readonly Datagram[], limits = LIMITS): boolean => compareFlows(t, flow, limits);
const DCID = Buffer.from('c1c2c3c4c5c6c7c8', 'hex');
const CHLO = GOOGLE_CHLO;
const HELLO = T050_HELLO;
const HELLO_12 = clientHello({ version: 0x0303, sessionId: 0, ciphers: [0x1301], extensions: [ext.sni('old.example'), ext.supportedVersions([0x0303])] });

function client(spec: QuicVersionSpec, frames: Buffer, pn = 1): Buffer {
  return initialPacket({ spec, dcid: DCID, pn, pnLen: 2, frames, padTo: 1350 });
}

t.test('Q050: a whole CHLO in the first Initial is read in C', async (t) => {
  t.ok(compare(t, [[0, client(Q050, googleCryptoFrame(0, CHLO))]]), 'read by C');
  t.ok(compare(t, [[0, client(Q050, Buffer.concat([Buffer.from([0x07, 0, 0]), googleCryptoFrame(0, CHLO)]))]]), 'after PING and padding');
  const { meta } = metered([[0, client(Q050, googleCryptoFrame(0, CHLO))]], LIMITS);
  t.same(JSON.parse(JSON.stringify(meta)), { sni: 'www.example.org', alpn: [], tlsVersion: null, ja4: null, transport: 'quic', quicVersion: 'Q050' });
  t.ok(compare(t, [[0, client(Q050, googleCryptoFrame(0, chlo({ VER: 'Q050' }, 600)))]]), 'no SNI: no metadata, read by C');
});

for (const spec of [T050, T051]) {
  const name = spec === T050 ? 'T050' : 'T051';
  t.test(`${name}: a whole ClientHello in the first Initial is read in C`, async (t) => {
    t.ok(compare(t, [[0, client(spec, googleCryptoFrame(0, HELLO))]]), 'read by C');
    const a = HELLO.subarray(0, 40), b = HELLO.subarray(40);
    t.ok(compare(t, [[0, client(spec, Buffer.concat([googleCryptoFrame(40, b), googleCryptoFrame(0, a)]))]]), 'two CRYPTO frames out of order');
    const { meta } = metered([[0, client(spec, googleCryptoFrame(0, HELLO))]], LIMITS);
    t.equal(meta?.sni, 'fonts.example.com');
    t.equal(meta?.quicVersion, name);
    t.match(meta?.ja4, /^q13d/);
    t.notOk(compare(t, [[0, client(spec, googleCryptoFrame(0, HELLO_12))]]), 'without TLS 1.3 the reader waits for the server: left to it');
  });
}

t.test('CRYPTO data after the hello is read is not looked at, in both', async (t) => {
  const other = clientHello({ version: 0x0303, sessionId: 0, ciphers: [0x1301], extensions: [ext.sni('second.example'), ext.supportedVersions([0x0304])] });
  const tls = client(T051, Buffer.concat([googleCryptoFrame(0, HELLO), googleCryptoFrame(0, other)]));
  t.ok(compare(t, [[0, tls]]), 'read by C');
  t.equal(metered([[0, tls]], LIMITS).meta?.sni, 'fonts.example.com', 'the first hello');
  const q = client(Q050, Buffer.concat([googleCryptoFrame(0, CHLO), googleCryptoFrame(0, chlo({ SNI: 'second.example' }, 200))]));
  t.ok(compare(t, [[0, q]]), 'read by C');
  t.equal(metered([[0, q]], LIMITS).meta?.sni, 'www.example.org', 'the first CHLO');
});

t.test('edges of the CRYPTO stream, read alike', async (t) => {
  const empty = Buffer.from([0x08, 0x00, 0x00]); // a CRYPTO frame at offset 0 with no data
  t.ok(compare(t, [[0, client(T051, Buffer.concat([empty, googleCryptoFrame(0, HELLO)]))]]), 'an empty CRYPTO frame first (T051)');
  t.ok(compare(t, [[0, client(Q050, Buffer.concat([empty, googleCryptoFrame(0, CHLO)]))]]), 'an empty CRYPTO frame first (Q050)');
  t.ok(compare(t, [[0, client(Q050, googleCryptoFrame(300, CHLO))]]), 'a whole CHLO at a later offset (the capture began after the first)');
  t.notOk(compare(t, [[0, client(T051, googleCryptoFrame(0, HELLO))]], { ...LIMITS, max_buffer: HELLO.length - 1, max_reassembling: 4096 }), 'a ClientHello past max_buffer: reported');
  t.ok(compare(t, [[0, client(T051, googleCryptoFrame(0, HELLO))]], { ...LIMITS, max_buffer: HELLO.length, max_reassembling: 4096 }), 'one of exactly max_buffer');
  t.notOk(compare(t, [[0, client(T051, googleCryptoFrame(0, HELLO.subarray(0, 3)))]]), 'a first frame of three bytes');
});

t.test('whatever else the reader handles is left to it, with the same findings and reports', async (t) => {
  const split = 500;
  t.notOk(compare(t, [[0, client(Q050, googleCryptoFrame(0, CHLO.subarray(0, split)), 1)], [0, client(Q050, Buffer.concat([ackFrame(50), googleCryptoFrame(split, CHLO.subarray(split))]), 2)]]), 'a CHLO over two Initials');
  t.notOk(compare(t, [[0, client(Q050, Buffer.concat([ackFrame(50), googleCryptoFrame(0, CHLO)]))]]), 'an ACK first');
  t.notOk(compare(t, [[0, client(T051, Buffer.concat([googleCryptoFrame(0, HELLO), ackFrame(50)]))]]), 'an ACK after the hello (the reader walks on)');
  t.notOk(compare(t, [[0, client(Q050, googleCryptoFrame(0, Buffer.from('REJ\0not a client hello')))]]), 'not a CHLO');
  t.notOk(compare(t, [[0, client(T051, googleCryptoFrame(0, Buffer.concat([Buffer.from([2]), HELLO.subarray(1)])))]]), 'not a ClientHello: reported');
  t.notOk(compare(t, [[0, client(Q050, googleCryptoFrame(0, CHLO))]], { ...LIMITS, max_buffer: 512, max_reassembling: 4096 }), 'past max_buffer: reported');
  // Not padded, so that the packet ends inside the second frame's offset.
  const cutShort = initialPacket({ spec: T051, dcid: DCID, pn: 1, pnLen: 2, frames: Buffer.concat([googleCryptoFrame(0, HELLO), Buffer.from([0x08, 0x40])]) });
  t.notOk(compare(t, [[0, cutShort]]), 'a CRYPTO frame cut short after the hello: reported');
  t.same(metered([[0, cutShort]], LIMITS).errors, ['gquic-malformed']);
});

t.test('random damage to the frames of a valid Initial reads the same in C and in the reader (300 flows)', async (t) => {
  const r = rng(50);
  let kept = 0;
  for (let i = 0; i < 300; i++) {
    const spec = [Q050, T050, T051][Math.floor(r() * 3)]!;
    const msg = spec === Q050 ? CHLO : HELLO;
    const cut = Math.floor(r() * msg.length);
    const frames = Buffer.concat([
      r() < 0.2 ? Buffer.from([0x07]) : Buffer.alloc(0),
      r() < 0.5 ? googleCryptoFrame(0, msg) : Buffer.concat([googleCryptoFrame(cut, msg.subarray(cut)), googleCryptoFrame(0, msg.subarray(0, cut))]),
    ]);
    for (let f = Math.floor(r() * 3); f > 0; f--) frames[Math.floor(r() * frames.length)] = Math.floor(r() * 256);
    if (compareFlows(t, [[0, client(spec, frames)]], LIMITS)) kept++;
  }
  t.ok(kept > 100, `C read ${kept} of them alone`);
});
