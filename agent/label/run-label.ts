/**
 * `eta-sensor label` minus argument parsing: stream a flow CSV (the output of
 * `extract`), give each row its labels, and write the rows that have one (or
 * all rows, unlabelled ones as "unknown") with the columns `app` and
 * `category` appended, plus `pcap` when the capture is known.
 *
 * Only text columns are added: `train` takes every numeric column as a
 * feature by default, and a model must use only registry features to run in
 * the agent.
 */
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { StartupError } from '../errors.js';
import { malformedCsv, MAX_RECORD_CHARS, recordStartLine } from '../lib/csv-header.js';
import { openInputStream, pipeInto } from '../lib/input-file.js';
import { csvField } from '../features/format.js';
import { LineWriter } from '../lib/line-writer.js';
import { makeDirSync } from '../lib/make-dir.js';
import { outputMode, settleOutput } from '../lib/output-file.js';
import { canonicalAddress, protocolNumber } from './address.js';
import { pcapName } from './flow-labels.js';
import { UNKNOWN } from '../train/split.js';
import type { Labeler } from './labeler.js';

export interface LabelRunOptions {
  /** Flow CSV path, or "-" for standard input. */
  readonly input: string;
  readonly stdin?: Readable;
  /** Where labelled rows go; null for a dry run (nothing written). */
  readonly output: string | Writable | null;
  /** Capture the flows come from, when the CSV has no pcap column. */
  readonly pcap?: string;
  readonly labeler: Labeler;
  /** Unlabelled flows are dropped, or kept with app "unknown" (and no category). */
  readonly unlabeled: 'drop' | 'unknown';
  /** Called as rows are read (a terminal's progress line). */
  readonly onProgress?: (rowsRead: number) => void;
  readonly signal?: AbortSignal;
}

export interface LabelRunResult {
  readonly rowsRead: number;
  readonly rowsWritten: number;
  /** Rows skipped because their identity columns could not be read. */
  readonly badRows: number;
  readonly examples: readonly string[];
  /** Stopped by the signal before the end of the input: an output file was left as it was. */
  readonly stopped: boolean;
}

const KEY_COLUMNS = ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto'] as const;

export async function runLabel(o: LabelRunOptions): Promise<LabelRunResult> {
  const source = o.input === '-' ? (o.stdin ?? process.stdin) : await openInputStream(o.input, 'flow CSV', 'give the path of a flow CSV (from `eta-sensor extract`)');
  const parser = pipeInto(source, parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: MAX_RECORD_CHARS }));
  // A file is written beside its final name and renamed when complete: no half-labelled file is left behind.
  const file = typeof o.output === 'string' ? { path: o.output, mode: outputMode(o.output) } : null;
  // Its folder is made as train's and evaluate's are (label said "cannot write <its temporary file>": found by review).
  if (file?.mode.kind === 'atomic') makeDirSync(dirname(file.mode.target));
  const writer = o.output === null ? null
    : file !== null ? await LineWriter.toFile(file.path, file.mode.kind === 'atomic' ? file.mode : undefined) : LineWriter.toStream(o.output as Writable);
  let done = false;
  let header: string[] | undefined;
  let col: Record<string, number> = {};
  let keep: number[] = [];
  let rowsRead = 0;
  let badRows = 0;
  const examples: string[] = [];
  const pcapOpt = o.pcap === undefined ? undefined : pcapName(o.pcap);
  const bad = (line: number, msg: string): void => {
    badRows++;
    if (examples.length < 5) examples.push(`line ${line}: ${msg}`);
  };
  let lastLine = 0;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const cells = rec.record;
      lastLine = rec.info.lines;
      if (!header) {
        header = cells.map((c) => c.trim());
        col = inputColumns(header, o.input);
        // Existing label columns are replaced; a pcap column moves before them, with --pcap's value
        // when given (it was kept as well, and training grouped by that stale copy: found by review).
        keep = header.flatMap((h, i) => (h === 'app' || h === 'category' || h === 'pcap' ? [] : [i]));
        const out = [...keep.map((i) => header![i]!), ...(col['pcap']! >= 0 || pcapOpt !== undefined ? ['pcap'] : []), 'app', 'category'];
        writer?.write(out.map(csvField).join(',') + '\n');
        continue;
      }
      rowsRead++;
      if ((rowsRead & 1023) === 0) o.onProgress?.(rowsRead);
      if (cells.length !== header.length) {
        bad(recordStartLine(rec), `${cells.length} fields, the header has ${header.length}`);
        continue;
      }
      const get = (k: string): string => (col[k]! >= 0 ? (cells[col[k]!] as string).trim() : '');
      const srcIp = canonicalAddress(get('src_ip'));
      const dstIp = canonicalAddress(get('dst_ip'));
      const proto = protocolNumber(get('proto'));
      const srcPort = Number(get('src_port'));
      const dstPort = Number(get('dst_port'));
      if (srcIp === null || dstIp === null || proto === null || !Number.isInteger(srcPort) || !Number.isInteger(dstPort)) {
        bad(recordStartLine(rec), `cannot read the flow's addresses, ports or protocol`);
        continue;
      }
      const pcap = pcapOpt ?? (col['pcap']! >= 0 ? pcapName(get('pcap')) || undefined : undefined);
      const r = o.labeler.label({
        pcap, proto, srcIp, srcPort, dstIp, dstPort, sni: get('sni'),
        pktsFwd: packets(get('src2dst_packets')), pktsRev: packets(get('dst2src_packets')),
      });
      if (!r.labeled && o.unlabeled === 'drop') continue;
      if (writer) {
        const out = keep.map((i) => csvField(cells[i] as string));
        if (col['pcap']! >= 0 || pcapOpt !== undefined) out.push(csvField(pcap ?? ''));
        out.push(csvField(r.labeled ? r.app : UNKNOWN), r.labeled ? r.category ?? '' : '');
        writer.write(out.join(',') + '\n');
        if ((rowsRead & 1023) === 0) await writer.drain();
      }
      if (o.signal?.aborted) break;
    }
    // Stopped (Ctrl-C) before the end: the partial output is not renamed over the file (found by review).
    done = !o.signal?.aborted;
  } catch (e) {
    if (e instanceof StartupError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
      throw new StartupError('E_INPUT', `cannot read ${o.input}: ${err.message}`, 'give the CSV written by `eta-sensor extract`');
    }
    throw malformedCsv(o.input, err, lastLine);
  } finally {
    parser.destroy();
    await writer?.close();
    if (file !== null) await settleOutput(file.mode, done && header !== undefined);
  }
  if (!header) throw new StartupError('E_DATA', `${o.input} is empty: expected the header line of \`eta-sensor extract\` output`);
  return { rowsRead, rowsWritten: Math.max(0, (writer?.lines ?? 1) - 1), badRows, examples, stopped: !done };
}

function inputColumns(header: readonly string[], path: string): Record<string, number> {
  const col: Record<string, number> = {};
  for (const k of [...KEY_COLUMNS, 'sni', 'src2dst_packets', 'dst2src_packets', 'pcap']) col[k] = header.indexOf(k);
  const missing = KEY_COLUMNS.filter((k) => col[k]! < 0);
  if (missing.length > 0) {
    throw new StartupError('E_DATA', `${path} lacks the flow column(s) ${missing.join(', ')}`,
      'label the CSV written by `eta-sensor extract` (it has src_ip, src_port, dst_ip, dst_port, proto and sni)');
  }
  return col;
}

function packets(s: string): number {
  return s === '' ? NaN : Number(s);
}
