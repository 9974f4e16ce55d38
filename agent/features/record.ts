/**
 * A finished flow leaving the flow meter: identity, handshake metadata and the
 * feature vector in registry order. This is what every later stage (CSV/JSONL
 * writers, inference, publishing) consumes.
 */
import type { EndReason } from '../flows/end-reason.js';
import type { Columns } from '../flows/store.js';
import { addressText } from './address.js';
import { FEATURES, GROUPS } from './registry.js';

/** What the first handshake message of the flow showed (see agent/meta/). */
export interface FlowMeta {
  readonly sni: string | null;
  readonly alpn: readonly string[];
  readonly tlsVersion: string | null;
  readonly ja4: string | null;
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

export function buildRecord(c: Columns, s: number, reason: EndReason, meta: FlowMeta | null): FlowRecord {
  const features = new Float64Array(FEATURES.length);
  let at = 0;
  for (let g = 0; g < GROUPS.length; g++) {
    GROUPS[g]!.fill(c, s, features, at);
    at += GROUPS[g]!.defs.length;
  }
  const v = c.ipVersion[s]!;
  const ports = c.ports[s]!;
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

let lastSecond = NaN;
let lastPrefix = '';

/** ISO 8601 with microseconds, UTC. Consecutive flows mostly share the second, so its text is cached. */
export function isoMicros(us: number): string {
  const sec = Math.floor(us / 1e6);
  if (sec !== lastSecond) {
    const d = new Date(sec * 1000);
    if (Number.isNaN(d.getTime())) return '';
    lastSecond = sec;
    lastPrefix = d.toISOString().slice(0, 19);
  }
  const micro = Math.floor(us - sec * 1e6);
  return `${lastPrefix}.${String(micro).padStart(6, '0')}Z`;
}
