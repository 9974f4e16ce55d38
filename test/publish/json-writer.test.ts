/**
 * writeJson gives JSON.stringify's bytes: on the records the pipeline publishes
 * (generated with odd values: non-ASCII and escaped text, -0, NaN, huge and tiny
 * numbers, missing labels), on every JSON-relevant edge case, and it fails where
 * JSON.stringify fails, leaving the buffer as it was.
 */
import t from 'tap';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { writeJson } from '../../agent/publish/json-writer.js';
import { encodeLines, encodeRecords } from '../../agent/publish/serialize.js';
import { toPublishRecord } from '../../agent/pipeline/record.js';
import { scratchRecord, type FlowRecord } from '../../agent/features/record.js';
import type { ModelLabel } from '../../agent/infer/types.js';
import { createTelemetry } from '../../agent/events.js';

function json(v: unknown): string | undefined {
  const out = new AsciiBuffer(16);
  return writeJson(out, v) ? out.buf.toString('utf8', 0, out.pos) : undefined;
}

let seed = 7;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const NUMBERS = [0, -0, 1, -1, 0.5, 0.6497, 1 / 3, 29.821, 1e-7, 1.5e-6, 123456789.123456, 1e9 + 0.5, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e21, 1e300, NaN, Infinity, -Infinity, 402809, 65535];
const TEXTS = ['', 'h2', 'www.example.com', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', 'é', '日本', '\u0000', '\u007f', 'emoji 😀', '\ud800 lone'];

function record(): FlowRecord {
  const r = scratchRecord() as { -readonly [K in keyof FlowRecord]: FlowRecord[K] };
  r.srcIp = pick(['10.0.0.1', '2001:db8::1', 'fe80::1%eth0']);
  r.dstIp = pick(['192.0.2.1', '::1']);
  r.srcPort = Math.floor(rnd() * 65536);
  r.dstPort = pick([443, 53, 0]);
  r.proto = pick([6, 17, 1, 132]);
  r.firstTs = pick([1.6e15 + rnd() * 1e9, 0]);
  r.lastTs = r.firstTs + rnd() * 1e6;
  r.endReason = pick(['idle', 'active', 'end', 'evicted', 'forced']);
  for (let i = 0; i < r.features.length; i++) r.features[i] = pick(NUMBERS);
  r.meta = rnd() < 0.3 ? null : {
    sni: rnd() < 0.2 ? null : pick(TEXTS), alpn: [pick(TEXTS), pick(TEXTS)].slice(0, Math.floor(rnd() * 3)),
    tlsVersion: pick(['1.3', null]), ja4: pick(['t13d1516h2_8daaf6152771_02713d6af862', null]),
    ...(rnd() < 0.3 ? { quicVersion: pick(['v1', 'Q043']) } : {}),
  };
  return r;
}

function label(): { label: string; confidence: number; top: Array<readonly [string, number]> } {
  const p = pick(NUMBERS);
  return { label: pick(TEXTS), confidence: p, top: [[pick(TEXTS), p], [pick(TEXTS), pick(NUMBERS)]] };
}

t.test('published records: the same bytes as JSON.stringify', async (t) => {
  let same = 0;
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const labels: Record<string, ModelLabel> = rnd() < 0.1 ? {} : { app: label(), attribution: label() };
    const rec = toPublishRecord(record(), rnd() < 0.1 ? { labels, unlabeled: 'overload' } : { labels }, pick(['gw-01', 'sensör']));
    if (json(rec) === JSON.stringify(rec)) same++;
    else t.fail(`differs: ${JSON.stringify(rec).slice(0, 300)}`);
  }
  t.equal(same, n);
});

t.test('edge cases of JSON itself', async (t) => {
  const cases: unknown[] = [
    null, true, false, 'x', ...NUMBERS, ...TEXTS, [], {}, [undefined, () => 1, Symbol('s'), null], { a: undefined, b: () => 1, c: Symbol('s'), d: 1 },
    { 2: 'b', 1: 'a', z: 1, y: [1, { x: 2 }] }, new Date(0), { toJSON: () => 'custom' }, new Map([[1, 2]]), new Set([1]),
    Object.create({ inherited: 1 }), new Float32Array([1.5, 2]), Object.freeze({ f: Object.freeze(['a']) }),
    new Number(3), new String('s'), new Boolean(false), [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
  ];
  for (const c of cases) t.equal(json(c), JSON.stringify(c), String(typeof c === 'symbol' ? 'symbol' : JSON.stringify(c)));
  t.equal(json(undefined), undefined);
  t.equal(json(() => 1), undefined);
});

t.test('fails as JSON.stringify fails, the buffer untouched', async (t) => {
  const out = new AsciiBuffer(16);
  writeJson(out, { ok: 1 });
  const before = out.pos;
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  t.throws(() => writeJson(out, { n: 10n }), /BigInt/);
  t.throws(() => writeJson(out, cyclic), /circular/);
  t.equal(out.pos, before);
});

t.test('encodeLines and encodeRecords: lines and payloads; an unserializable record is counted, the rest kept', async (t) => {
  const tel = createTelemetry();
  const recs = [{ v: 1, a: 'x' }, { v: 1, bad: 10n }, { v: 1, b: [1.5] }];
  const lines = encodeLines(recs, tel);
  t.equal(lines.data.toString(), '{"v":1,"a":"x"}\n{"v":1,"b":[1.5]}\n');
  t.same([lines.count, lines.failed], [2, 1]);
  const p = encodeRecords(recs, tel);
  t.same(p.payloads.map((b) => b.toString()), ['{"v":1,"a":"x"}', '{"v":1,"b":[1.5]}']);
  t.equal(p.failed, 1);
  // A batch far larger than the buffer's start size.
  const many = Array.from({ length: 5000 }, (_, i) => ({ v: 1, i, s: 'y'.repeat(300) }));
  t.equal(encodeLines(many, tel).data.toString(), many.map((r) => JSON.stringify(r) + '\n').join(''));
});
