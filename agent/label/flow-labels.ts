/**
 * A labels file of flows keyed by 5-tuple (nDPI's labels.csv layout, or any
 * CSV with the same column names), indexed so a flow from `extract` finds
 * its line in either orientation.
 *
 * Columns: src_ip, src_port, dst_ip, dst_port, and l4 or proto (name or
 * number) are required; app and/or category carry the labels. Optional:
 * pcap (the capture the flow is in: joins are then made per capture),
 * c2s_pkts and s2c_pkts (packets per direction: tell apart several lines of
 * one 5-tuple), encrypted (0/1).
 */
import { basename } from 'node:path';
import { parse } from 'csv-parse';
import { StartupError } from '../errors.js';
import { malformedCsv, MAX_RECORD_CHARS, recordStartLine } from '../lib/csv-header.js';
import { openInputStream, pipeInto } from '../lib/input-file.js';
import { addressKeys, protocolNumber } from './address.js';

export interface FlowLabel {
  /** Line in the labels file. */
  readonly line: number;
  /** Capture name (basename) or "" when the file has no pcap column. */
  readonly pcap: string;
  readonly app: string;
  readonly category: string;
  /** Packets client to server and back, as the labels file counts them (NaN if absent). */
  readonly c2sPkts: number;
  readonly s2cPkts: number;
  readonly encrypted: boolean | null;
}

export interface FlowLabelIndex {
  readonly source: string;
  /** Label lines read. */
  readonly rows: number;
  readonly hasPcap: boolean;
  /** Capture names present (basenames). */
  readonly pcaps: ReadonlySet<string>;
  /** Lines of the 5-tuple in this orientation: `reversed` says the flow's src is the label's dst. */
  lookup(pcap: string | undefined, proto: number, srcIp: string, srcPort: number, dstIp: string, dstPort: number): Array<{ label: FlowLabel; reversed: boolean }>;
}

const ALIASES: Readonly<Record<string, readonly string[]>> = {
  src_ip: ['src_ip', 'saddr', 'source_ip'],
  src_port: ['src_port', 'sport', 'source_port'],
  dst_ip: ['dst_ip', 'daddr', 'destination_ip'],
  dst_port: ['dst_port', 'dport', 'destination_port'],
  proto: ['l4', 'proto', 'protocol'],
};

/** The capture name a path or pcap cell stands for: its basename. */
export function pcapName(s: string): string {
  return basename(s.trim());
}

const ANY = '*';

function tupleKey(pcap: string, proto: number, a: string, ap: number, b: string, bp: number): string {
  return `${pcap}|${proto}|${a}|${ap}|${b}|${bp}`;
}

/** Read and index a labels file; throws StartupError naming the file, line and column of a bad line. */
export async function loadFlowLabels(path: string): Promise<FlowLabelIndex> {
  const parser = pipeInto(await openInputStream(path, 'labels file', 'give the path of a labels CSV (see "Labeled data" in the README)'), parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: MAX_RECORD_CHARS }));
  const map = new Map<string, FlowLabel[]>();
  const pcaps = new Set<string>();
  let header: string[] | undefined;
  let col: Record<string, number> = {};
  let rows = 0;
  let lastLine = 0;
  const bad = (line: number, msg: string): StartupError =>
    new StartupError('E_DATA', `${path}:${line}: ${msg}`, 'fix or remove that line of the labels file');
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      const line = recordStartLine(rec);
      lastLine = rec.info.lines;
      if (!header) {
        header = cells.map((c) => c.trim().toLowerCase());
        col = columns(header, path);
        continue;
      }
      rows++;
      const cell = (k: string): string => (col[k] !== undefined && col[k]! >= 0 ? (cells[col[k]!] ?? '').trim() : '');
      const proto = protocolNumber(cell('proto'));
      if (proto === null) throw bad(line, `unknown protocol "${cell('proto')}" (a name such as TCP, UDP, ICMP or a number)`);
      const a = addressKeys(cell('src_ip'));
      const b = addressKeys(cell('dst_ip'));
      if (a.length === 0) throw bad(line, `src_ip "${cell('src_ip')}" is not an address`);
      if (b.length === 0) throw bad(line, `dst_ip "${cell('dst_ip')}" is not an address`);
      const ap = port(cell('src_port'));
      const bp = port(cell('dst_port'));
      if (ap < 0) throw bad(line, `src_port "${cell('src_port')}" is not a port`);
      if (bp < 0) throw bad(line, `dst_port "${cell('dst_port')}" is not a port`);
      const pcap = col['pcap']! >= 0 ? pcapName(cell('pcap')) : '';
      const enc = cell('encrypted');
      const label: FlowLabel = {
        line, pcap, app: cell('app'), category: cell('category'),
        c2sPkts: count(cell('c2s_pkts')), s2cPkts: count(cell('s2c_pkts')),
        encrypted: enc === '' ? null : enc === '1' || enc.toLowerCase() === 'true',
      };
      if (label.app === '' && label.category === '') continue;
      pcaps.add(pcap);
      // Filed under its capture and, for flows of no known capture, under "*" too; a line
      // without a capture under "" (it applies to flows of any capture).
      for (const p of pcap === '' ? [''] : [pcap, ANY]) {
        for (const x of a) {
          for (const y of b) {
            const k = tupleKey(p, proto, x, ap, y, bp);
            const list = map.get(k);
            if (list) list.push(label);
            else map.set(k, [label]);
          }
        }
      }
    }
  } catch (e) {
    if (e instanceof StartupError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
      throw new StartupError('E_INPUT', `cannot read the labels file ${path}: ${err.message}`, 'check the --labels path');
    }
    throw malformedCsv(path, err, lastLine);
  } finally {
    parser.destroy();
  }
  if (!header) throw new StartupError('E_DATA', `${path} is empty: expected a header line`);
  const hasPcap = col['pcap']! >= 0;
  return {
    source: path, rows, hasPcap, pcaps,
    lookup(pcap, proto, srcIp, srcPort, dstIp, dstPort) {
      const out: Array<{ label: FlowLabel; reversed: boolean }> = [];
      for (const p of hasPcap ? [pcap ?? ANY, ''] : ['']) {
        for (const label of map.get(tupleKey(p, proto, srcIp, srcPort, dstIp, dstPort)) ?? []) out.push({ label, reversed: false });
        if (srcIp === dstIp && srcPort === dstPort) continue;
        for (const label of map.get(tupleKey(p, proto, dstIp, dstPort, srcIp, srcPort)) ?? []) out.push({ label, reversed: true });
      }
      return out;
    },
  };
}

function columns(header: readonly string[], path: string): Record<string, number> {
  const col: Record<string, number> = {};
  const missing: string[] = [];
  for (const [k, names] of Object.entries(ALIASES)) {
    col[k] = header.findIndex((h) => names.includes(h));
    if (col[k] < 0) missing.push(names.join(' or '));
  }
  for (const k of ['pcap', 'app', 'category', 'c2s_pkts', 's2c_pkts', 'encrypted']) col[k] = header.indexOf(k);
  if (col['app']! < 0 && col['category']! < 0) missing.push('app and/or category');
  if (missing.length > 0) {
    throw new StartupError('E_DATA', `${path} lacks the column(s) ${missing.join(', ')}`,
      `a labels file has src_ip, src_port, dst_ip, dst_port, l4 (or proto) and app and/or category; its header is: ${header.join(',')}`);
  }
  return col;
}

function port(s: string): number {
  if (s === '') return 0;
  return /^\d{1,5}$/.test(s) && Number(s) <= 65535 ? Number(s) : -1;
}

function count(s: string): number {
  return /^\d+$/.test(s) ? Number(s) : NaN;
}
