/**
 * Random mutations of valid hellos (seeded, reproducible): the inspector must never hit
 * an unexpected exception (reported as 'internal-error'), must keep at most max_buffer
 * bytes at any time and none once done, and the parsers must never throw.
 */
import t from 'tap';
import { createInspector, type MetaLimits } from '../../agent/meta/index.js';
import { parseClientHello, parseServerHello } from '../../agent/meta/hello.js';
import {
  clientHello, clientHelloBody, cryptoFrame, cut, dtlsFragment, dtlsRecord, ext, initialPacket, QUIC_V1, QUIC_V2,
  records, serverHello, tcpFlow, type Pkt,
} from './builder.js';

const ITERATIONS = 3000;
const LIMITS: MetaLimits = { enabled: true, max_packets: 8, max_buffer: 4096 };

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

function scenario(r: () => number): Pkt[] {
  const kind = Math.floor(r() * 4);
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
    if (m.ja4 !== null) {
      found++;
      if (!/^[tqd][0-9sd][0-9][di][0-9]{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(m.ja4)) t.fail(`bad JA4 ${m.ja4}`);
    }
  }
  t.equal(counts['internal-error'] ?? 0, 0, 'no unexpected exception');
  t.ok(maxRetained <= LIMITS.max_buffer, `retained at most ${maxRetained} bytes`);
  t.ok(found > 0 && found < ITERATIONS, `${found} flows still yield a hello`);
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
