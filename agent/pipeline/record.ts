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
import { labelJson } from '../infer/labels.js';
import type { ClassifyResult, ModelLabel, UnlabeledReason } from '../infer/types.js';
import { JSON_TEXT, type PublishRecord } from '../publish/types.js';

export const RECORD_VERSION = 1;

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

function pick(f: Float64Array, i: number): number | null {
  return i >= 0 ? f[i]! : null;
}

interface FlowPart {
  src_ip: string; src_port: number; dst_ip: string; dst_port: number; proto: number; vlan: number;
  first_ts: string | null; last_ts: string | null; end_reason: string;
  packets: [number | null, number | null]; bytes: [number | null, number | null]; duration_ms: number | null;
}

interface TlsPart {
  sni: string | null; alpn: readonly string[]; version: string | null; ja4: string | null; quic_version?: string;
}

/** JSON.stringify of a number: its ToString when finite (which writes -0 as "0"), else null. */
function num(x: number | null): string {
  return x === null || !Number.isFinite(x) ? 'null' : '' + x;
}

/** JSON.stringify of a string or null; strings of printable ASCII without " or \ (addresses, timestamps) are quoted as they are. */
function str(x: string | null): string {
  if (x === null) return 'null';
  for (let i = 0; i < x.length; i++) {
    const c = x.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(x);
  }
  return '"' + x + '"';
}

/** JSON.stringify(f), exactly: one string built in order instead of a walk over a generic object. */
function flowJson(f: FlowPart): string {
  return '{"src_ip":' + str(f.src_ip) + ',"src_port":' + num(f.src_port) + ',"dst_ip":' + str(f.dst_ip) + ',"dst_port":' + num(f.dst_port)
    + ',"proto":' + num(f.proto) + ',"vlan":' + num(f.vlan) + ',"first_ts":' + str(f.first_ts) + ',"last_ts":' + str(f.last_ts)
    + ',"end_reason":' + str(f.end_reason) + ',"packets":[' + num(f.packets[0]) + ',' + num(f.packets[1]) + '],"bytes":['
    + num(f.bytes[0]) + ',' + num(f.bytes[1]) + '],"duration_ms":' + num(f.duration_ms) + '}';
}

/**
 * The record as published; its JSON is written by JSON_TEXT (the sinks use it), which gives
 * exactly what JSON.stringify gives, with the labels written by labelJson. JSON.stringify of the
 * records was a quarter of `replay`'s main thread, and the labels' eight probabilities made it
 * 2.4 times as slow as without labels.
 */
class FlowRecordV1 {
  // Fields declared in the record's key order (parameter properties would come before `v`).
  readonly v = RECORD_VERSION;
  readonly sensor: string;
  readonly flow: FlowPart;
  readonly tls: TlsPart | null;
  readonly app: ModelLabel | null;
  readonly attribution: ModelLabel | null;
  declare readonly unlabeled?: UnlabeledReason;

  constructor(sensor: string, flow: FlowPart, tls: TlsPart | null, app: ModelLabel | null, attribution: ModelLabel | null, unlabeled: UnlabeledReason | undefined) {
    this.sensor = sensor;
    this.flow = flow;
    this.tls = tls;
    this.app = app;
    this.attribution = attribution;
    if (unlabeled) (this as { unlabeled?: UnlabeledReason }).unlabeled = unlabeled;
  }

  [JSON_TEXT](): string {
    let s = '{"v":' + num(this.v) + ',"sensor":' + JSON.stringify(this.sensor) + ',"flow":' + flowJson(this.flow)
      + ',"tls":' + JSON.stringify(this.tls) + ',"app":' + labelJson(this.app) + ',"attribution":' + labelJson(this.attribution);
    if (this.unlabeled !== undefined) s += ',"unlabeled":' + JSON.stringify(this.unlabeled);
    return s + '}';
  }
}

export function toPublishRecord(r: FlowRecord, result: ClassifyResult, sensor: string, vol: VolumeColumns = REGISTRY_VOLUME): PublishRecord {
  const f = r.features;
  const m = r.meta;
  const flow: FlowPart = {
    src_ip: r.srcIp, src_port: r.srcPort, dst_ip: r.dstIp, dst_port: r.dstPort, proto: r.proto, vlan: r.vlan,
    first_ts: r.firstTs ? isoMicros(r.firstTs) : null,
    last_ts: r.lastTs ? isoMicros(r.lastTs) : null,
    end_reason: r.endReason,
    packets: [pick(f, vol.packets[0]), pick(f, vol.packets[1])],
    bytes: [pick(f, vol.bytes[0]), pick(f, vol.bytes[1])],
    duration_ms: pick(f, vol.duration),
  };
  const tls: TlsPart | null = m ? { sni: m.sni, alpn: m.alpn, version: m.tlsVersion, ja4: m.ja4, ...(m.quicVersion ? { quic_version: m.quicVersion } : {}) } : null;
  return new FlowRecordV1(sensor, flow, tls, result.labels['app'] ?? null, result.labels['attribution'] ?? null, result.unlabeled) as unknown as PublishRecord;
}
