/**
 * Flow records packed for the row-writer thread: numbers in one transferable
 * Float64Array, texts in a small array. Shared by both sides so the layout is
 * declared once.
 */
import { END_REASONS, type EndReason } from '../flows/end-reason.js';
import type { FlowMeta, FlowRecord } from './record.js';
import { FEATURES } from './registry.js';

/** Identity numbers before the features: srcPort, dstPort, proto, vlan, firstTs, lastTs, end reason index. */
const HEAD = 7;
export const STRIDE = HEAD + FEATURES.length;
/** Texts per row: srcIp, dstIp, then the metadata (or null): sni, alpn joined by ';', version, ja4. */
const TEXTS = 3;

export interface RowBatch {
  n: number;
  nums: Float64Array;
  texts: Array<string | null | FlowMeta>;
}

export function newBatch(capacity: number): RowBatch {
  return { n: 0, nums: new Float64Array(capacity * STRIDE), texts: [] };
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
  b.texts.push(r.srcIp, r.dstIp, r.meta === null ? null : { sni: r.meta.sni, alpn: r.meta.alpn, tlsVersion: r.meta.tlsVersion, ja4: r.meta.ja4 });
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
  r.meta = b.texts[i * TEXTS + 2] as FlowMeta | null;
  return r;
}
