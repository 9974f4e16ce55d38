/**
 * Feature rows from a CSV file (written by `extract`, or any CSV that has the
 * columns the models need) as flow records, streamed. Only the needed columns
 * are parsed as numbers; identity and metadata columns are taken when present.
 *
 * A bad cell (empty, NaN, Infinity, text) in a needed column is never turned
 * into a number silently: the row is reported with its line and column,
 * counted, and skipped; with `badRows: 'fail'` the replay stops there.
 *
 * Identity columns (addresses, ports, protocol, VLAN, times, end reason) are
 * not model inputs: a row whose identity cell cannot be read is still
 * classified and published, with that field unknown (an empty address, port 0,
 * a null time, `forced`), and the cell is reported through onBadIdentity so the
 * record's wrong identity does not go unseen. An empty identity cell is
 * "unknown", as a missing column is, and not reported.
 */
import { isIP } from 'node:net';
import { parse } from 'csv-parse';
import { OpenInterrupted, StartupError } from '../errors.js';
import type { FlowRecord } from '../features/record.js';
import { END_REASONS, type EndReason } from '../flows/end-reason.js';
import { CsvRecordGuard, OVERSIZE_MARK, UNCLOSED_MARK } from './csv-guard.js';
import { cleanHeader, MAX_RECORD_CHARS, recordStartLine, repeatedNames } from '../lib/csv-header.js';
import { openInputStream, pipeInto } from '../lib/input-file.js';
import { cellValue, guardedStart, type BadKind } from '../lib/csv-cells.js';

const CSV_FIX = 'give the path of a feature CSV (from `eta-sensor extract`) or of a pcap/pcapng capture';

export interface CsvRowsOptions {
  badRows: 'skip' | 'fail';
  /** Called for each skipped row (for counting and logging); `rows` when one report stands for several lost lines. */
  onBadRow: (line: number, column: string, value: string, rows?: number) => void;
  /** Called for each identity cell that is not empty and cannot be read (the row is still replayed). */
  onBadIdentity?: (line: number, column: string, value: string) => void;
}

export interface CsvRowsResult {
  rows: number;
  skipped: number;
  /** Set when a row stopped the replay (badRows: fail) or the file is not valid CSV. */
  error?: string;
  /** The signal stopped the reading before the end of the file. */
  stopped?: boolean;
}

type Parsed = { record: string[]; info: { lines: number } };
type Malformed = { headerRead: boolean; pending: Array<Error & { lines?: number }>; onRow?: (e: Error & { lines?: number }) => void };

/**
 * A feature CSV opened once: its header read, its rows next on the same stream. Once, because
 * the input may be a pipe or FIFO (`replay <(zcat flows.csv.gz)`), which a second open would
 * find empty or block on.
 */
export class CsvInput {
  private constructor(
    readonly path: string,
    /** Column names as training takes them (trimmed, duplicates renamed, lib/csv-header.ts). */
    readonly header: string[],
    private readonly parser: NodeJS.ReadableStream & { destroy(e?: Error): void },
    readonly rows: AsyncIterator<Parsed>,
    /** Rows that are not valid CSV, once the header is read (see open): reported to onRow, or kept until it is set. */
    readonly malformed: Malformed,
    /** The header as written, before cleanHeader. */
    private readonly rawHeader: readonly string[],
  ) {}

  /** Of `columns` (cleaned names), the written names the header repeats: told apart by order only (csv-header.ts repeatedNames). */
  repeatedNames(columns: readonly string[]): string[] {
    return repeatedNames(this.rawHeader, columns.map((c) => this.header.indexOf(c)).filter((i) => i >= 0));
  }

  /**
   * Opens `path` and reads its header; throws StartupError naming the file (missing, a capture,
   * not CSV, empty), or OpenInterrupted when `signal` stopped the wait for its header (a named pipe).
   */
  static async open(path: string, signal?: AbortSignal): Promise<CsvInput> {
    // A row that is not valid CSV (a stray quote) is skipped and reported as a bad row once the
    // header is read: as a stream error it lost the rows parsed before it in the same chunk, or
    // the whole file when it came in the first (found by review: 84 good rows of 10,000 lost, or all).
    const malformed: Malformed = { headerRead: false, pending: [] };
    const guarded = pipeInto(await openInputStream(path, 'feature CSV', CSV_FIX), new CsvRecordGuard(MAX_RECORD_CHARS));
    const parser = pipeInto(guarded,
      parse({
        relax_column_count: true, skip_empty_lines: true, info: true, bom: true, max_record_size: MAX_RECORD_CHARS,
        skip_records_with_error: true,
        // Set as the parser reads the header, before the iterator hands it over: a whole first chunk is parsed at once.
        on_record: (record: string[]) => {
          malformed.headerRead = true; // the first record is the header
          return record;
        },
        on_skip: (e) => {
          if (!malformed.headerRead || e === undefined) throw e ?? new Error('malformed row'); // in the header: the file is not CSV
          if (malformed.onRow) malformed.onRow(e);
          else malformed.pending.push(e);
        },
      }));
    const rows = (parser as AsyncIterable<Parsed>)[Symbol.asyncIterator]();
    // A named pipe's writer may be slow to send the header, or send nothing: Ctrl-C stops the wait.
    const onAbort = (): void => void parser.destroy(new OpenInterrupted(path));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    let first: IteratorResult<Parsed>;
    try {
      first = await rows.next();
    } catch (e) {
      if (e instanceof OpenInterrupted) throw e;
      throw new StartupError('E_INPUT', `cannot read ${path} as CSV: ${(e as Error).message}`, 'give a CSV file with a header line');
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (first.done) throw new StartupError('E_INPUT', `${path} is empty`, 'give a CSV file with a header line');
    malformed.headerRead = true;
    return new CsvInput(path, cleanHeader(first.value.record), parser, rows, malformed, first.value.record);
  }

  /** Stop reading (Ctrl-C, or startup failed after the header): the file is closed. */
  close(): void {
    this.parser.destroy();
  }
}

/**
 * A timestamp cell (ISO 8601 as extract writes it, or seconds since the epoch) in µs; NaN when it
 * is neither. Numbers first: Date.parse("12.5") is a date in 2001. A date and time without a zone
 * is UTC (as extract writes them), whatever the machine's TZ; the fraction is kept to the
 * microsecond, with a zone (+00:00) too (found by review: the zone-less form moved with TZ, and
 * +00:00 or nanoseconds lost the microseconds).
 */
export function parseTs(s: string): number {
  const t = s.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return Math.round(Number(t) * 1e6);
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return NaN;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`);
  if (Number.isNaN(ms)) return NaN;
  return ms * 1000 + (m[3] ? Number(m[3].slice(0, 6).padEnd(6, '0')) : 0);
}

/** The largest value of each integer identity column: a port, an IP protocol number, a VLAN id (the outer tag, as extract writes it). */
const IDENTITY_MAX = { src_port: 0xffff, dst_port: 0xffff, proto: 0xff, vlan: 0xfff } as const;

/** The rows of `csv` (opened by CsvInput.open, header read) as flow records, to `onRow`; closes it at the end. */
export async function readCsvRows(
  csv: CsvInput,
  needed: readonly string[],
  onRow: (rec: FlowRecord) => Promise<void> | void,
  opts: CsvRowsOptions,
  signal?: AbortSignal,
): Promise<CsvRowsResult> {
  const { header, path } = csv;
  const idx = (n: string): number => header.indexOf(n);
  const cols = needed.map(idx);
  const missing = needed.filter((_, i) => cols[i]! < 0);
  if (missing.length > 0) {
    csv.close();
    throw new StartupError('E_FEATURES', `${path} lacks columns the models need: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
      'replay a CSV written by `eta-sensor extract`, or one with the columns the models were trained on');
  }
  const id = {
    srcIp: idx('src_ip'), srcPort: idx('src_port'), dstIp: idx('dst_ip'), dstPort: idx('dst_port'), proto: idx('proto'),
    vlan: idx('vlan'), first: idx('first_ts'), last: idx('last_ts'), end: idx('end_reason'),
    sni: idx('sni'), alpn: idx('alpn'), tls: idx('tls_version'), ja4: idx('ja4'),
  };
  const cell = (row: string[], i: number): string | undefined => (i >= 0 ? row[i] : undefined);
  // An identity cell: absent or empty is unknown (0); anything else must read, or it is reported.
  let line = 0;
  const badIdentity = (column: string, value: string): void => opts.onBadIdentity?.(line, column, value);
  const identity = (row: string[], i: number, column: string, read: (text: string) => number): number => {
    const text = cell(row, i);
    if (text === undefined || text.trim() === '') return 0;
    const v = read(text);
    if (Number.isFinite(v)) return v;
    badIdentity(column, text);
    return 0;
  };
  const int = (row: string[], i: number, column: keyof typeof IDENTITY_MAX): number => identity(row, i, column, (text) => {
    const v = Number(text);
    return Number.isInteger(v) && v >= 0 && v <= IDENTITY_MAX[column] ? v : NaN;
  });
  const ts = (row: string[], i: number, column: string): number => identity(row, i, column, parseTs);
  // Collectors read src_ip and dst_ip as addresses: any other text is reported and left out (found
  // by review: "not-an-ip" was published as the flow's source).
  const address = (row: string[], i: number, column: string): string => {
    const text = cell(row, i)?.trim() ?? '';
    if (text === '' || isIP(text) !== 0) return text;
    badIdentity(column, text);
    return '';
  };
  const endReason = (row: string[], i: number): EndReason => {
    const text = cell(row, i);
    if (text !== undefined && (END_REASONS as readonly string[]).includes(text)) return text as EndReason;
    if (text !== undefined && text.trim() !== '') badIdentity('end_reason', text);
    return 'forced';
  };
  const res: CsvRowsResult = { rows: 0, skipped: 0 };
  // With --bad-rows fail, the rows before a malformed one are still replayed (the parser reports it
  // ahead of them): the loop stops when it reaches its line.
  let failAt = Infinity;
  csv.malformed.onRow = (e) => {
    const line = e.lines ?? 0;
    opts.onBadRow(line, '(row)', `not valid CSV: ${e.message}`);
    res.skipped++;
    if (opts.badRows === 'fail' && res.error === undefined) {
      res.error = `line ${line}: not valid CSV: ${e.message}`;
      failAt = line;
    }
  };
  for (const e of csv.malformed.pending.splice(0)) csv.malformed.onRow(e);
  const onAbort = (): void => {
    res.stopped = true;
    csv.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // Stopped before the first row (Ctrl-C while starting): an abort already past fires no event.
  if (signal?.aborted) onAbort();
  const rows: AsyncIterable<Parsed> = { [Symbol.asyncIterator]: () => csv.rows };
  /** A row not replayed, at line `at`: reported, then skipped (counted), or, with --bad-rows fail, the end (true; `why` follows the line in the error). */
  const badRow = (at: number, column: string, value: string, why: string, rows = 1): boolean => {
    opts.onBadRow(at, column, value, rows);
    if (opts.badRows === 'fail') {
      res.error = `line ${at}${why}`;
      return true;
    }
    res.skipped += rows;
    return false;
  };
  try {
    for await (const { record, info } of rows) {
      if (info.lines >= failAt) return res;
      // A marker's cell holds the line feeds of the lines it stands for (csv-guard.ts).
      if (record[0]?.startsWith(OVERSIZE_MARK)) {
        if (badRow(recordStartLine({ record, info }), '(row)', `longer than ${MAX_RECORD_CHARS} bytes`, `: a row longer than ${MAX_RECORD_CHARS} bytes`)) return res;
        continue;
      }
      if (record[0]?.startsWith(UNCLOSED_MARK)) {
        // csv-guard.ts: the rows after it were read again, or, past the size bound, every line to the end is lost (each counted).
        const at = recordStartLine({ record, info });
        const lost = info.lines - at + 1;
        const what = lost === 1 ? 'a quote opened here is never closed' : `a quote opened here is never closed: the ${lost} lines from here to the end were lost`;
        if (badRow(at, '(row)', what, `: ${what} (close or remove the quote)`, lost)) return res;
        continue;
      }
      const features = new Float64Array(needed.length);
      let bad = -1;
      let kind: BadKind = 'empty';
      for (let k = 0; k < cols.length; k++) {
        const text = record[cols[k]!];
        // A cell is good or bad as train and evaluate judge it (csv-cells.ts): a value beyond
        // float32 is a bad cell, not an Infinity the model never saw. The value itself stays a
        // double (the record's volume figures are printed from it; the models get float32).
        const v = text === undefined ? 'empty' : cellValue(text);
        if (typeof v !== 'number') {
          bad = k;
          kind = v;
          break;
        }
        features[k] = v;
      }
      if (bad >= 0) {
        const value = record[cols[bad]!] ?? '(missing)';
        const why = `, column ${needed[bad]}: "${value}" ${kind === 'infinity' ? 'is infinite or beyond the float32 range' : 'is not a number'}`;
        if (badRow(recordStartLine({ record, info }), needed[bad]!, value, why)) return res;
        continue;
      }
      const ja4 = cell(record, id.ja4) ?? '';
      // extract writes network text that starts as a formula after a ' (features/format.ts csvText): undo it.
      const sni = unformula(cell(record, id.sni) ?? '');
      const alpn = unformula(cell(record, id.alpn) ?? '');
      const tls = cell(record, id.tls) ?? '';
      line = info.lines;
      const rec: FlowRecord = {
        srcIp: address(record, id.srcIp, 'src_ip'), srcPort: int(record, id.srcPort, 'src_port'),
        dstIp: address(record, id.dstIp, 'dst_ip'), dstPort: int(record, id.dstPort, 'dst_port'),
        proto: int(record, id.proto, 'proto'), vlan: int(record, id.vlan, 'vlan'),
        firstTs: ts(record, id.first, 'first_ts'), lastTs: ts(record, id.last, 'last_ts'),
        endReason: endReason(record, id.end),
        meta: sni || alpn || tls || ja4 ? { sni: sni || null, alpn: alpn ? alpn.split(';') : [], tlsVersion: tls || null, ja4: ja4 || null } : null,
        features,
      };
      res.rows++;
      const wait = onRow(rec);
      if (wait) await wait;
    }
  } catch (e) {
    if (signal?.aborted) return res;
    res.error ??= `not valid CSV: ${(e as Error).message}`;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    csv.close();
  }
  return res;
}

/** A cell csvText wrote after a ' (a formula guard, or a text that began with ') read back as the text the hello carried. */
function unformula(s: string): string {
  return s.charCodeAt(0) === 0x27 && guardedStart(s.charCodeAt(1)) ? s.slice(1) : s;
}
