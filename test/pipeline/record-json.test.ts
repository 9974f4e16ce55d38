/**
 * The published record writes its own JSON (JSON_TEXT, with labelJson for the labels); it must
 * be JSON.stringify's text byte for byte, whatever the values: checked over random records with
 * awkward strings (quotes, backslashes, control characters, non-ASCII, lone surrogates),
 * numbers (NaN, infinities, -0, huge and tiny), labels from labelRow (probabilities exact, odd,
 * NaN) and from elsewhere, metadata or none, and every unlabeled reason.
 */
import t from 'tap';
import { END_REASONS } from '../../agent/flows/end-reason.js';
import type { FlowMeta, FlowRecord } from '../../agent/features/record.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { labelJson, labelRow } from '../../agent/infer/labels.js';
import type { ClassifyResult, ModelLabel } from '../../agent/infer/types.js';
import { toPublishRecord, volumeColumns } from '../../agent/pipeline/record.js';
import { encodeLines } from '../../agent/publish/serialize.js';
import { JSON_TEXT, type PublishRecord } from '../../agent/publish/types.js';
import { createTelemetry } from '../../agent/events.js';

let seed = 7;
function rand(): number {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const STRINGS = ['', '10.0.0.1', '2001:db8::1', 'a"b', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\u007f', 'é', '名前', '\ud800', '😀', '</script>'];
const NUMBERS = [0, -0, 1, 443, 65535, 0.1, 29.821, 1e21, 1e-7, -5, 2 ** 53, NaN, Infinity, -Infinity, 5e-324];
const CLASSES = ['unknown', 'Zoom', 'Teams', 'a"quote', 'back\\slash', 'é', 'new\nline'];

function text(): string {
  return rand() < 0.5 ? `${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.0.1` : pick(STRINGS);
}

function meta(): FlowMeta | null {
  if (rand() < 0.4) return null;
  const m: FlowMeta = {
    sni: rand() < 0.2 ? null : text(),
    alpn: rand() < 0.3 ? [] : [text(), text()],
    tlsVersion: rand() < 0.3 ? null : pick(['1.2', '1.3']),
    ja4: rand() < 0.3 ? null : 't13d1516h2_8daaf6152771_e5627efa2ab1',
  };
  return rand() < 0.3 ? { ...m, quicVersion: pick(['v1', 'Q043', 'x"y']) } : m;
}

function record(): FlowRecord {
  const features = new Float64Array(FEATURE_NAMES.length);
  for (let i = 0; i < features.length; i++) features[i] = rand() < 0.8 ? Math.round(rand() * 1e6) / 1e3 : pick(NUMBERS);
  return {
    srcIp: text(), srcPort: rand() < 0.9 ? Math.floor(rand() * 65536) : pick(NUMBERS), dstIp: text(), dstPort: pick(NUMBERS),
    proto: pick([6, 17, 1, 0, NaN]), vlan: pick([0, 4095, -0]),
    firstTs: pick([0, 1_764_000_000_123_456, 1.5, NaN]), lastTs: pick([0, 1_764_000_000_999_999, -1e-300]),
    endReason: pick(END_REASONS), meta: meta(), features,
  };
}

function probs(n: number): Float32Array {
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) p[i] = rand() < 0.9 ? rand() : pick([0, 1, NaN, 0.00005, 0.99995, 1e-9, 1.5, -0.25, Infinity]) // a broken model's too;
  return p;
}

function label(): ModelLabel | undefined {
  const r = rand();
  if (r < 0.1) return undefined;
  // Not made by labelRow: written by JSON.stringify, whatever its shape.
  if (r < 0.2) return { label: text(), confidence: pick(NUMBERS), top: [[text(), pick(NUMBERS)]], extra: 1 } as ModelLabel;
  const classes = CLASSES.slice(0, 1 + Math.floor(rand() * CLASSES.length));
  return labelRow(probs(classes.length), 0, classes, rand());
}

function result(): ClassifyResult {
  const reason = pick([undefined, undefined, 'overload', 'inference-error', 'shutdown'] as const);
  if (reason) return { labels: {}, unlabeled: reason };
  const labels: Record<string, ModelLabel> = {};
  const app = label();
  const attribution = label();
  if (app) labels['app'] = app;
  if (attribution) labels['attribution'] = attribution;
  return { labels };
}

function ownJson(r: PublishRecord): string {
  return (r as unknown as { [JSON_TEXT]: () => string })[JSON_TEXT]();
}

t.test('JSON_TEXT gives JSON.stringify exactly', async (t) => {
  const layouts = [undefined, volumeColumns(['src2dst_packets', 'dst2src_bytes'])]; // the registry's, and a CSV's missing columns
  let bad = 0;
  const records: PublishRecord[] = [];
  for (let i = 0; i < 20_000; i++) {
    const r = toPublishRecord(record(), result(), pick(['gw-01', 'a"b', 'é']), pick(layouts));
    records.push(r);
    if (ownJson(r) !== JSON.stringify(r) && bad++ < 5) t.equal(ownJson(r), JSON.stringify(r), `record ${i}`);
  }
  t.equal(bad, 0, 'no record differs');
  const { data, count } = encodeLines(records, createTelemetry());
  t.equal(count, records.length);
  t.equal(data.toString(), records.map((r) => JSON.stringify(r) + '\n').join(''), 'the sinks write the same lines');
});

t.test('labelJson', async (t) => {
  t.equal(labelJson(null), 'null');
  const l = labelRow(new Float32Array([0.1, 0.6, 0.3]), 0, ['a', 'b"', 'c'], 0.5);
  t.equal(labelJson(l), JSON.stringify(l));
  t.equal(labelJson(l), '{"label":"b\\"","confidence":0.6,"top":[["b\\"",0.6],["c",0.3],["a",0.1]]}');
  for (let k = 0; k <= 10_000; k++) {
    const p = new Float32Array([k / 1e4]);
    const one = labelRow(p, 0, ['x'], 0);
    if (labelJson(one) !== JSON.stringify(one)) {
      t.fail(`probability ${k / 1e4}: ${labelJson(one)}`);
      break;
    }
  }
  const odd = labelRow(new Float32Array([NaN, NaN]), 0, ['x', 'y'], 0.5);
  t.equal(labelJson(odd), JSON.stringify(odd), 'NaN probabilities');
});
