/**
 * A finished flow leaving the flow meter: identity, handshake metadata and the
 * feature vector in registry order. This is what every later stage (CSV/JSONL
 * writers, inference, publishing) consumes.
 */
import type { EndReason } from '../flows/end-reason.js';
import type { Columns } from '../flows/store.js';
import { addressText } from './address.js';
import { FeatureRows } from './feature-rows.js';
import { IsoDay, THREE_DIGITS, TWO_DIGITS } from '../lib/iso-day.js';
import { FEATURES, GROUPS } from './registry.js';

/** What the first handshake message of the flow showed (see agent/meta/). */
export interface FlowMeta {
  readonly sni: string | null;
  readonly alpn: readonly string[];
  readonly tlsVersion: string | null;
  readonly ja4: string | null;
  /** QUIC flows: the version the Initial was read with ("v1", "v2", "draft-29", "Q043", "T051", ...). */
  readonly quicVersion?: string;
}

export interface FlowRecord {
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly proto: number;
  readonly vlan: number;
  /** µs since the Unix epoch. */
  readonly firstTs: number;
  readonly lastTs: number;
  readonly endReason: EndReason;
  readonly meta: FlowMeta | null;
  /** Values of FEATURES, in registry order. */
  readonly features: Float64Array;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A record to fill again and again (see buildRecord's `into`). */
export function scratchRecord(): FlowRecord {
  return {
    srcIp: '', srcPort: 0, dstIp: '', dstPort: 0, proto: 0, vlan: 0, firstTs: 0, lastTs: 0, endReason: 'forced', meta: null,
    features: new Float64Array(FEATURES.length),
  };
}

/** Every record's feature vector comes from here (feature-rows.ts); releaseFeatures gives it back. */
const ROWS = new FeatureRows(FEATURES.length);

/** The record's features are read no more (it is published): their row may be reused. */
export function releaseFeatures(r: FlowRecord): void {
  ROWS.release(r.features);
}

/**
 * The finished flow in `slot` as a record. With `into`, that record is filled
 * and returned instead of a new one: for consumers that use each record
 * before the next (the CSV writer), it saves an allocation per flow.
 */
export function buildRecord(c: Columns, s: number, reason: EndReason, meta: FlowMeta | null, into?: FlowRecord): FlowRecord {
  const features = into ? into.features : ROWS.alloc();
  let at = 0;
  for (let g = 0; g < GROUPS.length; g++) {
    GROUPS[g]!.fill(c, s, features, at);
    at += GROUPS[g]!.defs.length;
  }
  const v = c.ipVersion[s]!;
  const ports = c.ports[s]!;
  if (into) {
    const r = into as Mutable<FlowRecord>;
    r.srcIp = addressText(v, c.srcIp, s * 4);
    r.srcPort = ports >>> 16;
    r.dstIp = addressText(v, c.dstIp, s * 4);
    r.dstPort = ports & 0xffff;
    r.proto = c.proto[s]!;
    r.vlan = c.vlan[s]! >>> 12;
    r.firstTs = c.firstTs[s]!;
    r.lastTs = c.lastTs[s]!;
    r.endReason = reason;
    r.meta = meta;
    return r;
  }
  return {
    srcIp: addressText(v, c.srcIp, s * 4),
    srcPort: ports >>> 16,
    dstIp: addressText(v, c.dstIp, s * 4),
    dstPort: ports & 0xffff,
    proto: c.proto[s]!,
    vlan: c.vlan[s]! >>> 12,
    firstTs: c.firstTs[s]!,
    lastTs: c.lastTs[s]!,
    endReason: reason,
    meta,
    features,
  };
}

const days = new IsoDay();

/** ISO 8601 with microseconds, UTC ('' for an invalid time). */
export function isoMicros(us: number): string {
  const sec = Math.floor(us / 1e6);
  // Six digits even for a time a hair off a whole second (-1e-300 rounds to 1e6 here, -5e-324 to -1).
  const micro = Math.max(0, Math.min(999_999, Math.floor(us - sec * 1e6)));
  const day = days.of(sec);
  if (day === '') {
    // An invalid date, or a year toISOString writes with six digits: as it writes it.
    const d = new Date(sec * 1000);
    if (Number.isNaN(d.getTime())) return '';
    return `${d.toISOString().slice(0, 19)}.${String(micro).padStart(6, '0')}Z`;
  }
  const t = sec - Math.floor(sec / 86400) * 86400;
  const h = (t / 3600) | 0;
  const m = ((t - h * 3600) / 60) | 0;
  const ms = (micro / 1000) | 0;
  return `${day}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[t - h * 3600 - m * 60]}.${THREE_DIGITS[ms]}${THREE_DIGITS[micro - ms * 1000]}Z`;
}
