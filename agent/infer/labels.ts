/**
 * Probabilities to labels, written by the worker as the JSON the record carries:
 *
 *   "app":{"label":"Netflix","confidence":0.9312,"top":[["Netflix",0.9312],["YouTube",0.05],["Zoom",0.01]]}
 *
 * the top class (or "unknown" under the model's threshold), its probability, and the top 3,
 * probabilities rounded to four places. Byte for byte what JSON.stringify gives for the
 * ModelLabel object (types.ts); the tests hold the two equal.
 *
 * Why bytes, and in the worker: the main thread also runs the flow meter, and building two
 * label objects per flow there, then serializing them, cost it 6.5 µs per flow (a third of a
 * replay's main thread; JSON.stringify of the labels alone 3.3-3.9 µs), plus the collector
 * threads the garbage woke. Here the pieces are encoded once, when the worker starts: the class
 * names, and every number a rounded probability can be (k / 10000).
 */

import type { ModelLabel } from './types.js';

/**
 * Byte pieces, kept in one array each and copied by a loop: the pieces are a few bytes long,
 * and TypedArray.set, or a loop over many small arrays of two kinds (Buffer, Uint8Array),
 * cost several times more per row (0.9 µs against 0.2, labels of two models).
 */
class Pieces {
  private bytes: number[] = [];
  readonly start: number[] = [];
  readonly end: number[] = [];

  add(s: string): number {
    this.start.push(this.bytes.length);
    for (const b of Buffer.from(s, 'utf8')) this.bytes.push(b);
    this.end.push(this.bytes.length);
    return this.start.length - 1;
  }

  /** The pieces, frozen into typed arrays for write(). */
  seal(): { bank: Uint8Array; start: Int32Array; end: Int32Array } {
    return { bank: Uint8Array.from(this.bytes), start: Int32Array.from(this.start), end: Int32Array.from(this.end) };
  }
}

/** JSON of k / 10000 for k = 0..10000, as JSON.stringify writes each: piece k. */
const NUMBERS = (() => {
  const p = new Pieces();
  for (let k = 0; k <= 10_000; k++) p.add(JSON.stringify(k / 1e4));
  return p.seal();
})();

/** The most bytes a number takes: JSON.stringify of any double (outside the table: NaN is "null"). */
const MAX_NUMBER = 24;

/** The constant parts of a model's member, for the bound below. */
const FIXED = [':{"label":', ',"confidence":', ',"top":[', '],', ']}'].join('');

/** Copies bank[from, to) into out at `at`; returns the new end. */
function copy(bank: Uint8Array, from: number, to: number, out: Uint8Array, at: number): number {
  for (let i = from; i < to; i++) out[at++] = bank[i]!;
  return at;
}

/** Writes the JSON of Math.round(p * 1e4) / 1e4, as JSON.stringify would, into out at `at`. */
function writeNumber(p: number, out: Uint8Array, at: number): number {
  const k = Math.round(p * 1e4);
  if (k >= 0 && k <= 10_000) return copy(NUMBERS.bank, NUMBERS.start[k]!, NUMBERS.end[k]!, out, at);
  for (const b of Buffer.from(JSON.stringify(k / 1e4) ?? 'null')) out[at++] = b;
  return at;
}

/**
 * One model's label writer: its kind (the record's key), class names and threshold. Its pieces,
 * per class C: `"kind":{"label":"C","confidence":` (C the label), `,"top":[["C",` (C first of
 * the top 3) and `],["C",` (second or third); the "unknown" label's; and the end, `]]}`.
 */
export class LabelWriter {
  private readonly bank: Uint8Array;
  private readonly start: Int32Array;
  private readonly end: Int32Array;
  private readonly kindJson: string;
  /** Piece indexes past the three per class. */
  private readonly unknown: number;
  private readonly close: number;
  private readonly emptyTop: number;
  /** The most bytes write() adds for one row. */
  readonly maxBytes: number;

  constructor(kind: string, private readonly names: readonly string[], private readonly threshold: number) {
    const k = JSON.stringify(kind);
    this.kindJson = k;
    const p = new Pieces();
    for (const c of names) {
      const name = JSON.stringify(c);
      p.add(`${k}:{"label":${name},"confidence":`);
      p.add(`,"top":[[${name},`);
      p.add(`],[${name},`);
    }
    this.unknown = p.add(`${k}:{"label":"unknown","confidence":`);
    this.close = p.add(']]}');
    this.emptyTop = p.add(',"top":[]}');
    ({ bank: this.bank, start: this.start, end: this.end } = p.seal());
    this.maxBytes = labelBytesBound(kind, names);
  }

  /**
   * Writes, for the row of `width` probabilities at probs[offset], the record's member for this
   * model into out at `at`; returns where it ends. The top 3 come from one pass: cheaper than
   * sorting, and ties keep the first class.
   */
  write(probs: Float32Array, offset: number, width: number, out: Uint8Array, at: number): number {
    let i1 = -1, i2 = -1, i3 = -1;
    let p1 = -1, p2 = -1, p3 = -1;
    for (let k = 0; k < width; k++) {
      const p = probs[offset + k]!;
      if (p > p1) {
        i3 = i2; p3 = p2; i2 = i1; p2 = p1; i1 = k; p1 = p;
      } else if (p > p2) {
        i3 = i2; p3 = p2; i2 = k; p2 = p;
      } else if (p > p3) {
        i3 = k; p3 = p;
      }
    }
    if (Math.max(i1, i2, i3) >= this.names.length) return this.writeForeign([[i1, p1], [i2, p2], [i3, p3]], out, at);
    at = this.piece(p1 >= this.threshold && i1 >= 0 ? 3 * i1 : this.unknown, out, at);
    at = writeNumber(Math.max(0, p1), out, at);
    if (i1 < 0) return this.piece(this.emptyTop, out, at);
    at = writeNumber(p1, out, this.piece(3 * i1 + 1, out, at));
    if (i2 >= 0) at = writeNumber(p2, out, this.piece(3 * i2 + 2, out, at));
    if (i3 >= 0) at = writeNumber(p3, out, this.piece(3 * i3 + 2, out, at));
    return this.piece(this.close, out, at);
  }

  private piece(i: number, out: Uint8Array, at: number): number {
    return copy(this.bank, this.start[i]!, this.end[i]!, out, at);
  }

  /**
   * A model with more outputs than recorded class names (a foreign file) names the rest by
   * index: written through JSON.stringify, as the rare case it is.
   */
  private writeForeign(top: ReadonlyArray<readonly [number, number]>, out: Uint8Array, at: number): number {
    const round = (p: number): number => Math.round(p * 1e4) / 1e4;
    const name = (i: number): string => this.names[i] ?? `class ${i}`;
    const [i1, p1] = top[0] ?? [-1, -1];
    const label: ModelLabel = {
      label: p1 >= this.threshold && i1 >= 0 ? name(i1) : 'unknown',
      confidence: round(Math.max(0, p1)),
      top: top.filter(([i]) => i >= 0).map(([i, p]) => [name(i), round(p)] as const),
    };
    for (const b of Buffer.from(`${this.kindJson}:${JSON.stringify(label)}`)) out[at++] = b;
    return at;
  }
}

/**
 * The most bytes one model's member takes for one row (the batch buffers are sized with it:
 * batch-inputs.ts): the fixed pieces, four names (the label and the top 3) and four numbers at
 * their longest.
 */
export function labelBytesBound(kind: string, classes: readonly string[]): number {
  // 16: "unknown", and the name a class past the recorded ones gets ("class 1234567").
  const nameMax = Math.max(16, ...classes.map((c) => Buffer.byteLength(JSON.stringify(c))));
  return Buffer.byteLength(JSON.stringify(kind)) + Buffer.byteLength(FIXED) + 3 * 4 + 4 * nameMax + 4 * MAX_NUMBER;
}
