/**
 * The C ClientHello parser and JA4 (native/tls_hello.c, ja4.c) against the JavaScript
 * reference (parseClientHello, highestOffered, ja4): the same SNI, ALPN, highest version and
 * JA4 for 't', 'q' and 'd', and null for the same malformed bodies. Over every hello the
 * builder makes here, every hello in the shared nDPI captures (skipped when absent), and
 * seeded mutations of all of them (byte flips, truncations, insertions, length fields
 * rewritten), so the results are the same on every run.
 */
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clientHelloInPlace, helloMetaInPlace, tlsMeta } from '../../agent/meta/fast-tls.js';
import { highestOffered, parseClientHello, u24 } from '../../agent/meta/hello.js';
import { helloSummary, tlsHello } from '../../agent/meta/hello-native.js';
import { Inspector } from '../../agent/meta/inspector.js';
import { ja4, type Ja4Protocol } from '../../agent/meta/ja4.js';
import { clientHelloBody, dtlsFragment, dtlsRecord, ext, type Ext, type HelloOptions } from './builder.js';
import { flowKey, packets } from './pcap-lite.js';
import { rng } from '../helpers/fuzz.js';
import { NDPI_PCAPS } from '../helpers/ndpi.js';

const PCAPS = NDPI_PCAPS;
const PROTOS: readonly Ja4Protocol[] = ['t', 'q', 'd'];
const native = tlsHello();

/** Compares both implementations on b[start, end) for every protocol; returns the number of mismatches found. */
class Differ {
  cases = 0;
  parsed = 0;
  readonly mismatches: string[] = [];

  check(b: Uint8Array, start: number, end: number, dtls: boolean, what: string): void {
    const js = parseClientHello(b, start, end, dtls);
    for (const proto of PROTOS) {
      this.cases++;
      const want = js === null ? null : { sni: js.sni, alpn: [...js.alpn], highest: highestOffered(js), ja4: ja4(proto, js) };
      const got = helloSummary(b, start, end, dtls, proto);
      const w = JSON.stringify(want);
      const g = got === null ? 'null' : JSON.stringify({ sni: got.sni, alpn: got.alpn, highest: got.highest, ja4: got.ja4 });
      if (w !== g && this.mismatches.length < 20) {
        this.mismatches.push(`${what} dtls=${dtls} ${proto}: js ${w} native ${g} body ${Buffer.from(b.subarray(start, end)).toString('hex')}`);
      }
      if (want !== null) this.parsed++;
    }
  }

  /** The body alone, inside a larger buffer (start > 0, bytes after end), and as both DTLS and TLS. */
  all(body: Uint8Array, what: string): void {
    for (const dtls of [false, true]) {
      this.check(body, 0, body.length, dtls, what);
      const framed = Buffer.concat([Buffer.alloc(7, 0x16), body, Buffer.alloc(5, 0xff)]);
      this.check(framed, 7, 7 + body.length, dtls, `${what} framed`);
    }
  }
}

/** Positions of the hello's length fields (session id, cookie, ciphers, compression, extensions, each extension and its first bytes). */
function lengthFields(b: Uint8Array, dtls: boolean): number[] {
  const at: number[] = [34];
  let p = 34;
  if (p >= b.length) return at;
  p += 1 + b[p]!;
  if (dtls && p < b.length) {
    at.push(p);
    p += 1 + b[p]!;
  }
  if (p + 2 > b.length) return at;
  at.push(p, p + 1);
  p += 2 + ((b[p]! << 8) | b[p + 1]!);
  if (p >= b.length) return at;
  at.push(p);
  p += 1 + b[p]!;
  if (p + 2 > b.length) return at;
  at.push(p, p + 1);
  p += 2;
  while (p + 4 <= b.length) {
    at.push(p + 2, p + 3, p + 4, p + 5, p + 6);
    p += 4 + ((b[p + 2]! << 8) | b[p + 3]!);
  }
  return at.filter((i) => i < b.length);
}

function mutate(src: Uint8Array, dtls: boolean, r: () => number): Buffer {
  let b = Buffer.from(src);
  const fields = lengthFields(b, dtls);
  const n = 1 + Math.floor(r() * 3);
  for (let k = 0; k < n && b.length > 0; k++) {
    const i = Math.floor(r() * b.length);
    const op = r();
    if (op < 0.25) b[i] = Math.floor(r() * 256); // any byte
    else if (op < 0.35) b[i]! ^= 1 << Math.floor(r() * 8); // one bit
    else if (op < 0.5) b = b.subarray(0, i); // truncation
    else if (op < 0.55) b = Buffer.concat([b.subarray(0, i), Buffer.alloc(1 + Math.floor(r() * 8), Math.floor(r() * 256)), b.subarray(i)]);
    else if (fields.length > 0) {
      // A length field off by a little, set to zero or to its maximum.
      const f = fields[Math.floor(r() * fields.length)]!;
      if (f >= b.length) continue;
      const how = r();
      if (how < 0.5) b[f] = (b[f]! + (r() < 0.5 ? -1 : 1) * (1 + Math.floor(r() * 3))) & 0xff;
      else if (how < 0.75) b[f] = 0;
      else b[f] = 0xff;
    }
  }
  return b;
}

// The builder's hellos: every kind of value the parser and JA4 treat specially.
const u16s = (n: number, from: number): number[] => Array.from({ length: n }, (_, i) => (from + i) & 0xffff);
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
const CIPHER_LISTS: readonly number[][] = [
  [], [0x002f], SPEC_CIPHERS, [0x2a2a, ...SPEC_CIPHERS, 0xfafa], [0x0a1a, 0x1301], u16s(120, 0x0100), u16s(400, 0xc000), [0x0a0a, 0x1a1a],
];
const ALPNS: ReadonlyArray<ReadonlyArray<string | Uint8Array>> = [
  ['h2', 'http/1.1'], ['h3'], ['x'], [''], [Uint8Array.from([0xab, 0xcd]), 'h2'], [Uint8Array.from([0x30, 0xab])],
  [Uint8Array.from([0x30, 0x20, 0x31])], ['a b'], Array.from({ length: 20 }, (_, i) => `p${i}`), [Buffer.alloc(255, 0x01)],
  ['h3-29', 'h3-T050'], [Buffer.from([0x7f, 0x7e])],
];
const SNIS = ['example.com', '', 'a b', 'x'.repeat(255), 'x'.repeat(256), 'caf\u00e9.example', '192.0.2.1', '~!'];
const VERSIONS: readonly number[][] = [
  [0x0304, 0x0303], [0x7a7a, 0x0304], [0x7a7a], [0x7f1c, 0x0303], [0x7f17, 0x7f1c], [0xfefc, 0xfefd], [0xfeff], [], [0x0302, 0x0301, 0x0300],
  [0x0002], [0x1234], [0x0304, 0x7f1c, 0xfefd],
];
const SIG_LISTS: readonly number[][] = [[], SIGS, [0x0a0a, ...SIGS], u16s(300, 0x0400)];

function builderHellos(): Array<{ body: Buffer; what: string }> {
  const out: Array<{ body: Buffer; what: string }> = [];
  const r = rng(1);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const add = (o: HelloOptions, what: string): void => {
    out.push({ body: clientHelloBody(o), what });
  };
  add({ ciphers: SPEC_CIPHERS, noExtensions: true }, 'no extensions');
  add({ version: 0x0300, ciphers: [0x002f], noExtensions: true, sessionId: 0 }, 'ssl3');
  add({ ciphers: [], extensions: [] }, 'empty');
  add({ ciphers: u16s(150, 0x0100), extensions: Array.from({ length: 105 }, (_, i) => ext.raw(0x0100 + i)) }, 'counts over 99');
  add({ ciphers: u16s(50, 1), extensions: Array.from({ length: 300 }, (_, i) => ext.raw((0x0200 + i * 7) & 0xffff)) }, 'many extensions');
  add({ ciphers: Array.from({ length: 2000 }, () => Math.floor(r() * 300)), extensions: Array.from({ length: 90 }, () => ext.raw(0x0100 + Math.floor(r() * 40))) }, 'long unsorted lists with repeats');
  add({ ciphers: [0x1301], extensions: [ext.sni('a.example'), ext.alpn(['h2'])] }, 'only SNI and ALPN');
  add({ ciphers: [0x1301], extensions: [ext.sni('a b'), ext.sni('second.example'), ext.alpn([]), ext.alpn(['h2', 'h3'])] }, 'repeated SNI and ALPN');
  add({ ciphers: [0x1301], extensions: [ext.supportedVersions([0x0304]), ext.supportedVersions([0x0303]), ext.sigAlgs(SIGS), ext.sigAlgs([0x0401])] }, 'repeated lists');
  add({ ciphers: [0x1301], extensions: [ext.raw(0x002b, Buffer.from([3, 3, 4, 3])), ext.raw(0x000d, Buffer.from([0, 3, 4, 3, 1]))] }, 'odd list lengths');
  add({ ciphers: [0x1301], extensions: [ext.raw(0x0000, Buffer.from([0, 5, 1, 0, 2, 0x61, 0x62])), ext.raw(0x0010, Buffer.from([0, 9, 2, 0x68, 0x32, 9]))] }, 'bad inner lists');
  add({ ciphers: [0x1301], extensions: [ext.raw(0x0000), ext.raw(0x0010), ext.raw(0x002b), ext.raw(0x000d)] }, 'empty extensions');
  for (let i = 0; i < 600; i++) {
    const exts: Ext[] = [];
    if (r() < 0.7) exts.push(ext.sni(pick(SNIS)));
    if (r() < 0.7) exts.push(ext.alpn(pick(ALPNS)));
    if (r() < 0.7) exts.push(ext.supportedVersions(pick(VERSIONS)));
    if (r() < 0.7) exts.push(ext.sigAlgs(pick(SIG_LISTS)));
    for (let k = Math.floor(r() * 6); k > 0; k--) exts.push(ext.raw(pick([0x0a0a, 0x001b, 0x0033, 0x4469, 0xff01, 0x0017, 0xfe0d, 0x3a3a]), Buffer.alloc(Math.floor(r() * 4), 1)));
    for (let k = exts.length - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      [exts[k], exts[j]] = [exts[j]!, exts[k]!];
    }
    const dtls = r() < 0.3;
    add({
      version: pick(dtls ? [0xfefd, 0xfeff, 0x0100] : [0x0303, 0x0301, 0x0302, 0x0300]),
      ciphers: pick(CIPHER_LISTS),
      extensions: exts,
      sessionId: pick([0, 8, 32]),
      ...(dtls ? { cookie: Buffer.alloc(pick([0, 16]), 0x5c) } : {}),
    }, `built ${i}`);
  }
  return out;
}

/** Every ClientHello body the inspector reads from a capture (QUIC, DTLS, split TLS), and every TCP payload that opens a hello record. */
function captureHellos(): { bodies: Array<{ body: Uint8Array; dtls: boolean; what: string }>; segments: Array<{ p: Uint8Array; what: string }> } {
  const bodies: Array<{ body: Uint8Array; dtls: boolean; what: string }> = [];
  const segments: Array<{ p: Uint8Array; what: string }> = [];
  const seen = new Set<string>();
  const limits = { enabled: true, max_packets: 16, max_buffer: 65536, max_reassembling: 4096 };
  for (const file of readdirSync(PCAPS).sort()) {
    const flows = new Map<string, { insp: Inspector; first: string; done: boolean }>();
    for (const p of packets(join(PCAPS, file))) {
      if (p.proto === 6 && p.payload.length >= 6 && p.payload[0] === 0x16 && p.payload[5] === 1) {
        segments.push({ p: Uint8Array.from(p.payload), what: file });
      }
      const src = `${p.src}#${p.sport}`;
      const key = flowKey(p.proto, p.src, p.sport, p.dst, p.dport);
      let fl = flows.get(key);
      if (fl === undefined) flows.set(key, (fl = { insp: new Inspector(limits, () => {}), first: src, done: false }));
      if (!fl.done) fl.done = fl.insp.onPacket(src === fl.first ? 0 : 1, p.proto, p.payload, p.seq, p.flags);
    }
    for (const fl of flows.values()) {
      const h = fl.insp.clientHelloBody();
      if (h === null) continue;
      const hex = Buffer.from(h.body).toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      bodies.push({ body: h.body, dtls: h.proto === 'd', what: `${file} ${h.proto}` });
    }
  }
  return { bodies, segments };
}

const BUILT = builderHellos();

t.test('native and JavaScript agree on every hello the builder makes', async (t) => {
  const d = new Differ();
  for (const { body, what } of BUILT) d.all(body, what);
  t.same(d.mismatches, [], `${d.cases} cases, ${d.parsed} parsed`);
  t.ok(d.parsed > BUILT.length * 3, 'most of them parse');
});

t.test('native and JavaScript agree on mutated hellos, null for the same malformed ones', async (t) => {
  const d = new Differ();
  const r = rng(2024);
  for (let it = 0; it < 6000; it++) {
    const { body, what } = BUILT[it % BUILT.length]!;
    const dtls = r() < 0.5;
    const m = mutate(body, dtls, r);
    d.check(m, 0, m.length, dtls, `mutated ${what} #${it}`);
    // Inside a larger buffer: whatever follows `end` must not be read.
    const framed = Buffer.concat([Buffer.alloc(3, 0xaa), m, Buffer.alloc(300, 0xff)]);
    d.check(framed, 3, 3 + m.length, dtls, `framed mutated ${what} #${it}`);
  }
  t.same(d.mismatches, [], `${d.cases} cases, ${d.parsed} parsed`);
  t.ok(d.parsed > 0 && d.parsed < d.cases, 'some mutations parse, others do not');
});

t.test('native and JavaScript agree on the shared captures\' hellos and mutations of them', { skip: existsSync(PCAPS) ? false : `${PCAPS} is absent` }, async (t) => {
  const { bodies, segments } = captureHellos();
  t.comment(`${bodies.length} distinct hello bodies, ${segments.length} TCP segments opening a hello`);
  t.ok(bodies.length >= 500, `${bodies.length} hellos from the captures`);
  t.ok(bodies.some((b) => b.what.endsWith(' q')) && bodies.some((b) => b.what.endsWith(' d')), 'QUIC and DTLS hellos among them');
  const d = new Differ();
  for (const { body, what } of bodies) d.all(body, what);
  const r = rng(99);
  for (let it = 0; it < 8000; it++) {
    const { body, dtls, what } = bodies[it % bodies.length]!;
    const m = mutate(body, dtls, r);
    d.check(m, 0, m.length, dtls, `mutated ${what} #${it}`);
  }
  t.same(d.mismatches, [], `${d.cases} cases, ${d.parsed} parsed`);

  // The per-flow path: helloMetaInPlace is tlsMeta(clientHelloInPlace(...)) on every segment, as sent and mutated.
  const diffs: string[] = [];
  let inPlace = 0;
  const same = (p: Uint8Array, what: string): void => {
    const h = clientHelloInPlace(p, 0, p.length);
    const want = JSON.stringify(h ? tlsMeta(h, null) : h);
    const got = JSON.stringify(helloMetaInPlace(p, 0, p.length));
    if (h) inPlace++;
    if (want !== got && diffs.length < 20) diffs.push(`${what}: js ${want} native ${got}`);
  };
  for (const { p, what } of segments) {
    same(p, what);
    if (p.length >= 9 && 9 + u24(p, 6) <= p.length) {
      for (let k = 0; k < 3; k++) {
        const m = Buffer.from(p);
        const body = mutate(m.subarray(9, 9 + u24(p, 6)), false, r);
        same(Buffer.concat([m.subarray(0, 9), body, m.subarray(9 + u24(p, 6))]), `${what} mutated`);
      }
    }
  }
  t.same(diffs, [], `${segments.length} segments, ${inPlace} hellos in place`);
});

t.test('start and end outside the array are refused, never read', async (t) => {
  const body = BUILT[2]!.body;
  const out: unknown[] = [];
  const call = (b: unknown, s: unknown, e: unknown, dtls: unknown = false, proto: unknown = 0x74): unknown =>
    (native.helloMeta as (...a: unknown[]) => unknown)(b, s, e, dtls, proto, out);
  t.throws(() => call(body, -1, body.length), RangeError);
  t.throws(() => call(body, 0, body.length + 1), RangeError);
  t.throws(() => call(body, 0, 2 ** 53), RangeError);
  t.throws(() => call(body, 0.5, body.length), RangeError);
  t.throws(() => call(body, NaN, body.length), RangeError);
  t.throws(() => call(body, 0, Infinity), RangeError);
  t.throws(() => call(body, '0', body.length), RangeError);
  t.throws(() => call(body.subarray(1), 0, body.length), RangeError, 'the end of a view, not of its buffer');
  t.throws(() => call(new Uint16Array(64), 0, 64), TypeError);
  t.throws(() => call([1, 2, 3], 0, 3), TypeError);
  t.throws(() => call(body, 0, body.length, 1), TypeError);
  t.throws(() => call(body, 0, body.length, false, 0x78), TypeError);
  t.throws(() => (native.helloMeta as (...a: unknown[]) => unknown)(body, 0, body.length, false, 0x74), TypeError, 'out missing');
  t.throws(() => (native.helloMeta as (...a: unknown[]) => unknown)(body, 0, body.length, false, 0x74, {}), TypeError, 'out not an array');
  t.equal(call(body, body.length, 0), -1, 'start after end: malformed, as in JavaScript');
  t.equal(call(body, 5, 5), -1);
  t.equal(call(new Uint8Array(0), 0, 0), -1);
  t.equal(out.length, 0, 'nothing written for a malformed hello');
  t.equal(call(body, 0, body.length), 0);
  t.same(out, [null, 0x0303, ja4('t', parseClientHello(body, 0, body.length, false)!)]);
});

t.test('the inspector keeps its own copy of the hello for clientHello(), not a view of the packet', async (t) => {
  const body = clientHelloBody({ version: 0xfefd, ciphers: SPEC_CIPHERS, cookie: Buffer.alloc(0), extensions: [ext.sni('dtls.example'), ext.alpn(['webrtc'])] });
  const packet = dtlsRecord(dtlsFragment(1, body, 0));
  const insp = new Inspector({ enabled: true, max_packets: 8, max_buffer: 16384, max_reassembling: 4096 }, () => {});
  insp.onPacket(0, 17, packet, 0, 0);
  packet.fill(0); // the capture buffer is reused for later packets
  const want = parseClientHello(body, 0, body.length, true)!;
  t.same(insp.clientHello(), want);
  t.equal(insp.result().ja4, ja4('d', want));
  t.same(insp.result().alpn, ['webrtc']);
  t.equal(insp.result().sni, 'dtls.example');
});
