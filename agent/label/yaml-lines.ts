/**
 * YAML read for validation: every node keeps its line, so each problem in a
 * rules or categories file is reported as "FILE:LINE: message", all of them at
 * once rather than one per run.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { StartupError } from '../errors.js';

export class YamlFile {
  readonly errors: string[] = [];
  private readonly lines = new LineCounter();
  readonly root: unknown;

  constructor(readonly file: string, text: string) {
    const doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const e of doc.errors) {
      this.errors.push(`${file}:${this.lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    }
    this.root = doc.contents;
  }

  /** 1-based line where the node starts (1 for a missing node). */
  line(node: unknown): number {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : 1;
  }

  error(node: unknown, message: string): void {
    this.errors.push(`${this.file}:${this.line(node)}: ${message}`);
  }

  /** Throw one StartupError listing every problem found, if any. */
  check(what: string, hint: string): void {
    if (this.errors.length === 0) return;
    const shown = this.errors.slice(0, 50);
    const more = this.errors.length > shown.length ? `\n  ... and ${this.errors.length - shown.length} more` : '';
    throw new StartupError('E_CONFIG', `invalid ${what}:\n  - ${shown.join('\n  - ')}${more}`, hint);
  }

  /** A mapping's entries as [key text, key node, value node]; reports non-scalar keys. */
  entries(map: YAMLMap): Array<[string, Node, unknown]> {
    const out: Array<[string, Node, unknown]> = [];
    for (const pair of map.items) {
      const key = pair.key as Node;
      if (!isScalar(key)) {
        this.error(key, 'a key must be plain text');
        continue;
      }
      out.push([String(key.value), key, pair.value]);
    }
    return out;
  }

  /** A scalar's text (numbers and booleans as written); reports anything else. */
  text(node: unknown, what: string): string | null {
    if (isScalar(node) && node.value !== null && typeof node.value !== 'object') {
      const s = String(node.value).trim();
      if (s !== '') return s;
    }
    this.error(node, `${what} must be a non-empty text`);
    return null;
  }

  /** One text or a list of texts, each with its node (for its line). */
  texts(node: unknown, what: string): Array<[string, Node]> {
    const items = isSeq(node) ? node.items : [node];
    if (isSeq(node) && items.length === 0) this.error(node, `${what} is an empty list`);
    const out: Array<[string, Node]> = [];
    for (const item of items) {
      const t = this.text(item, what);
      if (t !== null) out.push([t, item as Node]);
    }
    return out;
  }

  isMap(node: unknown): node is YAMLMap {
    return isMap(node);
  }

  isSeq(node: unknown): node is YAMLSeq {
    return isSeq(node);
  }
}

/** "did you mean" for a mistyped key. */
export function suggest(word: string, known: readonly string[]): string {
  const near = known.find((k) => distance(k, word.toLowerCase()) <= 2);
  return near ? ` (did you mean "${near}"?)` : ` (known: ${known.join(', ')})`;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}
