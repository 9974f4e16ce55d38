/**
 * Which CSV columns become features.
 *
 * Explicit `features` are taken as given (missing names are an error naming
 * all of them). Otherwise every column is a feature unless it is the label or
 * group column, identity-like by name (addresses, ports, timestamps, ids;
 * kept with `keepIdentity`), one of our metadata or label columns, or mostly
 * non-numeric in the sampled rows (IP addresses, SNI, label text). Every
 * excluded column is returned with its reason so the caller can print it:
 * nothing is dropped silently.
 */
import { StartupError } from '../errors.js';
import { findColumn, isIdentityName, isNumberLike, normalizeName, parseCell } from '../lib/csv-cells.js';

// Columns of our own CSVs that describe the flow but are not statistics, and
// usual label column names: never features by default, whatever their content.
const METADATA = new Set(['sni', 'alpn', 'tls_version', 'ja3', 'ja3s', 'ja4', 'ja4s', 'app', 'category', 'label', 'class']);

/** Share of non-empty sampled cells that must read as numbers for a column to count as numeric. */
const NUMERIC_SHARE = 0.9;

export interface ColumnChoice {
  readonly featureCols: number[];
  readonly excluded: Array<{ name: string; reason: string }>;
}

export interface ColumnOptions {
  readonly labelCol: number;
  readonly groupCol: number;
  readonly features: readonly string[] | undefined;
  readonly keepIdentity: boolean;
  readonly path: string;
}

export function selectColumns(header: readonly string[], sample: readonly string[][], o: ColumnOptions): ColumnChoice {
  if (o.features !== undefined) return explicit(header, o);
  const featureCols: number[] = [];
  const excluded: Array<{ name: string; reason: string }> = [];
  header.forEach((name, c) => {
    if (c === o.labelCol) return excluded.push({ name, reason: 'label' });
    if (c === o.groupCol) return excluded.push({ name, reason: 'group' });
    if (METADATA.has(normalizeName(name))) return excluded.push({ name, reason: 'metadata/label-like' });
    if (!o.keepIdentity && isIdentityName(name)) return excluded.push({ name, reason: 'identity (name)' });
    let nonEmpty = 0;
    let numeric = 0;
    let finite = 0;
    for (const rec of sample) {
      const cell = rec[c];
      if (cell === undefined || cell.trim() === '') continue;
      nonEmpty++;
      if (isNumberLike(cell)) numeric++;
      if (typeof parseCell(cell) === 'number') finite++;
    }
    if (nonEmpty === 0) return excluded.push({ name, reason: `empty in the first ${sample.length} rows` });
    // Left out as an empty one is: taken, its NaN cells made every row a bad row (found by review),
    // and so did a few text cells among them (a column counts as numeric at 90%).
    if (finite === 0 && numeric >= NUMERIC_SHARE * nonEmpty) {
      const what = numeric === nonEmpty ? 'only NaN or infinite' : 'only NaN, infinite or text';
      return excluded.push({ name, reason: `no finite number in the first ${sample.length} rows, ${what}` });
    }
    if (numeric < NUMERIC_SHARE * nonEmpty) return excluded.push({ name, reason: 'not numeric' });
    return featureCols.push(c);
  });
  if (featureCols.length === 0) {
    throw new StartupError('E_DATA', `${o.path}: no numeric feature columns found`,
      'name them with --features a,b,c (or --features @file)');
  }
  return { featureCols, excluded };
}

function explicit(header: readonly string[], o: ColumnOptions): ColumnChoice {
  const features = o.features ?? [];
  const cols = features.map((f) => findColumn(header, f));
  const missing = features.filter((_, i) => cols[i] === -1);
  if (missing.length > 0) {
    throw new StartupError(
      'E_DATA',
      `${o.path} lacks ${missing.length} feature column(s): ${missing.join(', ')}`,
      `the file's columns are: ${header.slice(0, 60).join(', ')}${header.length > 60 ? ', ...' : ''}`,
    );
  }
  const dup = features.filter((_, i) => cols.indexOf(cols[i] as number) !== i);
  if (dup.length > 0) throw new StartupError('E_USAGE', `feature(s) named twice: ${dup.join(', ')}`);
  if (o.labelCol >= 0 && cols.includes(o.labelCol)) {
    throw new StartupError('E_USAGE', `the label column "${header[o.labelCol]}" cannot also be a feature`);
  }
  const chosen = new Set(cols);
  const excluded = header.flatMap((name, c) => (chosen.has(c) ? [] : [{ name, reason: 'not in --features' }]));
  return { featureCols: cols, excluded };
}
