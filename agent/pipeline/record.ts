/**
 * The published record, version 1: one JSON object per flow. This is the
 * contract with the collectors (documented in the README); add fields freely,
 * but renaming or removing one is a new version.
 *
 * {
 *   "v": 1, "sensor": "gw-01",
 *   "flow": { "src_ip", "src_port", "dst_ip", "dst_port", "proto", "vlan", "first_ts", "last_ts",
 *             "end_reason", "packets": [src2dst, dst2src], "bytes": [src2dst, dst2src], "duration_ms" },
 *   "tls": { "sni", "alpn", "version", "ja4", "quic_version" (QUIC flows only) } | null,
 *   "app": { "label", "confidence", "top": [[label, p], ...] } | null,
 *   "attribution": { ... } | null,
 *   "unlabeled": "overload" | "inference-error" | "shutdown"   (only when the models did not run)
 * }
 */
import type { FlowRecord } from '../features/record.js';
import { isoMicros } from '../features/record.js';
import { FEATURE_NAMES } from '../features/registry.js';
import type { ClassifyResult } from '../infer/types.js';
import { RAW_MEMBERS, type PublishRecord } from '../publish/types.js';

export const RECORD_VERSION = 1;

/** The record's label members: one per model kind. */
const LABEL_KINDS = ['app', 'attribution'] as const;

const PK = [FEATURE_NAMES.indexOf('src2dst_packets'), FEATURE_NAMES.indexOf('dst2src_packets')] as const;
const BY = [FEATURE_NAMES.indexOf('src2dst_bytes'), FEATURE_NAMES.indexOf('dst2src_bytes')] as const;
const DUR = FEATURE_NAMES.indexOf('bidirectional_duration_ms');

/** Where the volume figures sit in a feature vector: the registry's layout, or a CSV's. */
export interface VolumeColumns {
  packets: readonly [number, number];
  bytes: readonly [number, number];
  duration: number;
}

export const REGISTRY_VOLUME: VolumeColumns = { packets: PK, bytes: BY, duration: DUR };

export function volumeColumns(layout: readonly string[]): VolumeColumns {
  const at = (n: string): number => layout.indexOf(n);
  return {
    packets: [at('src2dst_packets'), at('dst2src_packets')],
    bytes: [at('src2dst_bytes'), at('dst2src_bytes')],
    duration: at('bidirectional_duration_ms'),
  };
}

/** A time no Date can hold (a capture's corrupt timestamp) is null, never "" (isoMicros gives "" for it). */
function isoOrNull(us: number): string | null {
  return us ? isoMicros(us) || null : null;
}

function pick(f: Float64Array, i: number): number | null {
  return i >= 0 ? f[i]! : null;
}

export function toPublishRecord(r: FlowRecord, result: ClassifyResult, sensor: string, vol: VolumeColumns = REGISTRY_VOLUME): PublishRecord {
  const f = r.features;
  const m = r.meta;
  const out: Record<string, unknown> = {
    v: RECORD_VERSION,
    sensor,
    flow: {
      src_ip: r.srcIp, src_port: r.srcPort, dst_ip: r.dstIp, dst_port: r.dstPort, proto: r.proto, vlan: r.vlan,
      first_ts: isoOrNull(r.firstTs),
      last_ts: isoOrNull(r.lastTs),
      end_reason: r.endReason,
      packets: [pick(f, vol.packets[0]), pick(f, vol.packets[1])],
      bytes: [pick(f, vol.bytes[0]), pick(f, vol.bytes[1])],
      duration_ms: pick(f, vol.duration),
    },
    tls: m ? { sni: m.sni, alpn: m.alpn, version: m.tlsVersion, ja4: m.ja4, ...(m.quicVersion ? { quic_version: m.quicVersion } : {}) } : null,
  };
  // The labels come as JSON members, written by the workers (infer/labels.ts); a model that did not run is null.
  if (result.json === undefined) {
    for (const kind of LABEL_KINDS) if (!result.kinds.includes(kind)) out[kind] = null;
  } else {
    (out as { [RAW_MEMBERS]?: string })[RAW_MEMBERS] = withNulls(result.json, result.kinds);
  }
  if (result.unlabeled) out['unlabeled'] = result.unlabeled;
  return out;
}

/**
 * The workers' members with a null for each kind whose model did not run, in the record's
 * order (app, then attribution): the serializer appends them after the object's own members, so
 * a null member on the object would come first ("attribution":null before "app" with the app
 * model alone). Both models run in the shipped configuration: the JSON is then returned as is.
 */
function withNulls(json: string, kinds: readonly string[]): string {
  if (kinds.length === LABEL_KINDS.length) return json;
  // The workers write their kinds in the models' order, which is the record's (service.ts modelsFor lists app first).
  const first = LABEL_KINDS.indexOf(kinds[0] as (typeof LABEL_KINDS)[number]);
  let out = json;
  LABEL_KINDS.forEach((kind, i) => {
    if (kinds.includes(kind)) return;
    out = i < first ? `"${kind}":null,${out}` : `${out},"${kind}":null`;
  });
  return out;
}
