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
