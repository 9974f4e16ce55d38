// The worker writes each model's label as JSON bytes (labels.ts, in C by native/label_json.c);
// they must be exactly what JSON.stringify gives for the label object, for every row a model can
// produce, by either path.
import t from 'tap';
import { forEachRow, Labels, labelBytesBound } from '../../agent/infer/labels.js';
import type { ModelLabel } from '../../agent/infer/types.js';

const CLASSES = ['a', 'b', 'c', 'd', 'e'];

/** The label as the main thread built it before the workers wrote JSON: a sort, not one pass. */
function reference(probs: readonly number[], classes: readonly string[], threshold: number): ModelLabel {
  const f = Float32Array.from(probs);
  const round = (p: number): number => Math.round(p * 1e4) / 1e4;
  const order = [...f.keys()].filter((k) => !Number.isNaN(f[k])).sort((x, y) => f[y]! - f[x]! || x - y).slice(0, 3);
  const p1 = order.length > 0 ? f[order[0]!]! : -1;
  return {
    label: order.length > 0 && p1 >= threshold ? classes[order[0]!] ?? `class ${order[0]}` : 'unknown',
    confidence: round(Math.max(0, p1)),
    top: order.map((k) => [classes[k] ?? `class ${k}`, round(f[k]!)] as const),
  };
}

/**
 * What the JavaScript writer gives for one row, written at an offset between other rows' bytes,
 * and what the batch writer (C when it can) gives for the same row in a batch of three: the two
 * must agree.
 */
function written(probs: readonly number[], classes: readonly string[], threshold: number, kind = 'app'): string {
  const w = new Labels([{ kind, classes, threshold }]);
  const max = w.rowBytes - 1;
  const out = new Uint8Array(7 + max + 7).fill(0x21);
  // Three rows in one matrix: only the middle one is written.
  const matrix = Float32Array.from([9, 9, ...probs, 9]);
  const end = w.writeRow(0, matrix, 2, probs.length, out, 7);
  // Checked on every call, reported only when broken (the random test below makes thousands).
  if (end - 7 > max) t.fail(`past the bound: ${end - 7} > ${max}`);
  if (!out.subarray(0, 7).every((b) => b === 0x21) || !out.subarray(end).every((b) => b === 0x21)) t.fail('written outside the row');
  const row = Buffer.from(out.subarray(7, end)).toString('utf8');
  const batch = new Float32Array(3 * probs.length).fill(0.5);
  batch.set(probs, probs.length);
  const text = new Uint8Array(3 * w.rowBytes);
  const ends = new Uint32Array(3);
  w.write([batch], 3, text, ends);
  const second = Buffer.from(text.subarray(ends[0], ends[1])).toString('utf8');
  if (second !== row) t.fail(`the batch writer disagrees: ${second} against ${row}`);
  return row;
}

function expected(probs: readonly number[], classes: readonly string[], threshold: number, kind = 'app'): string {
  return `${JSON.stringify(kind)}:${JSON.stringify(reference(probs, classes, threshold))}`;
}

t.test('the top three, best first, with the label and its confidence', async (t) => {
  t.equal(written([0.1, 0.5, 0.05, 0.3, 0.05], CLASSES, 0.4), '"app":{"label":"b","confidence":0.5,"top":[["b",0.5],["d",0.3],["a",0.1]]}');
  t.equal(written([0.05, 0.1, 0.15, 0.3, 0.4], CLASSES, 0), expected([0.05, 0.1, 0.15, 0.3, 0.4], CLASSES, 0));
  t.equal(written([0.4, 0.3, 0.15, 0.1, 0.05], CLASSES, 0), expected([0.4, 0.3, 0.15, 0.1, 0.05], CLASSES, 0));
});

t.test('under the threshold the label is unknown, with the top classes still given', async (t) => {
  t.equal(written([0.2, 0.35, 0.15, 0.3, 0], CLASSES, 0.4), '"app":{"label":"unknown","confidence":0.35,"top":[["b",0.35],["d",0.3],["a",0.2]]}');
  // Exactly at the threshold is enough (float32 0.5 is exact).
  t.match(written([0.5, 0.5], ['x', 'y'], 0.5), /"label":"x"/);
});

t.test('probabilities are rounded to four places; a model with fewer than three classes gives fewer', async (t) => {
  t.equal(written([0.123456, 0.876544], ['x', 'y'], 0.5), '"app":{"label":"y","confidence":0.8765,"top":[["y",0.8765],["x",0.1235]]}');
  t.equal(written([1], ['only'], 0.5), '"app":{"label":"only","confidence":1,"top":[["only",1]]}');
  t.equal(written([], [], 0.5), '"app":{"label":"unknown","confidence":0,"top":[]}');
});

t.test('ties keep the first class', async (t) => {
  t.equal(written([0.25, 0.25, 0.25, 0.25, 0], CLASSES, 0.2), expected([0.25, 0.25, 0.25, 0.25, 0], CLASSES, 0.2));
  t.match(written([0.25, 0.25, 0.25, 0.25, 0], CLASSES, 0.2), /\["a",0\.25\],\["b",0\.25\],\["c",0\.25\]/);
});

t.test('numbers a model should not give are written as JSON.stringify writes them', async (t) => {
  for (const probs of [[1.00004, 0], [-0.00004, -0.2], [-0.5, -0.7, -0.1], [NaN, 0.3], [NaN, NaN], [Infinity, 0.1], [3e-5, 1e-9]]) {
    t.equal(written(probs, ['p', 'q', 'r'], 0.5), expected(probs, ['p', 'q', 'r'], 0.5), JSON.stringify(probs));
  }
});

t.test('names outside ASCII, names JSON must escape, and outputs past the recorded names', async (t) => {
  const names = ['café ☕', 'say "hi"', 'tab\there', '\u0001', '日本語'];
  const probs = [0.1, 0.3, 0.2, 0.15, 0.25];
  t.equal(written(probs, names, 0.2, 'attribution'), expected(probs, names, 0.2, 'attribution'));
  t.same(JSON.parse(`{${written(probs, names, 0.2)}}`), { app: reference(probs, names, 0.2) });
  // A model with more outputs than class names (a foreign file): the rest are named by index.
  t.equal(written([0.1, 0.2, 0.7], ['x'], 0.5), '"app":{"label":"class 2","confidence":0.7,"top":[["class 2",0.7],["class 1",0.2],["x",0.1]]}');
});

t.test('random rows of 1 to 130 classes: identical to JSON.stringify, and within the bound', async (t) => {
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const n = 1 + Math.floor(rand() * 130);
    const classes = Array.from({ length: n }, (_, k) => `class-${k}-${'x'.repeat(k % 17)}`);
    // Softmax-like rows, rows with many ties (coarse values), and rows of tiny values.
    const kind = i % 3;
    const probs = Array.from({ length: n }, () => (kind === 0 ? rand() : kind === 1 ? Math.floor(rand() * 4) / 4 : rand() * 1e-4));
    const threshold = rand();
    if (written(probs, classes, threshold) !== expected(probs, classes, threshold)) {
      t.fail(`row ${i}: ${JSON.stringify(probs)}`);
      break;
    }
    checked++;
  }
  t.equal(checked, 3000);
});

t.test('the bound covers the longest names and numbers', async (t) => {
  const long = ['x'.repeat(200), 'ü'.repeat(50)];
  t.ok(labelBytesBound('app', long) >= 4 * 202 + 4 * 24, 'four names and four numbers at their longest');
  // No recorded names: outputs are named "class N", and the bound still holds for them.
  t.equal(written([0.2, 0.1, 0.3, 0.4], [], 0.5), expected([0.2, 0.1, 0.3, 0.4], [], 0.5));
  t.equal(written([0.3, 0.7], long, 0.5), expected([0.3, 0.7], long, 0.5));
});

t.test('batches of two models: C writes them, identical to JavaScript; what C leaves, JavaScript writes', async (t) => {
  const app = Array.from({ length: 21 }, (_, k) => `app-${k}`);
  const usage = ['streaming', 'file_transfer', 'voip', 'browsing', 'chat'];
  const labels = new Labels([{ kind: 'app', classes: app, threshold: 0.5 }, { kind: 'attribution', classes: usage, threshold: 0.3 }]);
  let seed = 11;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const rows = 1024;
  const probs = [Float32Array.from({ length: rows * 21 }, rand), Float32Array.from({ length: rows * 5 }, () => Math.floor(rand() * 5) / 4)];
  const viaBatch = (p: Float32Array[]): string[] => {
    const text = new Uint8Array(rows * labels.rowBytes);
    const ends = new Uint32Array(rows);
    const n = labels.write(p, rows, text, ends);
    return Array.from(ends, (e, r) => Buffer.from(text.subarray(r === 0 ? 0 : ends[r - 1], e)).toString('utf8')).concat(n === ends[rows - 1] ? [] : ['bad length']);
  };
  const viaJs = (p: Float32Array[]): string[] => Array.from({ length: rows }, (_, r) => {
    const out = new Uint8Array(labels.rowBytes);
    const a = labels.writeRow(0, p[0]!, r * 21, 21, out, 0);
    out[a] = 0x2c;
    const b = labels.writeRow(1, p[1]!, r * 5, 5, out, a + 1);
    return Buffer.from(out.subarray(0, b)).toString('utf8');
  });
  t.same(viaBatch(probs), viaJs(probs), 'the same bytes for 1,024 rows');
  t.equal(labels.written.native, 1, 'written in C (the addon is built by npm ci)');
  t.same(JSON.parse(`{${viaBatch(probs)[5]}}`).app.top.length, 3);
  // A probability C leaves to JavaScript (NaN, over 1): the batch is written there, the same way.
  for (const odd of [NaN, 1.5, -0.25]) {
    const p = [probs[0]!.slice(), probs[1]!.slice()];
    p[0]![7 * 21 + 3] = odd;
    p[0]![7 * 21 + 4] = 2; // the top class of row 7
    const before = labels.written.js;
    t.same(viaBatch(p), viaJs(p), `a row with ${odd}`);
    t.equal(labels.written.js, before + 1, `${odd}: written by JavaScript`);
  }
  // Too small a buffer: refused, never written past.
  const small = new Uint8Array(labels.rowBytes * 2);
  t.throws(() => labels.write(probs, rows, small, new Uint32Array(rows)), /do not fit/);
});

t.test('the main thread cuts an answer into rows, ASCII or not', async (t) => {
  const rowsOf = (names: string[]): string[] => {
    const w = new Labels([{ kind: 'app', classes: names, threshold: 0 }]);
    const probs = Float32Array.from([0.7, 0.3, 0.2, 0.8]); // two rows of two classes
    const text = new Uint8Array(2 * w.rowBytes);
    const ends = new Uint32Array(2);
    const at = w.write([probs], 2, text, ends);
    const out: string[] = [];
    forEachRow({ text: text.subarray(0, at), ends }, 2, (r, json) => (out[r] = json));
    return out;
  };
  const ascii = rowsOf(['chat', 'web']);
  t.same(ascii.map((j) => (JSON.parse(`{${j}}`) as { app: ModelLabel }).app.label), ['chat', 'web']);
  const other = rowsOf(['чат', 'веб']);
  t.same(other.map((j) => (JSON.parse(`{${j}}`) as { app: ModelLabel }).app.label), ['чат', 'веб'], 'rows cut by bytes, then decoded');
});
