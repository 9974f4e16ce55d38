/**
 * Flow records as rows: one CSV line or one flat JSON object per flow, with
 * the columns of the registry in order (identity, metadata, features).
 */
import { ALL_COLUMNS, FEATURE_NAMES } from './registry.js';
import { loadAddon } from '../lib/addon.js';
import { guardedStart } from '../lib/csv-cells.js';
import { AsciiBuffer } from '../lib/ascii-buffer.js';
import { HeldMeta } from '../meta/held-meta.js';
import { VERSION_NAMES } from '../meta/hello.js';
import { isoMicros, type FlowMeta, type FlowRecord } from './record.js';

export type RowFormat = 'csv' | 'jsonl';

/** native/row_format.c: a row's feature numbers exactly as AsciiBuffer.num() writes them, in one call. */
export interface RowFormatNative {
  /**
   * Writes ",v0,v1,..." at out[pos]; returns the position after it, or -1 (nothing usable written)
   * when a value is one num() writes with String(v) or out has less than values.length * NUMBER_ROOM
   * bytes from pos. Throws only for arguments of the wrong type or a pos outside out.
   */
  csvNumbers(values: Float64Array, out: Uint8Array, pos: number): number;
  /**
   * Writes a HeldMeta string's CSV cells (sni,alpn,tls_version,ja4) at out[pos] as csvCells does;
   * returns the position after them, or -1 (nothing usable written) when csvCells must (a cell to
   * quote, a character past ASCII) or out has less than packed.length + META_ROOM bytes from pos.
   */
  csvMeta(packed: string, out: Uint8Array, pos: number): number;
  /** Names a TLS version code for csvMeta (hello.ts's names, set when the addon loads). */
  versionName(code: number, name: string): void;
}

/** Bytes csvMeta needs beyond the string's length (META_CELLS_ROOM in meta_cells.h). */
export const META_ROOM = 24;

/** Bytes csvNumbers needs per value (ROW_FORMAT_MAX_FIELD in row_format.h). */
export const NUMBER_ROOM = 20;

let native: RowFormatNative | undefined;

/** The addon; a missing build is E_INSTALL (the row writer loads it when it starts, see row-worker.ts). */
export function rowFormat(): RowFormatNative {
  if (native === undefined) {
    const n = loadAddon<RowFormatNative>('row_format', "CSV row formatter's native module");
    for (const [code, name] of VERSION_NAMES) n.versionName(code, name);
    native = n;
  }
  return native;
}

/** Six decimals: below the microsecond for ms values, and no binary noise like 0.30000000000000004. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return '';
  return String(Math.round(v * 1e6) / 1e6);
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * A cell of text that came from the network (SNI, ALPN), as csvField writes it, after a ' when it
 * starts as a spreadsheet formula (= + - @, and tab or CR): the sender chooses those bytes, and
 * an analyst opening the file in Excel or LibreOffice would run them (found by review:
 * `=cmd|calc!A1.example` written as it came). No host name starts so. meta_cells.c leaves such
 * cells to this.
 */
export function csvText(s: string): string {
  return csvField(guardedStart(s.charCodeAt(0)) ? `'${s}` : s);
}

export function csvHeader(): string {
  return ALL_COLUMNS.join(',') + '\n';
}

/** The offered ALPN values joined by ';' (a held hello joins them without an array between). */
function alpnCell(m: FlowMeta): string {
  return m instanceof HeldMeta ? m.alpnCell() : m.alpn.join(';');
}

function identityValues(r: FlowRecord): Array<string | number> {
  const m = r.meta;
  return [
    r.srcIp, r.srcPort, r.dstIp, r.dstPort, r.proto, r.vlan,
    isoMicros(r.firstTs), isoMicros(r.lastTs), r.endReason,
    m?.sni ?? '', m ? alpnCell(m) : '', m?.tlsVersion ?? '', m?.ja4 ?? '',
  ];
}

/** Append one CSV row to `out` (the hot output path of `extract`: no intermediate strings for numbers). */
export function csvRow(out: AsciiBuffer, r: FlowRecord): void {
  const m = r.meta;
  out.str(r.srcIp);
  out.byte(44);
  out.int(r.srcPort);
  out.byte(44);
  out.str(r.dstIp);
  out.byte(44);
  out.int(r.dstPort);
  out.byte(44);
  out.int(r.proto);
  out.byte(44);
  out.int(r.vlan);
  out.byte(44);
  out.isoMicros(r.firstTs);
  out.byte(44);
  out.isoMicros(r.lastTs);
  out.byte(44);
  out.str(r.endReason);
  out.byte(44);
  if (m instanceof HeldMeta) {
    // In C (meta_cells.c): the JavaScript below cost the writer ~1,200 instructions a flow.
    const p = m.packed;
    out.ensure(p.length + META_ROOM);
    const end = (native ?? rowFormat()).csvMeta(p, out.buf, out.pos);
    if (end >= 0) out.pos = end;
    else m.csvCells(out, csvText);
  } else if (m) {
    out.str(csvText(m.sni ?? ''));
    out.byte(44);
    out.str(csvText(alpnCell(m)));
    out.byte(44);
    out.str(csvField(m.tlsVersion ?? ''));
    out.byte(44);
    out.str(csvField(m.ja4 ?? ''));
  } else {
    out.str(',,,');
  }
  const f = r.features;
  // The features are most of the row and of its cost: formatted in C. A value num() writes with
  // String(v) (beyond 2^53, never seen in practice) sends the row through num() as before.
  out.ensure(f.length * NUMBER_ROOM);
  const end = (native ?? rowFormat()).csvNumbers(f, out.buf, out.pos);
  if (end >= 0) out.pos = end;
  else {
    for (let i = 0; i < f.length; i++) {
      out.byte(44);
      out.num(f[i]!);
    }
  }
  out.byte(10);
}


/** A flat object: the same keys as the CSV header. */
export function jsonRow(r: FlowRecord): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const ids = identityValues(r);
  for (let i = 0; i < ids.length; i++) out[ALL_COLUMNS[i]!] = ids[i]!;
  const f = r.features;
  for (let i = 0; i < f.length; i++) out[FEATURE_NAMES[i]!] = Number(formatNumber(f[i]!) || 0);
  return out;
}

export function jsonLine(r: FlowRecord): string {
  return JSON.stringify(jsonRow(r)) + '\n';
}
