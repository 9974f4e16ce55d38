/** Flow CSVs in the layout of `extract` and labels files in nDPI's layout, written to a temp dir. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_COLUMNS } from '../../agent/features/registry.js';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'eta-label-'));
}

export interface Flow {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto?: number;
  sni?: string;
  /** Packets src to dst, dst to src. */
  pkts?: [number, number];
}

/** A flow CSV with every column of `extract`; features are zeros except the packet counts. */
export function flowCsv(dir: string, name: string, flows: readonly Flow[], extra: Record<string, readonly string[]> = {}): string {
  const extraCols = Object.keys(extra);
  const lines = [[...ALL_COLUMNS, ...extraCols].join(',')];
  flows.forEach((f, i) => {
    const v: Record<string, string> = {
      src_ip: f.src, src_port: String(f.sport), dst_ip: f.dst, dst_port: String(f.dport), proto: String(f.proto ?? 6),
      vlan: '0', first_ts: '2024-01-01T00:00:00.000000Z', last_ts: '2024-01-01T00:00:01.000000Z', end_reason: 'idle',
      sni: f.sni ?? '', alpn: '', tls_version: '', ja4: '',
      src2dst_packets: String(f.pkts?.[0] ?? 1), dst2src_packets: String(f.pkts?.[1] ?? 1),
    };
    lines.push([...ALL_COLUMNS.map((c) => v[c] ?? '0'), ...extraCols.map((c) => extra[c]![i]!)].join(','));
  });
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

export const NDPI_HEADER = 'pcap,flow,l4,src_ip,src_port,dst_ip,dst_port,bidirectional,app,master,ndpi_proto,category,encrypted,sni,c2s_pkts,c2s_bytes,s2c_pkts,s2c_bytes,duration_s';

export interface LabelLine {
  pcap?: string;
  l4?: string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  app: string;
  category?: string;
  encrypted?: 0 | 1;
  pkts?: [number, number];
}

export function labelsCsv(dir: string, lines: readonly LabelLine[], header = NDPI_HEADER): string {
  const out = [header];
  lines.forEach((l, i) => {
    out.push([
      l.pcap ?? 'a.pcap', i + 1, l.l4 ?? 'TCP', l.src, l.sport, l.dst, l.dport, 1, l.app, 'TLS', `TLS.${l.app}`,
      l.category ?? 'Web', l.encrypted ?? 1, '', l.pkts?.[0] ?? 1, 100, l.pkts?.[1] ?? 1, 100, 1.0,
    ].join(','));
  });
  const path = join(dir, 'labels.csv');
  writeFileSync(path, out.join('\n') + '\n');
  return path;
}
