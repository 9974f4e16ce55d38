/**
 * Flow records packed for the row-writer thread: numbers in one transferable
 * Float64Array, texts in a small array. Shared by both sides so the layout is
 * declared once.
 */
import { END_REASONS, type EndReason } from '../flows/end-reason.js';
import { HeldMeta } from '../meta/held-meta.js';
import type { FlowMeta, FlowRecord } from './record.js';
import { FEATURES } from './registry.js';

/** Identity numbers before the features: srcPort, dstPort, proto, vlan, firstTs, lastTs, end reason index. */
const HEAD = 7;
export const STRIDE = HEAD + FEATURES.length;
/**
 * Texts per row: srcIp, dstIp, then the metadata's sni, alpn (joined by ';'), version and ja4,
 * each a string or null. Flat strings, not a metadata object: the structured clone of nested
 * objects for the writer thread cost the flow meter's thread twice as much. A flow meter's record
 * carries a HeldMeta (held-meta.ts): it travels as its one string in the sni's place, read by the
 * writer; the other slots serve metadata of any other origin.
 */
const TEXTS = 6;

export interface RowBatch {
  n: number;
  nums: Float64Array;
  texts: Array<string | null>;
}

/**
 * A batch, reusing `nums` and `texts` when given: the texts are cloned when the batch is posted, so
 * the same array serves every batch. It is made whole and written by index: pushing
 * strings into arrays made empty deoptimized the whole end-of-flow path ("not a Smi", "wrong map"
 * on the push, with --trace-deopt), each deoptimization a recompilation on a core the flow meter
 * shares with the writer.
 */
export function newBatch(capacity: number, nums: Float64Array = new Float64Array(capacity * STRIDE), texts = newTexts(capacity)): RowBatch {
  return { n: 0, nums, texts };
}

/**
 * Packed, not holey (new Array(n).fill() is holey): V8 clones a holey array to the writer as a
 * sparse one, slow to send and, in dictionary mode there, slow to read (callgrind: +400M
 * instructions on the writer's thread per million packets).
 */
function newTexts(capacity: number): Array<string | null> {
  const t: Array<string | null> = [];
  for (let i = 0; i < capacity * TEXTS; i++) t.push(null);
  return t;
}

export function pack(b: RowBatch, r: FlowRecord): void {
  const o = b.n * STRIDE;
  const x = b.nums;
  x[o] = r.srcPort;
  x[o + 1] = r.dstPort;
  x[o + 2] = r.proto;
  x[o + 3] = r.vlan;
  x[o + 4] = r.firstTs;
  x[o + 5] = r.lastTs;
  x[o + 6] = END_REASONS.indexOf(r.endReason);
  x.set(r.features, o + HEAD);
  const t = b.texts;
  const at = b.n * TEXTS;
  t[at] = r.srcIp;
  t[at + 1] = r.dstIp;
  const m = r.meta;
  if (m === null || m instanceof HeldMeta) {
    t[at + 2] = m === null ? null : m.packed;
    t[at + 3] = t[at + 4] = t[at + 5] = null;
  } else {
    t[at + 2] = m.sni;
    t[at + 3] = m.alpn.length > 0 ? m.alpn.join(';') : null;
    t[at + 4] = m.tlsVersion;
    t[at + 5] = m.ja4;
  }
  b.n++;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Fill `into` with row `i` of a received batch (features are a view into the batch). */
export function unpack(b: RowBatch, i: number, into: FlowRecord): FlowRecord {
  const o = i * STRIDE;
  const x = b.nums;
  const r = into as Mutable<FlowRecord>;
  r.srcPort = x[o]!;
  r.dstPort = x[o + 1]!;
  r.proto = x[o + 2]!;
  r.vlan = x[o + 3]!;
  r.firstTs = x[o + 4]!;
  r.lastTs = x[o + 5]!;
  r.endReason = END_REASONS[x[o + 6]!] as EndReason;
  r.features = x.subarray(o + HEAD, o + STRIDE);
  r.srcIp = b.texts[i * TEXTS] as string;
  r.dstIp = b.texts[i * TEXTS + 1] as string;
  const t = b.texts;
  const at = i * TEXTS;
  const sni = t[at + 2]!, alpn = t[at + 3]!, version = t[at + 4]!, ja4 = t[at + 5]!;
  const meta: FlowMeta | null = HeldMeta.is(sni) ? new HeldMeta(sni)
    : sni === null && alpn === null && version === null && ja4 === null ? null
    : { sni, alpn: alpn === null ? [] : alpn.split(';'), tlsVersion: version, ja4 };
  r.meta = meta;
  return r;
}
