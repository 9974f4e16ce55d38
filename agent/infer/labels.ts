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
 * names, and every number a rounded probability can be (k / 10000); native/label_json.c copies
 * them for a whole batch in one call, and Labels.writeRow below, the same in JavaScript, writes
 * what C leaves to it (probabilities outside [0, 1], more outputs than class names).
 */

import { loadAddon } from '../lib/addon.js';
import type { InferAnswer, ModelLabel } from './types.js';

/** A table of byte pieces: piece i is bank[start[i], end[i]). */
interface PieceTable {
  readonly bank: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

/** Builds a PieceTable; its first pieces are the numbers (piece k is k / 10000). */
class Pieces {
  private readonly bytes: number[];
  private readonly start: number[];
  private readonly end: number[];

  constructor(from?: Pieces) {
    this.bytes = from ? from.bytes.slice() : [];
    this.start = from ? from.start.slice() : [];
    this.end = from ? from.end.slice() : [];
  }

  /** Pieces so far: the index of the next. */
  get count(): number {
    return this.start.length;
  }

  add(s: string): number {
    this.start.push(this.bytes.length);
    // ASCII (every number, most class names) byte by byte: a Buffer per piece made the 10,001
    // numbers' table cost 20 ms at every worker's start, on the way to its first batch.
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (ascii) for (let i = 0; i < s.length; i++) this.bytes.push(s.charCodeAt(i));
    else for (const b of Buffer.from(s, 'utf8')) this.bytes.push(b);
    this.end.push(this.bytes.length);
    return this.start.length - 1;
  }

  seal(): PieceTable {
    return { bank: Uint8Array.from(this.bytes), start: Int32Array.from(this.start), end: Int32Array.from(this.end) };
  }
}

const MAX_K = 10_000;

/**
 * The numbers' pieces, made once, on first use (the main thread imports this module for
 * labelsRowBytes only): every table starts with them.
 */
let numbers: Pieces | undefined;
function numberPieces(): Pieces {
  if (numbers === undefined) {
    numbers = new Pieces();
    for (let k = 0; k <= MAX_K; k++) numbers.add(JSON.stringify(k / 1e4));
  }
  return numbers;
}

/** The most bytes a number takes: JSON.stringify of any double (outside the table: NaN is "null"). */
const MAX_NUMBER = 24;

/** The constant parts of a model's member, for the bound below. */
const FIXED = [':{"label":', ',"confidence":', ',"top":[', '],', ']}'].join('');

/** Numbers per model in the descriptor label_json.c reads: first piece, class names, then the "unknown", "]]}" and ',"top":[]}' pieces. */
const DESC_WIDTH = 5;

interface LabelJsonNative {
  labelsJson(out: Uint8Array, ends: Uint32Array, rows: number, probs: Float32Array[], desc: Int32Array,
    thresholds: Float64Array, bank: Uint8Array, start: Int32Array, end: Int32Array): number;
}

let native: LabelJsonNative | null | undefined;
/** Why the addon could not be loaded (undefined while it loads or once it has). */
let nativeMissing: string | undefined;

/**
 * The addon, or null when it is not built: the labels are then written in JavaScript (slower, the
 * same bytes), and labelWriterProblem() says why, for the log (the worker's probe reports it).
 * ETA_FAULT_NO_LABEL_ADDON=1 (tests only) takes it for missing.
 */
function labelJsonNative(): LabelJsonNative | null {
  if (native === undefined) {
    try {
      if (process.env['ETA_FAULT_NO_LABEL_ADDON'] === '1') throw new Error('ETA_FAULT_NO_LABEL_ADDON is set');
      native = loadAddon<LabelJsonNative>('label_json', "label writer's native module");
    } catch (e) {
      native = null;
      nativeMissing = (e as Error).message;
    }
  }
  return native;
}

/** Why this thread writes labels in JavaScript rather than with label_json.c, or undefined when it does not. */
export function labelWriterProblem(): string | undefined {
  labelJsonNative();
  return nativeMissing;
}

/** What a worker needs of a model to write its labels. */
export interface LabelModel {
  readonly kind: string;
  readonly classes: readonly string[];
  readonly threshold: number;
}

/**
 * Every model's labels for a batch, one worker's. Each model's pieces, per class C:
 * `"kind":{"label":"C","confidence":` (C the label), `,"top":[["C",` (C first of the top 3) and
 * `],["C",` (second or third); then the "unknown" label's, the end `]]}`, and the end of a model
 * without classes, `,"top":[]}`.
 */
export class Labels {
  private readonly table: PieceTable;
  private readonly desc: Int32Array;
  private readonly thresholds: Float64Array;
  /** The most bytes one row takes: every model's member at its longest, and the commas between. */
  readonly rowBytes: number;
  /** Batches written by label_json.c, and by JavaScript (tests read these). */
  readonly written = { native: 0, js: 0 };

  constructor(private readonly models: readonly LabelModel[]) {
    const p = new Pieces(numberPieces());
    const desc: number[] = [];
    for (const m of models) {
      const k = JSON.stringify(m.kind);
      const base = p.count;
      for (const c of m.classes) {
        const name = JSON.stringify(c);
        p.add(`${k}:{"label":${name},"confidence":`);
        p.add(`,"top":[[${name},`);
        p.add(`],[${name},`);
      }
      desc.push(base, m.classes.length, p.add(`${k}:{"label":"unknown","confidence":`), p.add(']]}'), p.add(',"top":[]}'));
    }
    this.table = p.seal();
    this.desc = Int32Array.from(desc);
    this.thresholds = Float64Array.from(models.map((m) => m.threshold));
    this.rowBytes = labelsRowBytes(models);
  }

  /**
   * Writes the labels of `rows` rows (probs[m] holds model m's rows × classes) into out, row r
   * ending at ends[r]; returns the bytes written. Throws when out cannot hold them (batch-inputs.ts
   * sizes it with labelsRowBytes).
   */
  write(probs: Float32Array[], rows: number, out: Uint8Array, ends: Uint32Array): number {
    const c = labelJsonNative();
    if (c && rows > 0) {
      const t = this.table;
      const n = c.labelsJson(out, ends, rows, probs, this.desc, this.thresholds, t.bank, t.start, t.end);
      if (n >= 0) {
        this.written.native++;
        return n;
      }
    }
    this.written.js++;
    let at = 0;
    for (let r = 0; r < rows; r++) {
      if (at + this.rowBytes > out.length) throw new Error(`the labels of ${rows} rows do not fit the batch's buffer (${out.length} bytes)`);
      for (let m = 0; m < this.models.length; m++) {
        if (m > 0) out[at++] = 0x2c;
        const p = probs[m]!;
        const width = p.length / rows;
        at = this.writeRow(m, p, r * width, width, out, at);
      }
      ends[r] = at;
    }
    return at;
  }

  /**
   * Writes model m's member for the row of `width` probabilities at probs[offset] into out at
   * `at`; returns where it ends. The top 3 come from one pass: cheaper than sorting, and ties
   * keep the first class. label_json.c's write_row does the same.
   */
  writeRow(m: number, probs: Float32Array, offset: number, width: number, out: Uint8Array, at: number): number {
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
    const model = this.models[m]!;
    if (Math.max(i1, i2, i3) >= model.classes.length) return this.writeForeign(model, [[i1, p1], [i2, p2], [i3, p3]], out, at);
    const d = m * DESC_WIDTH;
    const base = this.desc[d]!;
    at = this.piece(p1 >= model.threshold && i1 >= 0 ? base + 3 * i1 : this.desc[d + 2]!, out, at);
    at = this.number(Math.max(0, p1), out, at);
    if (i1 < 0) return this.piece(this.desc[d + 4]!, out, at);
    at = this.number(p1, out, this.piece(base + 3 * i1 + 1, out, at));
    if (i2 >= 0) at = this.number(p2, out, this.piece(base + 3 * i2 + 2, out, at));
    if (i3 >= 0) at = this.number(p3, out, this.piece(base + 3 * i3 + 2, out, at));
    return this.piece(this.desc[d + 3]!, out, at);
  }

  /** Copies piece i into out at `at`, by a loop: pieces are a few bytes, and TypedArray.set costs more per call. */
  private piece(i: number, out: Uint8Array, at: number): number {
    const { bank, start, end } = this.table;
    for (let b = start[i]!, e = end[i]!; b < e; b++) out[at++] = bank[b]!;
    return at;
  }

  /** The JSON of Math.round(p * 1e4) / 1e4, as JSON.stringify would write it. */
  private number(p: number, out: Uint8Array, at: number): number {
    const k = Math.round(p * 1e4);
    if (k >= 0 && k <= MAX_K) return this.piece(k, out, at);
    for (const b of Buffer.from(JSON.stringify(k / 1e4) ?? 'null')) out[at++] = b;
    return at;
  }

  /**
   * A model with more outputs than recorded class names (a foreign file) names the rest by
   * index: written through JSON.stringify, as the rare case it is.
   */
  private writeForeign(model: LabelModel, top: ReadonlyArray<readonly [number, number]>, out: Uint8Array, at: number): number {
    const round = (p: number): number => Math.round(p * 1e4) / 1e4;
    const name = (i: number): string => model.classes[i] ?? `class ${i}`;
    const [i1, p1] = top[0] ?? [-1, -1];
    const label: ModelLabel = {
      label: p1 >= model.threshold && i1 >= 0 ? name(i1) : 'unknown',
      confidence: round(Math.max(0, p1)),
      top: top.filter(([i]) => i >= 0).map(([i, p]) => [name(i), round(p)] as const),
    };
    for (const b of Buffer.from(`${JSON.stringify(model.kind)}:${JSON.stringify(label)}`)) out[at++] = b;
    return at;
  }
}

/** The most bytes one row's labels take: every model's member at its longest, and a comma after each. */
export function labelsRowBytes(models: ReadonlyArray<Pick<LabelModel, 'kind' | 'classes'>>): number {
  return models.reduce((sum, m) => sum + labelBytesBound(m.kind, m.classes) + 1, 0);
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

/** Each row's labels in a worker's answer (its text, cut at `ends`), as the string a record carries. */
export function forEachRow(answer: Pick<InferAnswer, 'text' | 'ends'>, rows: number, each: (row: number, json: string) => void): void {
  const text = Buffer.from(answer.text.buffer, answer.text.byteOffset, answer.text.byteLength);
  let start = 0;
  for (let r = 0; r < rows; r++) {
    const end = answer.ends[r]!;
    each(r, text.toString('utf8', start, end));
    start = end;
  }
}
