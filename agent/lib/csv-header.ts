/**
 * CSV header names as every reader of flow CSVs takes them (training, evaluation, replay), so a
 * model trained on a CSV names its columns as replay of that CSV finds them.
 */

/**
 * Trim header names (CICFlowMeter writes " Flow Duration") and make duplicates
 * unique the way pandas does ("Fwd Header Length", "Fwd Header Length.1"), so
 * that every column can be named unambiguously in model metadata.
 */
export function cleanHeader(raw: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((r, i) => {
    let name = r.trim();
    if (name === '') name = `column_${i + 1}`;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}.${n}`;
  });
}

/**
 * Characters one CSV line may hold: a feature row is a few KiB. Without a bound a stray quote made
 * the parser buffer the rest of the file (330 MB for a 100 MB file, found by review).
 */
export const MAX_RECORD_CHARS = 1 << 20;
