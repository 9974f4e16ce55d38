import { StartupError } from '../errors.js';

/**
 * CSV header names as every reader of flow CSVs takes them (training, evaluation, replay), so a
 * model trained on a CSV names its columns as replay of that CSV finds them.
 */

/**
 * Trim header names (CICFlowMeter writes " Flow Duration") and make duplicates
 * unique the way pandas does ("Fwd Header Length", "Fwd Header Length.1"), so
 * that every column can be named unambiguously in model metadata. A suffix a
 * name of the header already has is skipped: "a,a,a.1" is a, a.2, a.1 (it was
 * a, a.1, a.1, and a model trained on it could not be evaluated: found by review).
 */
export function cleanHeader(raw: readonly string[]): string[] {
  const trimmed = raw.map((r, i) => r.trim() || `column_${i + 1}`);
  const taken = new Set(trimmed);
  /** Per name seen: the next suffix to try. */
  const seen = new Map<string, number>();
  return trimmed.map((name) => {
    let n = seen.get(name);
    if (n === undefined) {
      seen.set(name, 1);
      return name;
    }
    while (taken.has(`${name}.${n}`)) n++;
    seen.set(name, n + 1);
    taken.add(`${name}.${n}`);
    return `${name}.${n}`;
  });
}

/**
 * Characters one CSV line may hold: a feature row is a few KiB. Without a bound a stray quote made
 * the parser buffer the rest of the file (330 MB for a 100 MB file, found by review).
 */
export const MAX_RECORD_CHARS = 1 << 20;

/**
 * The line a record starts on, for messages: csv-parse's info.lines is the line it ends on, and a
 * quoted cell may hold line breaks (a bad cell was placed on the record's last line: found by review).
 */
export function recordStartLine(rec: { record: readonly string[]; info: { lines: number } }): number {
  let breaks = 0;
  for (const cell of rec.record) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) breaks++;
  return rec.info.lines - breaks;
}

/**
 * The names of `raw` (a header as read) that appear more than once and that `taken` columns
 * use: cleanHeader tells such columns apart by their order alone ("a", "a.1"), so a file whose
 * columns were reordered since training feeds the model one in place of the other. Readers
 * warn with these (evaluate scored 0.49 instead of 1.0 on a reordered file, silently: found by review).
 */
export function repeatedNames(raw: readonly string[], taken: readonly number[]): string[] {
  const trimmed = raw.map((r) => r.trim());
  const count = new Map<string, number>();
  for (const n of trimmed) count.set(n, (count.get(n) ?? 0) + 1);
  return [...new Set(taken.map((c) => trimmed[c] as string).filter((n) => (count.get(n) ?? 0) > 1))];
}

/** What readers say of repeatedNames' result (non-empty): replay logs it, train and evaluate print it as a warning. */
export function repeatedNamesText(names: readonly string[]): string {
  return `columns named alike are told apart only by their order: ${names.map((n) => `"${n}"`).join(', ')}; `
    + 'in a file whose columns were reordered since training, the model reads one for the other';
}

/** The warning line train and evaluate print: none for no name. */
export function repeatedNamesWarning(names: readonly string[]): string[] {
  return names.length === 0 ? [] : [`warning: ${repeatedNamesText(names)}`];
}

/**
 * A CSV reader's error as a StartupError (E_DATA): a quote never closed is named at the line it
 * opens, the one after `lastLine` (the last record read), with its fix; csv-parse names the file's
 * last line (found by review). Other parser errors keep csv-parse's message, with a fix.
 */
export function malformedCsv(path: string, err: Error & { code?: string }, lastLine: number): StartupError {
  if (err.code === 'CSV_QUOTE_NOT_CLOSED') {
    return new StartupError('E_DATA', `${path}: malformed CSV: a quote opened at line ${lastLine + 1} (or just after, past blank lines) is never closed: the rest of the file reads as one cell`,
      'close or remove that quote');
  }
  return new StartupError('E_DATA', `${path}: malformed CSV: ${err.message}`, 'correct the CSV at the line named');
}
