/**
 * Cell and column rules for flow CSVs: what counts as a number, what is a
 * "bad" cell, which columns are identity-like (addresses, ports, timestamps,
 * flow ids) and so never features by default.
 *
 * These rules are shared by training and evaluation so a model is always
 * evaluated on cells read exactly the way it was trained on.
 */

/**
 * Whether a cell starting with this character code would be run by a spreadsheet as a formula
 * (= + - @, tab, CR): such text from the network is written after a ' (features/format.ts
 * csvText, meta/held-meta.ts; meta_cells.c has the same rule in C).
 */
export function startsAsFormula(c: number): boolean {
  return c === 0x3d || c === 0x2b || c === 0x2d || c === 0x40 || c === 0x09 || c === 0x0d;
}

/**
 * Whether network text starting with this character is written after a ': one that starts as a
 * formula, or with a ' itself, so that a reader taking one ' off before either (replay of a
 * feature CSV) gets every text back (found by review: "'-x" and "-x" were the same cell).
 */
export function guardedStart(c: number): boolean {
  return startsAsFormula(c) || c === 0x27;
}

/** Largest finite float32: the value `--infinity clamp` substitutes for +Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** Why a cell could not be used as a feature value. */
export type BadKind = 'empty' | 'nan' | 'infinity' | 'text';

const NAN_TOKENS = new Set(['nan', '-nan', 'na', 'n/a', 'null', 'none', '?']);
const POS_INF = new Set(['inf', '+inf', 'infinity', '+infinity', 'inf.0']);
const NEG_INF = new Set(['-inf', '-infinity']);

/**
 * Parse one cell as a float32 feature value. Returns the value, or a BadKind.
 * Values beyond the float32 range count as infinity: the model sees float32,
 * so such a value would silently become Infinity at inference time anyway.
 * Callers that clamp infinities use `infinitySign` on the cell.
 */
export function parseCell(s: string): number | BadKind {
  const v = cellValue(s);
  return typeof v === 'number' ? Math.fround(v) : v;
}

/**
 * As parseCell, but a good cell's value is the double it spells, not rounded to float32: CSV
 * replay judges cells by these rules and prints its records' volume figures from the value.
 */
export function cellValue(s: string): number | BadKind {
  const v = +s;
  // Fast path: `+s` accepts "1e5", " 12 " and "0x1A"; it also maps "" and "  " to 0, caught below.
  if (v - v === 0) {
    const f = Math.fround(v);
    if (f - f === 0) {
      if (v !== 0 || s.trim() !== '') return v;
      return 'empty';
    }
    return 'infinity';
  }
  // "1e400" overflows the double itself: as far beyond float32 as "1e39", so infinity too (found by review: text).
  if (v === Infinity || v === -Infinity) return 'infinity';
  const t = s.trim().toLowerCase();
  if (t === '') return 'empty';
  if (POS_INF.has(t) || NEG_INF.has(t)) return 'infinity';
  if (NAN_TOKENS.has(t)) return 'nan';
  return 'text';
}

/** True when the cell reads as a number of some kind (finite, NaN or infinite), i.e. not free text. */
export function isNumberLike(s: string): boolean {
  const k = parseCell(s);
  return typeof k === 'number' || k === 'nan' || k === 'infinity';
}

/** The clamped value of a cell that parseCell called 'infinity': ±FLOAT32_MAX. */
export function clampedInfinity(s: string): number {
  return s.trim().startsWith('-') ? -FLOAT32_MAX : FLOAT32_MAX;
}

/** Lower case, runs of non-alphanumerics to "_": "Src IP" and "src_ip" compare equal. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

// Our own identity columns (written by `eta-sensor extract`) plus the usual
// names in CICFlowMeter, ISCXFlowMeter and nfstream exports.
const IDENTITY_EXACT = new Set([
  'src_ip', 'dst_ip', 'src_port', 'dst_port', 'proto', 'protocol', 'vlan', 'first_ts', 'last_ts', 'end_reason',
  'flow', 'flow_no', 'id', 'index', 'unnamed_0', 'timestamp', 'pcap', 'src', 'dst', 'source', 'destination',
  'saddr', 'daddr', 'sport', 'dport', 'src_mac', 'dst_mac', 'src_oui', 'dst_oui',
]);
// A name whose last word is an address, port, time stamp or id is identity: "Source IP",
// "bidirectional_first_seen_ms", "Flow ID", "vlan_id". Durations and IATs do not match.
const IDENTITY_RE =
  /(^|_)(ip|ipv4|ipv6|addr|address|mac|port|ts|timestamp|time|date|datetime|epoch|id)$|(^|_)(first|last)_seen(_ms)?$/;

/** Whether a column name looks like flow identity rather than a statistic. */
export function isIdentityName(name: string): boolean {
  const n = normalizeName(name);
  return IDENTITY_EXACT.has(n) || IDENTITY_RE.test(n);
}

/** Find a column by exact (trimmed) name, else by a unique case/punctuation-insensitive match. */
export function findColumn(header: readonly string[], wanted: string): number {
  const w = wanted.trim();
  const exact = header.indexOf(w);
  if (exact >= 0) return exact;
  const nw = normalizeName(w);
  const loose = header.flatMap((h, i) => (normalizeName(h) === nw ? [i] : []));
  return loose.length === 1 ? (loose[0] as number) : -1;
}

/** Parse a `--features` value: "a,b,c", or the contents of a file given as "@path" (commas or newlines). */
export function splitFeatureList(text: string): string[] {
  return text
    .split(/[,\n\r]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
}
