/** Probabilities to labels: top class (or "unknown" under the threshold), confidence, top 3. */
import type { ModelLabel } from './types.js';

/**
 * A label made by labelRow, which knows its own JSON text (labelJson). A class, so that the
 * text is only ever taken from objects of exactly this shape.
 */
class RowLabel implements ModelLabel {
  constructor(
    readonly label: string,
    readonly confidence: number,
    readonly top: ReadonlyArray<readonly [string, number]>,
  ) {}
}

export function labelRow(probs: Float32Array, offset: number, classes: readonly string[], threshold: number): ModelLabel {
  const c = classes.length;
  // Top 3 by one pass: cheaper than sorting 128 classes per flow.
  let i1 = -1, i2 = -1, i3 = -1;
  let p1 = -1, p2 = -1, p3 = -1;
  for (let k = 0; k < c; k++) {
    const p = probs[offset + k]!;
    if (p > p1) {
      i3 = i2; p3 = p2; i2 = i1; p2 = p1; i1 = k; p1 = p;
    } else if (p > p2) {
      i3 = i2; p3 = p2; i2 = k; p2 = p;
    } else if (p > p3) {
      i3 = k; p3 = p;
    }
  }
  const top: Array<readonly [string, number]> = [];
  for (const [i, p] of [[i1, p1], [i2, p2], [i3, p3]] as const) if (i >= 0) top.push([classes[i]!, round(p)]);
  const confidence = round(Math.max(0, p1));
  return new RowLabel(p1 >= threshold && i1 >= 0 ? classes[i1]! : 'unknown', confidence, top);
}

function round(p: number): number {
  return Math.round(p * 1e4) / 1e4;
}

/**
 * JSON of k / 1e4 for k = 0..10000: every probability labelRow gives (rounded to 4 decimals)
 * is one of these. JSON.stringify of the 8 probabilities of a flow's two labels (the shortest
 * digits of a double, computed afresh each time) was half the cost of serializing a record.
 */
const PROBABILITY_JSON: readonly string[] = Array.from({ length: 10_001 }, (_, k) => JSON.stringify(k / 1e4));
const nameJson = new Map<string, string>();

/** For round()'s results only: k / 1e4 is then p itself. Outside [0, 1] (a broken model) or NaN: JSON.stringify. */
function probabilityJson(p: number): string {
  const k = Math.round(p * 1e4);
  return k >= 0 && k <= 10_000 ? PROBABILITY_JSON[k]! : JSON.stringify(p);
}

function classJson(name: string): string {
  let j = nameJson.get(name);
  if (j === undefined) {
    j = JSON.stringify(name);
    // Class names come from the models (at most a few hundred); bounded all the same.
    if (nameJson.size < 4096) nameJson.set(name, j);
  }
  return j;
}

/** JSON.stringify(m), exactly, and faster for labels made by labelRow. */
export function labelJson(m: ModelLabel | null): string {
  if (!(m instanceof RowLabel)) return JSON.stringify(m);
  let s = '{"label":' + classJson(m.label) + ',"confidence":' + probabilityJson(m.confidence) + ',"top":[';
  const t = m.top;
  for (let i = 0; i < t.length; i++) {
    const [name, p] = t[i]!;
    s += (i === 0 ? '[' : ',[') + classJson(name) + ',' + probabilityJson(p) + ']';
  }
  return s + ']}';
}
