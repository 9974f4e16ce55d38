/**
 * Load a labeled flow CSV into a column-major float32 matrix.
 *
 * The file is streamed (csv-parse), never read whole: training files can be
 * hundreds of MB. The first `sampleRows` records are buffered to decide which
 * columns are numeric; after that each record is parsed and either appended
 * or rejected as a whole (a skipped row never leaves half its values behind).
 *
 * Bad-cell policy (the documented behaviour of `--bad-rows` / `--infinity`):
 * an empty cell, NaN, ±Infinity or text in a *feature* column makes the row
 * bad; bad rows are skipped and counted per column (default) or abort the load
 * with the line number and column name. Infinity is bad by default, like NaN;
 * `infinity: 'clamp'` turns ±Infinity (and values beyond float32) into
 * ±FLOAT32_MAX instead, which sends them to the same side of every split as
 * the largest finite values. Cells of non-feature columns are never checked.
 * A row whose label cell is empty is unlabeled: always skipped, counted apart.
 */
import { parse } from 'csv-parse';
import { StartupError } from '../errors.js';
import { cleanHeader, malformedCsv, MAX_RECORD_CHARS, recordStartLine, repeatedNames } from '../lib/csv-header.js';
import { openInputStream, pipeInto } from '../lib/input-file.js';
import { selectColumns } from './columns.js';
import { parseCell, clampedInfinity, findColumn, type BadKind } from '../lib/csv-cells.js';
import { Columns, Interner } from './column-store.js';

export interface LoadOptions {
  /** Label column name; omit to load features only (e.g. unlabeled evaluation input). */
  readonly label?: string;
  /** Group column (e.g. `pcap`): held-out data is split by whole groups. */
  readonly group?: string;
  /** Use `group` only if the file has it (no error when absent). */
  readonly groupIfPresent?: boolean;
  /** Explicit feature columns, in this order. Default: every numeric, non-identity column. */
  readonly features?: readonly string[];
  /** Keep identity-like numeric columns (ports, timestamps, ids) as features. Default false. */
  readonly keepIdentity?: boolean;
  /** What a bad cell in a feature column does: skip the row (default) or abort. */
  readonly badRows?: 'skip' | 'fail';
  /** ±Infinity: a bad cell (default) or clamped to ±FLOAT32_MAX. */
  readonly infinity?: 'bad' | 'clamp';
  /** Rows buffered to decide which columns are numeric. Default 1000. */
  readonly sampleRows?: number;
  /** Called every 65,536 rows read. */
  readonly onProgress?: (rowsRead: number) => void;
  readonly signal?: AbortSignal;
  /**
   * Rows handed to `take` in parts of `rows` rows (the last one smaller) and not kept: the
   * returned Dataset's `x`, `y` and `group` then hold no row. Memory is bounded by a part, not
   * by the file, for a reader that needs each row once (evaluate).
   */
  readonly parts?: { readonly rows: number; readonly take: (part: DatasetPart) => Promise<void> };
}

/** Rows of the file as `parts` hands them over: column-major x[f * nRows + r], labels as ids into `labelNames` so far. */
export interface DatasetPart {
  readonly x: Float32Array;
  readonly nRows: number;
  readonly y: Int32Array | undefined;
  readonly labelNames: readonly string[];
}

export interface LoadReport {
  readonly rowsRead: number;
  readonly rowsUsed: number;
  /** Rows skipped for a bad feature cell or a wrong field count. */
  readonly rowsSkipped: number;
  /** Skipped rows by the column (or "(field count)") that made them bad. */
  readonly skippedBy: Record<string, number>;
  /** Rows skipped because their label cell was empty. */
  readonly unlabeled: number;
  /** Infinite cells replaced by ±FLOAT32_MAX (infinity: clamp). */
  readonly clamped: number;
  /** The first few problems, each naming line and column. */
  readonly examples: readonly string[];
  /** Columns that are not features, with the reason. */
  readonly excluded: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
  /** Names the header has more than once, of feature columns: told apart by their order only (csv-header.ts repeatedNames). */
  readonly repeatedNames: readonly string[];
}

export interface Dataset {
  readonly source: string;
  /** Feature names as in the CSV header (trimmed), in matrix order. */
  readonly featureNames: readonly string[];
  /** Rows used; with LoadOptions.parts they went to its `take`, and x, y and group are empty. */
  readonly nRows: number;
  /** x[f * nRows + r]; backed by a SharedArrayBuffer so worker threads read it without copying. */
  readonly x: Float32Array;
  /** Label of each row as an index into labelNames (undefined without a label column). */
  readonly y: Int32Array | undefined;
  readonly labelNames: readonly string[];
  readonly group: Int32Array | undefined;
  readonly groupNames: readonly string[];
  /** Name of the group column used, if any. */
  readonly groupColumn: string | undefined;
  /** Name of the label column as in the header. */
  readonly labelColumn: string | undefined;
  readonly report: LoadReport;
}

const MAX_EXAMPLES = 5;

function dataError(message: string, hint?: string): StartupError {
  return new StartupError('E_DATA', message, hint);
}

interface Rec {
  record: string[];
  info: { lines: number; records: number };
}

/** Read a flow CSV; throws StartupError (E_INPUT / E_DATA) naming the file, line and column of a problem. */
export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<Dataset> {
  const input = await openInputStream(path, 'flow CSV', 'give the path of a labeled flow CSV (from `eta-sensor label`)');
  const parser = pipeInto(input, parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: MAX_RECORD_CHARS }));
  const it = parser[Symbol.asyncIterator]() as AsyncIterator<Rec>;
  let lastLine = 0; // the last line of the last record read
  const next = async (): Promise<Rec | undefined> => {
    try {
      const r = await it.next();
      if (!r.done) lastLine = r.value.info.lines;
      return r.done ? undefined : r.value;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') {
        throw new StartupError('E_INPUT', `cannot read ${path}: ${err.message}`, 'check the --data path');
      }
      throw malformedCsv(path, err, lastLine);
    }
  };
  try {
    return await load(path, opts, next);
  } finally {
    parser.destroy();
  }
}

async function load(path: string, opts: LoadOptions, next: () => Promise<Rec | undefined>): Promise<Dataset> {
  const first = await next();
  if (!first) throw dataError(`${path} is empty: expected a header line`, 'give a labeled flow CSV, header first (from `eta-sensor label`)');
  const header = cleanHeader(first.record);
  // A semicolon or tab separated export (spreadsheets in many locales, TSV) reads as one column:
  // the error named the missing label column and listed that one column, not the fix (found by review).
  const sep = header.length === 1 ? /[;\t|]/.exec(header[0] as string)?.[0] : undefined;
  if (sep !== undefined) {
    const name = sep === '\t' ? 'tabs' : `"${sep}"`;
    throw dataError(`${path} is not comma-separated: its header is one column, split by ${name}`, `write it with commas between cells (eta-sensor reads comma-separated CSV only)`);
  }
  const labelCol = opts.label === undefined ? -1 : findColumn(header, opts.label);
  if (opts.label !== undefined && labelCol < 0) {
    throw dataError(`${path} has no label column "${opts.label}"`, `columns are: ${header.slice(0, 40).join(', ')}${header.length > 40 ? `, ... (${header.length} in all)` : ''}`);
  }
  const groupCol = opts.group === undefined ? -1 : findColumn(header, opts.group);
  if (opts.group !== undefined && groupCol < 0 && !opts.groupIfPresent) {
    throw dataError(`${path} has no group column "${opts.group}"`, 'omit --group-by or name an existing column');
  }
  const sample: Rec[] = [];
  const sampleRows = opts.sampleRows ?? 1000;
  for (let r = sample.length < sampleRows ? await next() : undefined; r; ) {
    sample.push(r);
    r = sample.length < sampleRows ? await next() : undefined;
  }
  if (sample.length === 0 && opts.features === undefined) {
    // Columns are told numeric by their cells: with none, say what is missing, not "no numeric column".
    throw new StartupError('E_DATA', `${path}: no row below the header`, 'give a CSV with flow rows below its header');
  }
  const { featureCols, excluded } = selectColumns(header, sample.map((s) => s.record), {
    labelCol, groupCol, features: opts.features, keepIdentity: opts.keepIdentity ?? false, path,
  });
  const F = featureCols.length;
  const clamp = opts.infinity === 'clamp';
  const fail = opts.badRows === 'fail';
  let cols = new Columns(F);
  let handed = 0;
  const labels = new Interner();
  const groups = new Interner();
  const y: number[] = [];
  const g: number[] = [];
  const skippedBy: Record<string, number> = {};
  const examples: string[] = [];
  const row = new Float64Array(F);
  let rowsRead = 0;
  let skipped = 0;
  let unlabeled = 0;
  let clamped = 0;

  const bad = (rec: Rec, column: string, message: string): void => {
    const where = `line ${recordStartLine(rec)} (data row ${rec.info.records - 1})`;
    const text = `${where}, column "${column}": ${message}`;
    if (fail) {
      throw dataError(`${path}: ${text}`, 'fix the file, or use --bad-rows skip to skip such rows (they are counted)');
    }
    skipped++;
    skippedBy[column] = (skippedBy[column] ?? 0) + 1;
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };

  const take = (rec: Rec): void => {
    rowsRead++;
    const cells = rec.record;
    if (cells.length !== header.length) {
      bad(rec, '(field count)', `${cells.length} fields, the header has ${header.length}`);
      return;
    }
    // The label first: an unlabeled row is skipped as such whatever its features hold (with
    // --label category many rows have none, and one with a bad cell stopped --bad-rows fail).
    const l = labelCol >= 0 ? (cells[labelCol] as string).trim() : undefined;
    if (l === '') {
      unlabeled++;
      return;
    }
    let clampedHere = 0;
    for (let f = 0; f < F; f++) {
      const c = featureCols[f] as number;
      const cell = cells[c] as string;
      let v: number | BadKind = parseCell(cell);
      if (v === 'infinity' && clamp) {
        v = clampedInfinity(cell);
        clampedHere++;
      }
      if (typeof v !== 'number') {
        bad(rec, header[c] as string, describeBad(v, cell));
        return;
      }
      row[f] = v;
    }
    clamped += clampedHere; // cells of rows used, not of rows skipped
    const label = l === undefined ? -1 : labels.id(l);
    cols.push(row);
    if (labelCol >= 0) y.push(label);
    if (groupCol >= 0) g.push(groups.id((cells[groupCol] as string).trim()));
  };

  const parts = opts.parts;
  const handOver = async (): Promise<void> => {
    if (!parts || cols.n === 0) return;
    const part: DatasetPart = { x: cols.toColumnMajor(), nRows: cols.n, y: labelCol >= 0 ? Int32Array.from(y) : undefined, labelNames: labels.names };
    handed += cols.n;
    cols = new Columns(F);
    y.length = 0;
    g.length = 0;
    await parts.take(part);
  };
  const add = async (rec: Rec): Promise<void> => {
    take(rec);
    if (parts && cols.n >= parts.rows) await handOver();
  };
  for (const rec of sample.splice(0)) await add(rec);
  for (let rec = await next(); rec; rec = await next()) {
    await add(rec);
    // Every 4,096 rows: a wide row takes tens of microseconds, and every 65,536 rows left Ctrl-C
    // and the progress line waiting for seconds (found by review).
    if ((rowsRead & 0xfff) === 0) {
      opts.onProgress?.(rowsRead);
      if (opts.signal?.aborted) throw dataError(`${path}: loading interrupted`);
    }
  }
  // Also at the end: a file of fewer rows than the check's interval was never checked (evaluate
  // went on to its report after Ctrl-C: found by review).
  if (opts.signal?.aborted) throw dataError(`${path}: loading interrupted`);
  await handOver();
  return {
    source: path,
    featureNames: featureCols.map((c) => header[c] as string),
    nRows: handed + cols.n,
    x: parts ? new Float32Array(0) : cols.toShared(),
    y: labelCol >= 0 ? Int32Array.from(y) : undefined,
    labelNames: labels.names,
    group: groupCol >= 0 ? Int32Array.from(g) : undefined,
    groupNames: groups.names,
    groupColumn: groupCol >= 0 ? header[groupCol] : undefined,
    labelColumn: labelCol >= 0 ? header[labelCol] : undefined,
    report: { rowsRead, rowsUsed: handed + cols.n, rowsSkipped: skipped, skippedBy, unlabeled, clamped, examples, excluded, repeatedNames: repeatedNames(first.record, featureCols) },
  };
}

function describeBad(kind: BadKind, cell: string): string {
  const shown = cell.length > 40 ? `${cell.slice(0, 40)}...` : cell;
  switch (kind) {
    case 'empty':
      return 'empty cell';
    case 'nan':
      return `not a number ("${shown}")`;
    case 'infinity':
      return `infinite value ("${shown}"); --infinity clamp would use the largest float32 instead`;
    case 'text':
      return `text "${shown}" in a numeric feature column`;
  }
}

/**
 * train and evaluate stop here when no row can be used, naming why, instead of reporting a
 * class count or an accuracy of 0 over nothing.
 */
export function requireRows(ds: Dataset, what: 'train on' | 'evaluate'): void {
  if (ds.nRows > 0) return;
  const r = ds.report;
  const why: string[] = [];
  if (r.rowsSkipped > 0) why.push(`${r.rowsSkipped} skipped for bad cells${r.examples[0] ? ` (first: ${r.examples[0]})` : ''}`);
  if (r.unlabeled > 0) why.push(`${r.unlabeled} with an empty label cell`);
  // Every skipped row for one column's cells: leaving that column out is the quick fix.
  const [only, n] = Object.entries(r.skippedBy).length === 1 ? Object.entries(r.skippedBy)[0]! : [undefined, 0];
  throw new StartupError('E_DATA', `${ds.source}: no row to ${what}: ${r.rowsRead} read${why.length ? `, ${why.join(', ')}` : ''}`,
    r.rowsRead === 0 ? 'give a CSV with flow rows below its header'
      : r.rowsSkipped === 0 ? 'fill the label column'
        : only !== undefined && n === r.rowsSkipped && what === 'train on'
          ? `every skipped row has a bad cell in "${only}": fix its cells, or leave it out by naming the other columns with --features`
        : r.examples.some((e) => /infinit/i.test(e)) ? 'fix the cells named, or pass --infinity clamp to read infinite cells as the largest float32'
          : 'fix the cells named (--bad-rows fail stops at the first)');
}
