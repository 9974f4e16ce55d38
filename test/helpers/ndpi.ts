/**
 * nDPI's per-flow results for the shared captures (../shared/data/ndpi), and
 * the comparison of our flows against them. Used by the match-rate test and
 * by the benchmark; absent data means the caller skips.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FlowRecord } from '../../agent/features/record.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';

export const NDPI_DIR = new URL('../../../../shared/data/ndpi/', import.meta.url).pathname;
export const NDPI_PCAPS = join(NDPI_DIR, 'pcap');
export const haveNdpi = existsSync(join(NDPI_DIR, 'labels.csv'));

export interface NdpiFlow {
  pcap: string;
  l4: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  app: string;
  sni: string;
  c2sPkts: number;
  s2cPkts: number;
  c2sBytes: number;
  s2cBytes: number;
}

const L4: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMPV6: 58, IGMP: 2, SCTP: 132, ESP: 50, AH: 51, OSPF: 89, PIM: 103, VRRP: 112, PGM: 113 };

export function protoNumber(l4: string): number {
  return L4[l4] ?? (/^\d+$/.test(l4) ? Number(l4) : -1);
}

export function loadNdpiLabels(): NdpiFlow[] {
  const lines = readFileSync(join(NDPI_DIR, 'labels.csv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split(',');
  const col = (n: string): number => head.indexOf(n);
  const out: NdpiFlow[] = [];
  for (const l of lines.slice(1)) {
    const f = l.split(','); // the file has no quoted fields with commas in the columns we read
    out.push({
      pcap: f[col('pcap')]!, l4: f[col('l4')]!,
      srcIp: f[col('src_ip')]!, srcPort: Number(f[col('src_port')]), dstIp: f[col('dst_ip')]!, dstPort: Number(f[col('dst_port')]),
      app: f[col('app')]!, sni: f[col('sni')]!,
      c2sPkts: Number(f[col('c2s_pkts')]), s2cPkts: Number(f[col('s2c_pkts')]),
      c2sBytes: Number(f[col('c2s_bytes')]), s2cBytes: Number(f[col('s2c_bytes')]),
    });
  }
  return out;
}

export interface MatchResult {
  total: number;
  matched: number;
  missing: NdpiFlow[];
  differing: Array<{ ndpi: NdpiFlow; ours: Array<[number, number]> }>;
}

const PK0 = FEATURE_NAMES.indexOf('src2dst_packets');
const PK1 = FEATURE_NAMES.indexOf('dst2src_packets');

/**
 * One text per address: nDPI prints IPv6 with "::" even for a single zero group
 * and sometimes twice ("2600:1901::7a0b::"); we print RFC 5952. Expand both.
 */
export function canonicalIp(a: string): string {
  if (!a.includes(':')) return a;
  let text = a;
  const parts = text.split('::');
  if (parts.length > 2) text = parts.slice(0, -1).join(':0:') + '::' + parts[parts.length - 1];
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return groups.map((g) => parseInt(g || '0', 16).toString(16)).join(':');
}

function key(proto: number, a: string, ap: number, b: string, bp: number): string {
  return `${proto}|${canonicalIp(a)}|${ap}|${canonicalIp(b)}|${bp}`;
}

/** Compare one capture's flows: a flow matches when packets per direction are equal. */
export function matchCapture(ndpi: NdpiFlow[], ours: FlowRecord[], into: MatchResult): void {
  const byKey = new Map<string, FlowRecord[]>();
  for (const r of ours) {
    const k = key(r.proto, r.srcIp, r.srcPort, r.dstIp, r.dstPort);
    const list = byKey.get(k) ?? [];
    list.push(r);
    byKey.set(k, list);
  }
  for (const n of ndpi) {
    into.total++;
    const proto = protoNumber(n.l4);
    const fwd = byKey.get(key(proto, n.srcIp, n.srcPort, n.dstIp, n.dstPort)) ?? [];
    const rev = byKey.get(key(proto, n.dstIp, n.dstPort, n.srcIp, n.srcPort)) ?? [];
    const cands: Array<[number, number]> = [
      ...fwd.map((r): [number, number] => [r.features[PK0]!, r.features[PK1]!]),
      ...rev.map((r): [number, number] => [r.features[PK1]!, r.features[PK0]!]),
    ];
    if (cands.length === 0) into.missing.push(n);
    else if (cands.some(([a, b]) => a === n.c2sPkts && b === n.s2cPkts)) into.matched++;
    else into.differing.push({ ndpi: n, ours: cands });
  }
}

/** A flow line of nDPI's result files with the fields the metadata comparison needs. */
export interface NdpiResultFlow {
  pcap: string;
  proto: number;
  a: string;
  ap: number;
  b: string;
  bp: number;
  master: string;
  sni: string | null;
  ja4: string | null;
}

/** Flow lines of result/<capture>.out: "TCP 1.2.3.4:5 <-> [::1]:6 [proto: 91.119/TLS.Facebook]...[Hostname/SNI: x]...[JA4: y]". */
export function loadNdpiResults(): NdpiResultFlow[] {
  const dir = join(NDPI_DIR, 'result');
  const out: NdpiResultFlow[] = [];
  for (const f of readdirSync(dir)) {
    const pcap = f.replace(/\.out$/, '');
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const m = /^\s+\d+\s+(\S+) (\[[^\]]+\]|[^\s\[]+):(\d+) <-> (\[[^\]]+\]|[^\s\[]+):(\d+) \[proto: [\d.]+\/([^\]]+)\]/.exec(line);
      if (!m) continue;
      const sni = /\[Hostname\/SNI: ([^\]]*)\]/.exec(line)?.[1] ?? null;
      const ja4 = /\[JA4: ([^\]]*)\]/.exec(line)?.[1] ?? null;
      out.push({
        pcap, proto: protoNumber(m[1]!), a: m[2]!.replace(/^\[|\]$/g, ''), ap: Number(m[3]), b: m[4]!.replace(/^\[|\]$/g, ''), bp: Number(m[5]),
        master: m[6]!.split('.')[0]!, sni, ja4,
      });
    }
  }
  return out;
}

/** Our flow for an nDPI flow: same protocol and endpoints, either orientation. */
export function findFlow(ours: readonly FlowRecord[], proto: number, a: string, ap: number, b: string, bp: number): FlowRecord | undefined {
  const ka = canonicalIp(a);
  const kb = canonicalIp(b);
  return ours.find((r) => r.proto === proto && (
    (canonicalIp(r.srcIp) === ka && r.srcPort === ap && canonicalIp(r.dstIp) === kb && r.dstPort === bp) ||
    (canonicalIp(r.srcIp) === kb && r.srcPort === bp && canonicalIp(r.dstIp) === ka && r.dstPort === ap)));
}
