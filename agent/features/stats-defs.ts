/**
 * Volume, size, timing and TCP-flag statistics, per direction and for both
 * directions together (prefixes src2dst_, dst2src_, bidirectional_), and the
 * flow-level active/idle periods and rates.
 * Times are milliseconds; standard deviations are population ones (over n, not n - 1).
 */
import type { Columns } from '../flows/store.js';
import type { FeatureDef, FeatureGroup } from './types.js';

const PREFIX = ['src2dst', 'dst2src', 'bidirectional'] as const;
const WHO = ['sent by src (the side that opened the flow: its first sender)', 'sent by dst', 'in both directions'] as const;
const FLAGS = ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ece', 'cwr'] as const;
const STATS = [['min', 'shortest'], ['max', 'longest'], ['mean', 'mean'], ['stddev', 'standard deviation of the']] as const;

function std(sum: number, sq: number, n: number): number {
  if (n === 0) return 0;
  const m = sum / n;
  const v = sq / n - m * m;
  return v > 0 ? Math.sqrt(v) : 0;
}

function directionalDocs(): FeatureDef[] {
  const out: FeatureDef[] = [];
  for (const d of [0, 1, 2] as const) {
    const p = PREFIX[d];
    const who = WHO[d];
    const add = (name: string, unit: string, basis: FeatureDef['basis'], description: string): void => {
      out.push({ name: `${p}_${name}`, unit, basis, description });
    };
    add('packets', 'packets', 'count', `packets ${who}`);
    add('bytes', 'bytes', 'ip', `IP bytes ${who}`);
    add('payload_bytes', 'bytes', 'payload', `transport payload bytes ${who}`);
    add('duration_ms', 'ms', 'time', `time from the first to the last packet ${who}`);
    add('size_min', 'bytes', 'ip', `smallest IP packet ${who}`);
    add('size_max', 'bytes', 'ip', `largest IP packet ${who}`);
    add('size_mean', 'bytes', 'ip', `mean IP packet size ${who}`);
    add('size_stddev', 'bytes', 'ip', `standard deviation of IP packet sizes ${who}`);
    for (const [nm, label] of STATS) {
      add(`iat_${nm}_ms`, 'ms', 'time', `${label} inter-arrival time between consecutive packets ${who}`);
    }
    for (const f of FLAGS) add(`${f}_packets`, 'packets', 'count', `TCP packets with ${f.toUpperCase()} set ${who}`);
    if (d !== 2) add('init_window', 'bytes', 'count', `TCP window of the first packet ${who} (0 for other protocols)`);
  }
  return out;
}

/** Writes the values of directionalDocs(), in its order. */
function fillDirectional(c: Columns, s: number, out: Float64Array, at: number): void {
  let o = at;
  for (let d = 0; d < 3; d++) {
    let n: number, bytes: number, pay: number, dur: number, smin: number, smax: number, sq: number;
    let imin: number, imax: number, isum: number, isq: number;
    if (d < 2) {
      const i = s * 2 + d;
      n = c.pkts[i]!;
      bytes = c.bytes[i]!;
      pay = c.payBytes[i]!;
      dur = n ? (c.dirLastTs[i]! - c.dirFirstTs[i]!) / 1000 : 0;
      smin = n ? c.szMin[i]! : 0;
      smax = c.szMax[i]!;
      sq = c.szSq[i]!;
      imin = c.iatMin[i]!; imax = c.iatMax[i]!; isum = c.iatSum[i]!; isq = c.iatSq[i]!;
    } else {
      const a = s * 2;
      const b = a + 1;
      n = c.pkts[a]! + c.pkts[b]!;
      bytes = c.bytes[a]! + c.bytes[b]!;
      pay = c.payBytes[a]! + c.payBytes[b]!;
      dur = (c.lastTs[s]! - c.firstTs[s]!) / 1000;
      smin = n ? Math.min(c.pkts[a] ? c.szMin[a]! : Infinity, c.pkts[b] ? c.szMin[b]! : Infinity) : 0;
      smax = Math.max(c.szMax[a]!, c.szMax[b]!);
      sq = c.szSq[a]! + c.szSq[b]!;
      imin = c.biIatMin[s]!; imax = c.biIatMax[s]!; isum = c.biIatSum[s]!; isq = c.biIatSq[s]!;
    }
    out[o++] = n;
    out[o++] = bytes;
    out[o++] = pay;
    out[o++] = dur;
    out[o++] = smin;
    out[o++] = smax;
    out[o++] = n ? bytes / n : 0;
    out[o++] = std(bytes, sq, n);
    const gaps = n - 1;
    out[o++] = gaps > 0 ? imin / 1000 : 0;
    out[o++] = gaps > 0 ? imax / 1000 : 0;
    out[o++] = gaps > 0 ? isum / gaps / 1000 : 0;
    out[o++] = gaps > 0 ? std(isum, isq, gaps) / 1000 : 0;
    const f = s * 16;
    for (let bit = 0; bit < 8; bit++) out[o++] = d < 2 ? c.flags[f + d * 8 + bit]! : c.flags[f + bit]! + c.flags[f + 8 + bit]!;
    if (d < 2) out[o++] = c.initWin[s * 2 + d]!;
  }
}

export const directionalGroup: FeatureGroup = { defs: directionalDocs(), fill: fillDirectional };

function flowDocs(gap: string): FeatureDef[] {
  const out: FeatureDef[] = [];
  for (const [nm] of STATS) {
    // As accumulate.c compares (gap > the limit): a gap of exactly the limit is active (found by review).
    out.push({ name: `active_${nm}_ms`, unit: 'ms', basis: 'time', description: `${nm} of the active periods (runs of packets with gaps of ${gap} or less)` });
    out.push({ name: `idle_${nm}_ms`, unit: 'ms', basis: 'time', description: `${nm} of the idle periods (gaps of more than ${gap} between packets)` });
  }
  out.push(
    { name: 'packets_per_second', unit: 'packets/s', basis: 'count', description: 'packets in both directions over the flow duration (0 for a single instant)' },
    { name: 'bytes_per_second', unit: 'bytes/s', basis: 'ip', description: 'IP bytes in both directions over the flow duration (0 for a single instant)' },
    { name: 'byte_ratio', unit: 'ratio', basis: 'ratio', description: '(src2dst_bytes - dst2src_bytes) / bidirectional_bytes: +1 upload only, -1 download only' },
    { name: 'packet_ratio', unit: 'ratio', basis: 'ratio', description: '(src2dst_packets - dst2src_packets) / bidirectional_packets' },
  );
  return out;
}

function period(out: Float64Array, o: number, n: number, min: number, max: number, sum: number, sq: number): void {
  // Interleaved with the other period kind: active_min, idle_min, active_max, ...
  out[o] = n ? min / 1000 : 0;
  out[o + 2] = n ? max / 1000 : 0;
  out[o + 4] = n ? sum / n / 1000 : 0;
  out[o + 6] = n ? std(sum, sq, n) / 1000 : 0;
}

function fillFlow(c: Columns, s: number, out: Float64Array, at: number): void {
  period(out, at, c.actN[s]!, c.actMin[s]!, c.actMax[s]!, c.actSum[s]!, c.actSq[s]!);
  period(out, at + 1, c.idleN[s]!, c.idleMin[s]!, c.idleMax[s]!, c.idleSum[s]!, c.idleSq[s]!);
  const a = s * 2;
  const pk0 = c.pkts[a]!;
  const pk1 = c.pkts[a + 1]!;
  const by0 = c.bytes[a]!;
  const by1 = c.bytes[a + 1]!;
  const secs = (c.lastTs[s]! - c.firstTs[s]!) / 1e6;
  out[at + 8] = secs > 0 ? (pk0 + pk1) / secs : 0;
  out[at + 9] = secs > 0 ? (by0 + by1) / secs : 0;
  out[at + 10] = by0 + by1 ? (by0 - by1) / (by0 + by1) : 0;
  out[at + 11] = pk0 + pk1 ? (pk0 - pk1) / (pk0 + pk1) : 0;
}

export function flowGroup(gapDoc: string): FeatureGroup {
  return { defs: flowDocs(gapDoc), fill: fillFlow };
}
