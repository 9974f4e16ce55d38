/**
 * SNI rules: map the server name a flow's handshake shows to an app, so an
 * operator can label their own traffic where the SNI is still visible and
 * train a model that works where it is not (ECH, VPN, QUIC without SNI).
 *
 * File format (YAML; see config/sni-rules.example.yaml):
 *
 *   match: most-specific        # or "first"; default most-specific
 *   rules:
 *     - app: NetFlix
 *       category: streaming     # optional usage type, beats config/categories.yaml
 *       priority: 0             # optional integer, higher wins (most-specific only)
 *       sni: [.netflix.com, .nflxvideo.net]
 *
 * Patterns (matched against the lower-cased SNI without a trailing dot):
 *   netflix.com          exact name
 *   .netflix.com         the name and every name under it (suffix at a label boundary)
 *   api*.netflix.com     glob: `*` any characters within one label, `**` any
 *                        characters across labels, `?` one character
 *   /^r\d+\.cdn\./       regular expression (JavaScript syntax, case-insensitive,
 *                        unanchored unless it anchors itself)
 */
import { readFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { asUsageType, USAGE_TYPES } from './categories.js';
import { suggest, YamlFile } from './yaml-lines.js';

export type PatternKind = 'exact' | 'suffix' | 'glob' | 'regex';
export type MatchMode = 'most-specific' | 'first';

export interface SniRule {
  /** Line of the pattern in the rules file. */
  readonly line: number;
  /** The pattern as written. */
  readonly pattern: string;
  readonly kind: PatternKind;
  /** Exact: the name; suffix: the name below the leading dot; glob/regex: the source. */
  readonly key: string;
  /** Glob and regex patterns, compiled. */
  readonly re: RegExp | null;
  readonly app: string;
  /** Usage type stated by the rule, or null (then config/categories.yaml decides). */
  readonly category: string | null;
  readonly priority: number;
  /** Position in the file: first match takes the lowest; ties of specificity go to the lowest. */
  readonly order: number;
  /** Literal characters of exact, suffix and glob patterns: more is more specific. */
  readonly weight: number;
}

export interface SniRuleSet {
  readonly source: string;
  readonly mode: MatchMode;
  readonly rules: readonly SniRule[];
}

const TOP_KEYS = ['match', 'rules'];
const RULE_KEYS = ['app', 'category', 'priority', 'sni', 'note'];
const HOST = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;
const GLOB = /^[a-z0-9_*?-]+(\.[a-z0-9_*?-]+)*$/;

/** The form in which SNIs are matched: trimmed, lower case, no trailing dot. */
export function normalizeSni(sni: string): string {
  return sni.trim().toLowerCase().replace(/\.$/, '');
}

function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*' && glob[i + 1] === '*') {
      src += '.*';
      i++;
    } else if (ch === '*') src += '[^.]*';
    else if (ch === '?') src += '[^.]';
    else src += ch.replace(/[.\-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** Classify and compile one pattern; returns an error message instead when it is not valid. */
export function compilePattern(raw: string): Pick<SniRule, 'kind' | 'key' | 're' | 'weight'> | string {
  if (raw.length >= 2 && raw.startsWith('/') && raw.endsWith('/')) {
    try {
      return { kind: 'regex', key: raw.slice(1, -1), re: new RegExp(raw.slice(1, -1), 'i'), weight: 0 };
    } catch (e) {
      return `invalid regular expression ${raw}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
    }
  }
  const p = normalizeSni(raw);
  if (/[*?]/.test(p)) {
    if (!GLOB.test(p)) return `invalid glob "${raw}": use letters, digits, "-", "_", "." and the wildcards * ** ?`;
    return { kind: 'glob', key: p, re: globToRegExp(p), weight: p.replace(/[*?]/g, '').length };
  }
  if (p.startsWith('.')) {
    const name = p.slice(1);
    if (!HOST.test(name)) return `invalid suffix "${raw}": expected ".example.com"`;
    return { kind: 'suffix', key: name, re: null, weight: p.length };
  }
  if (!HOST.test(p)) {
    return `invalid server name "${raw}"${raw.includes('/') ? ' (a regular expression is written /like this/)' : ''}`;
  }
  return { kind: 'exact', key: p, re: null, weight: p.length };
}

/** Parse the text of a rules file; throws StartupError (E_CONFIG) listing every problem with its line. */
export function parseSniRules(text: string, file: string): SniRuleSet {
  const y = new YamlFile(file, text);
  const rules: SniRule[] = [];
  let mode: MatchMode = 'most-specific';
  const seen = new Map<string, number>();
  if (!y.isMap(y.root)) {
    if (y.errors.length === 0) y.error(y.root, 'expected a mapping with "rules" (and optionally "match")');
  } else {
    let rulesNode: unknown;
    for (const [name, key, value] of y.entries(y.root)) {
      if (name === 'match') {
        const m = y.text(value, '"match"');
        if (m === 'most-specific' || m === 'first') mode = m;
        else if (m !== null) y.error(value, `"match" must be most-specific or first (got "${m}")`);
      } else if (name === 'rules') rulesNode = value;
      else y.error(key, `unknown key "${name}"${suggest(name, TOP_KEYS)}`);
    }
    if (rulesNode === undefined) y.error(y.root, 'no "rules" list');
    else if (!y.isSeq(rulesNode)) y.error(rulesNode, '"rules" must be a list');
    else rulesNode.items.forEach((item) => parseRule(y, item, rules, seen));
  }
  y.check(`SNI rules in ${file}`, 'fix the listed lines; see config/sni-rules.example.yaml for the format');
  return { source: file, mode, rules };
}

function parseRule(y: YamlFile, item: unknown, rules: SniRule[], seen: Map<string, number>): void {
  if (!y.isMap(item)) {
    y.error(item, 'a rule must be a mapping with "app" and "sni"');
    return;
  }
  let app: string | null = null;
  let category: string | null = null;
  let priority = 0;
  let patterns: Array<[string, unknown]> = [];
  let hasApp = false;
  let hasSni = false;
  for (const [name, key, value] of y.entries(item)) {
    if (name === 'app') {
      hasApp = true;
      app = y.text(value, '"app"');
    } else if (name === 'category') {
      const c = y.text(value, '"category"');
      if (c !== null) {
        category = asUsageType(c);
        if (category === null) y.error(value, `"category" must be one of ${USAGE_TYPES.join(', ')} (got "${c}")`);
      }
    } else if (name === 'priority') {
      const p = y.text(value, '"priority"');
      if (p !== null && !/^-?\d{1,6}$/.test(p)) y.error(value, `"priority" must be an integer (got "${p}")`);
      else if (p !== null) priority = Number(p);
    } else if (name === 'sni') {
      hasSni = true;
      patterns = y.texts(value, 'an "sni" pattern');
    } else if (name !== 'note') y.error(key, `unknown key "${name}"${suggest(name, RULE_KEYS)}`);
  }
  if (!hasApp) y.error(item, 'the rule has no "app"');
  if (!hasSni) y.error(item, 'the rule has no "sni" pattern');
  for (const [pattern, node] of patterns) {
    const c = compilePattern(pattern);
    if (typeof c === 'string') {
      y.error(node, c);
      continue;
    }
    const id = `${c.kind}:${c.key}`;
    const first = seen.get(id);
    if (first !== undefined) {
      y.error(node, `pattern "${pattern}" is already used at line ${first}`);
      continue;
    }
    const line = y.line(node);
    seen.set(id, line);
    if (app !== null) rules.push({ line, pattern, ...c, app, category, priority, order: rules.length });
  }
}

export async function loadSniRules(path: string): Promise<SniRuleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new StartupError('E_INPUT', `cannot read the SNI rules ${path}: ${(e as Error).message}`, 'check the --sni-rules path');
  }
  return parseSniRules(text, path);
}
