/**
 * Random mutations of valid hellos (seeded, reproducible): TLS over TCP, QUIC, DTLS, Google
 * QUIC's null-encrypted CHLO packets (Q0xx public header, Q046) and its protected Initials
 * (Q050 CHLO, T051 TLS). The inspector must never hit an unexpected exception (reported as
 * 'internal-error'), must keep at most max_buffer bytes at any time and none once done,
 * and the parsers must never throw.
 */
import t from 'tap';
import { createInspector, type MetaLimits } from '../../agent/meta/index.js';
import { chloLength, parseChlo } from '../../agent/meta/chlo.js';
import { walkFrames } from '../../agent/meta/gquic-frames.js';
import { parseClientHello, parseServerHello } from '../../agent/meta/hello.js';
import {
  clientHello, clientHelloBody, cryptoFrame, cut, dtlsFragment, dtlsRecord, ext, initialPacket, QUIC_V1, QUIC_V2,
  records, serverHello, tcpFlow, type Pkt,
} from './builder.js';
import { ackFrame, chlo, googleCryptoFrame, publicPacket, Q050, q046Packet, streamFrame, T051 } from './gquic-builder.js';

const ITERATIONS = 3000;
const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 4096, max_reassembling: 4096 };

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const OPTS = {
  ciphers: [0x0a0a, 0x1301, 0x1302, 0xc02b],
  extensions: [
    ext.sni('fuzz.example'), ext.alpn(['h2', 'http/1.1']), ext.supportedVersions([0x0304, 0x0303]),
    ext.sigAlgs([0x0403, 0x0804]), ext.raw(0x0033, Buffer.alloc(300, 1)),
  ],
};
const HELLO = clientHello(OPTS);
const TLS = records(HELLO);
const SERVER = records(serverHello({ supportedVersion: 0x0304 }));
const DTLS_BODY = clientHelloBody({ ...OPTS, version: 0xfefd, cookie: Buffer.alloc(0) });
const CHLO = chlo({ SNI: 'fuzz.example', VER: 'Q043', UAID: 'fuzz', CCS: Buffer.alloc(16, 3) }, 700);
const GQUIC_VERSIONS = [25, 35, 39, 43, 46] as const;

function mutate(src: Uint8Array, r: () => number): Buffer {
  let b = Buffer.from(src);
  const n = 1 + Math.floor(r() * 4);
  for (let k = 0; k < n; k++) {
    const i = Math.floor(r() * b.length);
    const op = r();
    if (op < 0.5) b[i] = Math.floor(r() * 256);
    else if (op < 0.65) b = b.subarray(0, i);
    else if (op < 0.75) b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + Math.floor(r() * 40), Math.floor(r() * 256)), b.subarray(i)]);
    else if (op < 0.9 && i + 1 < b.length) { b[i] = 0xff; b[i + 1] = 0xff; } // a length field at its maximum
    else b[i] = 0;
  }
  return b;
}

/** gQUIC: a CHLO over two null-encrypted packets (mutated frames under a valid hash, or a mutated packet). */
function gquicScenario(r: () => number): Pkt[] {
  const version = GQUIC_VERSIONS[Math.floor(r() * GQUIC_VERSIONS.length)]!;
  const split = Math.floor(r() * CHLO.length);
  const frames1 = mutate(Buffer.concat([ackFrame(version, Math.floor(r() * 3)), streamFrame(version, 1, 0, CHLO.subarray(0, split))]), r);
  const frames2 = streamFrame(version, 1, split, CHLO.subarray(split), { offLen: 4 });
  const packet = (frames: Buffer, pn: number): Buffer => (version === 46 ? q046Packet({ frames, pn }) : publicPacket({ version, frames, pn }));
  const p1 = packet(frames1, 1);
  const p2 = packet(frames2, 2);
  return [
    { dir: 0, proto: 17, payload: r() < 0.7 ? p1 : mutate(p1, r) },
    { dir: 0, proto: 17, payload: r() < 0.7 ? p2 : mutate(p2, r) },
  ];
}

/** Google's protected Initials: Q050 (CHLO) or T051 (TLS), mutated Google frames inside. */
function googleInitialScenario(r: () => number): Pkt[] {
  const spec = r() < 0.5 ? Q050 : T051;
  const msg = spec === Q050 ? CHLO : HELLO;
  const dcid = Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]);
  const split = Math.floor(r() * msg.length);
  const frames1 = mutate(googleCryptoFrame(0, msg.subarray(0, split)), r);
  const frames2 = Buffer.concat([ackFrame(50), googleCryptoFrame(split, msg.subarray(split))]);
  return [
    { dir: 0, proto: 17, payload: initialPacket({ spec, dcid, pn: 0, frames: frames1, padTo: 1200 }) },
    { dir: 0, proto: 17, payload: initialPacket({ spec, dcid, pn: 1, frames: frames2, padTo: 1200 }) },
  ];
}

function scenario(r: () => number): Pkt[] {
  const kind = Math.floor(r() * 6);
  if (kind === 4) return gquicScenario(r);
  if (kind === 5) return googleInitialScenario(r);
  if (kind === 0) {
    // TLS over TCP: mutated stream, cut into segments, sometimes reordered.
    const stream = mutate(TLS, r);
    const cuts = [Math.floor(r() * stream.length), Math.floor(r() * stream.length)].sort((a, b) => a - b);
    const flow = tcpFlow(cut(stream, cuts), [mutate(SERVER, r)], Math.floor(r() * 2 ** 32));
    if (r() < 0.3) flow.reverse();
    if (r() < 0.2) flow.forEach((p) => (p.seq = ((p.seq ?? 0) + Math.floor(r() * 2000) - 1000) >>> 0));
    return flow;
  }
  if (kind === 1) {
    // QUIC: valid protection around mutated frames (exercises the frame and hello parsers),
    // or a mutated protected packet (exercises the header parser and decrypt failures).
    const spec = r() < 0.5 ? QUIC_V1 : QUIC_V2;
    const dcid = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const split = Math.floor(r() * HELLO.length);
    const frames1 = mutate(Buffer.concat([cryptoFrame(0, HELLO.subarray(0, split)), Buffer.from([1])]), r);
    const frames2 = cryptoFrame(split, HELLO.subarray(split));
    const p1 = initialPacket({ spec, dcid, pn: 0, frames: frames1, padTo: 1200 });
    const p2 = initialPacket({ spec, dcid, pn: 1, frames: frames2, padTo: 1200 });
    return [
      { dir: 0, proto: 17, payload: r() < 0.5 ? p1 : mutate(p1, r) },
      { dir: 0, proto: 17, payload: r() < 0.7 ? p2 : mutate(p2, r) },
    ];
  }
  if (kind === 2) {
    const rec = (off: number, len: number): Buffer => dtlsRecord(dtlsFragment(1, DTLS_BODY, 0, off, len));
    const half = Math.floor(DTLS_BODY.length / 2);
    return [
      { dir: 0, proto: 17, payload: mutate(rec(half, DTLS_BODY.length - half), r) },
      { dir: 0, proto: 17, payload: mutate(rec(0, half), r) },
    ];
  }
  // Anything at all.
  const junk = Buffer.alloc(Math.floor(r() * 1500));
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(r() * 256);
  if (junk.length > 0 && r() < 0.5) junk[0] = 0xc0; // looks like a long header
  return [{ dir: r() < 0.5 ? 0 : 1, proto: r() < 0.5 ? 6 : 17, payload: junk, seq: 1, flags: 0x18 }];
}

t.test(`${ITERATIONS} mutated flows: no exception, memory bounded`, async (t) => {
  const r = rng(0x5eed);
  const counts: Record<string, number> = {};
  let maxRetained = 0;
  let found = 0;
  let chlos = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const insp = createInspector(LIMITS, (reason) => (counts[reason] = (counts[reason] ?? 0) + 1));
    let done = false;
    for (const p of scenario(r)) {
      done = insp.onPacket(p.dir, p.proto, p.payload, p.seq ?? 0, p.flags ?? 0);
      maxRetained = Math.max(maxRetained, insp.retainedBytes());
      if (done) break;
    }
    if (done) t.equal(insp.retainedBytes(), 0);
    const m = insp.result();
    if (m.sni === 'fuzz.example' && m.ja4 === null) chlos++;
    if (m.ja4 !== null) {
      found++;
      if (!/^[tqd][0-9sd][0-9][di][0-9]{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(m.ja4)) t.fail(`bad JA4 ${m.ja4}`);
    }
  }
  t.equal(counts['internal-error'] ?? 0, 0, 'no unexpected exception');
  t.ok(maxRetained <= LIMITS.max_buffer, `retained at most ${maxRetained} bytes`);
  t.ok(found > 0 && found < ITERATIONS, `${found} flows still yield a hello`);
  t.ok(chlos > 0, `${chlos} gQUIC flows still yield a CHLO`);
  t.comment(JSON.stringify(counts));
});

t.test('the hello parsers never throw on mutated bodies', async (t) => {
  const r = rng(42);
  const body = HELLO.subarray(4);
  const sh = serverHello({ supportedVersion: 0x0304 }).subarray(4);
  let parsed = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const m = mutate(body, r);
    if (parseClientHello(m, 0, m.length, it % 2 === 0) !== null) parsed++;
    const s = mutate(sh, r);
    parseServerHello(s, 0, s.length);
  }
  t.ok(parsed > 0, `${parsed} mutated hellos still parse`);
});

t.test('the CHLO parser and the Google frame walker never throw on mutated input', async (t) => {
  const r = rng(7);
  const frames = Buffer.concat([ackFrame(43, 2), Buffer.from([0x07]), streamFrame(43, 1, 0, CHLO), googleCryptoFrame(0, CHLO)]);
  let parsed = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const m = mutate(CHLO, r);
    chloLength(m, 0, m.length);
    if (parseChlo(m, 0, m.length) !== null) parsed++;
    const f = mutate(frames, r);
    walkFrames(f, 0, f.length, [25, 43, 50][it % 3]!, it % 7, () => true);
  }
  t.ok(parsed > 0, `${parsed} mutated CHLOs still parse`);
});
