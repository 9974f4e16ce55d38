/**
 * A small declarative schema: each option is declared once with its type,
 * default, documentation and checks. The same declaration
 *   - parses and validates (path-qualified messages: "mqtt.qos must be 0, 1 or 2"),
 *   - fills defaults,
 *   - gives the TypeScript type (Infer<typeof schema>),
 *   - and renders the commented example file (config/agent.example.yaml).
 * Unknown keys are rejected (a typo must not silently fall back to a default).
 * Parsing opens no files or sockets.
 */
import { listText, numberText } from './set-text.js';

export interface Field<T> {
  readonly kind: 'field';
  readonly doc: string;
  readonly default: T;
  /** Environment variable that overrides the file's value (for secrets and deployment specifics). */
  readonly env: string | undefined;
  parse(value: unknown, path: string, issues: string[]): T;
  /** Parse a string from the environment or the command line. */
  parseText(text: string, path: string, issues: string[]): T;
}

export interface Section<S extends Shape> {
  readonly kind: 'section';
  readonly doc: string;
  readonly shape: S;
}

export type Node = Field<unknown> | Section<Shape>;
export type Shape = { readonly [key: string]: Node };

export type Infer<N> = N extends Field<infer T>
  ? T
  : N extends Section<infer S>
    ? { readonly [K in keyof S]: Infer<S[K]> }
    : never;

interface Common<T> {
  doc: string;
  default: T;
  env?: string;
  /** A secret: a wrong value is never shown in a message (messages reach terminals and the journal). */
  secret?: boolean;
}

function field<T>(
  c: Common<T>,
  parse: (v: unknown, path: string, issues: string[]) => T,
  parseText?: (s: string, path: string, issues: string[]) => T,
): Field<T> {
  return {
    kind: 'field',
    doc: c.doc,
    default: c.default,
    env: c.env,
    parse,
    parseText: parseText ?? ((s, p, i) => parse(s, p, i)),
  };
}

export function int(c: Common<number> & { min?: number; max?: number }): Field<number> {
  const min = c.min ?? Number.MIN_SAFE_INTEGER;
  const max = c.max ?? Number.MAX_SAFE_INTEGER;
  const range =
    c.min !== undefined && c.max !== undefined ? ` between ${min} and ${max}`
      : c.min !== undefined ? ` >= ${min}` : c.max !== undefined ? ` <= ${max}` : '';
  const parse = (v: unknown, path: string, issues: string[]): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      issues.push(`${path} must be an integer${range} (got ${show(v)})`);
      return c.default;
    }
    return v;
  };
  return field(c, parse, (s, p, i) => parse(numberText(s), p, i));
}

export function num(c: Common<number> & { min?: number; max?: number; exclusiveMin?: boolean }): Field<number> {
  const parse = (v: unknown, path: string, issues: string[]): number => {
    const low = c.min !== undefined && (typeof v !== 'number' || (c.exclusiveMin ? v <= c.min : v < c.min));
    const high = c.max !== undefined && typeof v === 'number' && v > c.max;
    if (typeof v !== 'number' || !Number.isFinite(v) || low || high) {
      const parts: string[] = [];
      if (c.min !== undefined) parts.push(`${c.exclusiveMin ? '>' : '>='} ${c.min}`);
      if (c.max !== undefined) parts.push(`<= ${c.max}`);
      const finite = typeof v === 'number' && (v === Infinity || v === -Infinity) ? 'finite ' : '';
      issues.push(`${path} must be a ${finite}number${parts.length ? ' ' + parts.join(' and ') : ''} (got ${show(v)})`);
      return c.default;
    }
    return v;
  };
  return field(c, parse, (s, p, i) => parse(numberText(s), p, i));
}

export function str(c: Common<string> & { pattern?: RegExp; patternDoc?: string; nonEmpty?: boolean }): Field<string> {
  const parse = (v: unknown, path: string, issues: string[]): string => {
    if (typeof v !== 'string') {
      issues.push(`${path} must be a string (got ${show(v)})`);
      return c.default;
    }
    if (c.nonEmpty && v.length === 0) {
      issues.push(`${path} must not be empty`);
      return c.default;
    }
    if (c.pattern && !c.pattern.test(v)) {
      issues.push(`${path} must be ${c.patternDoc ?? `like ${c.pattern}`} (got ${show(v)})`);
      return c.default;
    }
    return v;
  };
  // null from --set or the environment is null, as in YAML (and refused here): it became the text
  // "null" (client id "null" for --set publish.mqtt.client_id=null, found by review), where the
  // optional fields take it as unset.
  return field(c, parse, (s, path, issues) => parse(s === 'null' || s === '~' ? null : s, path, issues));
}

/** A string that may be absent (null): paths to optional files, optional URLs. */
export function optStr(c: Common<string | null>): Field<string | null> {
  return field(
    c,
    (v, path, issues) => {
      if (v === null || v === undefined) return null;
      if (typeof v !== 'string') {
        // Found by review: a password written as a number was echoed, into the journal on a reload.
        issues.push(`${path} must be a string or null (got ${c.secret ? `a ${Array.isArray(v) ? 'list' : typeof v}, not shown` : show(v)})`);
        return c.default;
      }
      return v === '' ? null : v;
    },
    // On the command line `--set key=null` (or an empty value) unsets, as `null` does in YAML.
    (s) => (s === '' || s === 'null' ? null : s),
  );
}

export function bool(c: Common<boolean>): Field<boolean> {
  const parse = (v: unknown, path: string, issues: string[]): boolean => {
    if (typeof v !== 'boolean') {
      issues.push(`${path} must be true or false (got ${show(v)})`);
      return c.default;
    }
    return v;
  };
  return field(c, parse, (s, p, i) => parse(s === 'true' ? true : s === 'false' ? false : s, p, i));
}

/** One of a fixed set of values; prefer this to booleans when a third option is plausible. */
export function oneOf<const V extends readonly (string | number)[]>(
  values: V,
  c: Common<V[number]>,
): Field<V[number]> {
  const list =
    values.length === 1 ? String(values[0])
      : `${values.slice(0, -1).map(String).join(', ')} or ${String(values[values.length - 1])}`;
  const parse = (v: unknown, path: string, issues: string[]): V[number] => {
    if (!(values as readonly unknown[]).includes(v)) {
      issues.push(`${path} must be ${list} (got ${show(v)})`);
      return c.default;
    }
    return v as V[number];
  };
  return field(c, parse, (s, p, i) => parse(typeof values[0] === 'number' ? numberText(s) : s, p, i));
}

export function list<T>(item: Field<T>, c: Common<readonly T[]> & { minItems?: number; unique?: boolean }): Field<readonly T[]> {
  const parse = (v: unknown, path: string, issues: string[]): readonly T[] => {
    if (!Array.isArray(v)) {
      issues.push(`${path} must be a list (got ${show(v)})`);
      return c.default;
    }
    if (c.minItems !== undefined && v.length < c.minItems) {
      issues.push(`${path} must have at least ${c.minItems} item${c.minItems === 1 ? '' : 's'}`);
    }
    const items = v.map((x, i) => item.parse(x, `${path}[${i}]`, issues));
    if (c.unique) {
      const twice = [...new Set(items.filter((x, i) => items.indexOf(x) !== i))];
      if (twice.length > 0) issues.push(`${path} lists ${twice.map((x) => show(x)).join(', ')} more than once`);
    }
    return items;
  };
  return field(c, parse, (s, p, i) => parse(listText(s), p, i));
}

const SIZE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** A byte size: a number of bytes or a string like "64MiB" or "1GB". */
export function size(c: Common<number> & { min?: number; max?: number }): Field<number> {
  return field(c, (v, path, issues) => {
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string') {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
      const unit = m ? SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
      if (m && unit !== undefined) n = Math.round(Number(m[1]) * unit);
    }
    if (n === undefined || !Number.isFinite(n) || n < (c.min ?? 0) || (c.max !== undefined && n > c.max)) {
      const range = c.max !== undefined ? ` between ${c.min ?? 0} and ${c.max}` : c.min ? ` of at least ${c.min}` : '';
      issues.push(`${path} must be a size in bytes such as 67108864 or "64MiB"${range} (got ${show(v)})`);
      return c.default;
    }
    return n;
  });
}

export function section<S extends Shape>(doc: string, shape: S): Section<S> {
  return { kind: 'section', doc, shape };
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v); // JSON would show Infinity and NaN (YAML's .inf, .nan) as null
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The candidate nearest to `key` by edit distance, if near enough to be the likely intent. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestD) { bestD = d; best = c; }
  }
  return bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Parse `value` against a section; missing keys take defaults, unknown keys are issues. */
export function parseSection<S extends Shape>(
  sec: Section<S>,
  value: unknown,
  path: string,
  issues: string[],
): Infer<Section<S>> {
  const out: Record<string, unknown> = {};
  const obj = value ?? {};
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    issues.push(`${path || 'the configuration'} must be a mapping of keys to values (got ${show(value)})`);
    return defaults(sec);
  }
  const keys = Object.keys(sec.shape);
  for (const k of Object.keys(obj)) {
    if (!keys.includes(k)) {
      const hint = closest(k, keys);
      issues.push(`${join(path, k)} is not a known option${hint ? ` (did you mean ${join(path, hint)}?)` : ''}`);
    }
  }
  for (const k of keys) {
    const node = sec.shape[k]!;
    const v = (obj as Record<string, unknown>)[k];
    const p = join(path, k);
    if (node.kind === 'section') out[k] = parseSection(node, v, p, issues);
    else out[k] = v === undefined ? node.default : node.parse(v, p, issues);
  }
  return out as Infer<Section<S>>;
}

export function defaults<S extends Shape>(sec: Section<S>): Infer<Section<S>> {
  const out: Record<string, unknown> = {};
  for (const [k, node] of Object.entries(sec.shape)) {
    out[k] = node.kind === 'section' ? defaults(node) : node.default;
  }
  return out as Infer<Section<S>>;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Every field with its dotted path, for env overrides, docs and `--set key=value`. */
export function fields(sec: Section<Shape>, path = ''): Array<[string, Field<unknown>]> {
  const out: Array<[string, Field<unknown>]> = [];
  for (const [k, node] of Object.entries(sec.shape)) {
    const p = join(path, k);
    if (node.kind === 'section') out.push(...fields(node, p));
    else out.push([p, node]);
  }
  return out;
}
