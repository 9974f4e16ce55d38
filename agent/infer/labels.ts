/**
 * Probabilities to labels, in two halves. The worker keeps only each row's top 3 (topThree):
 * the main thread, which also runs the flow meter, then never scans 128 probabilities per flow,
 * and a batch's answer is 6 numbers per row and model instead of one per class. The main thread
 * names them (labelOf): the top class, or "unknown" under the threshold, confidence, top 3.
 */
import type { ModelLabel } from './types.js';

/** Numbers per row and model in a worker's answer: class index and probability of the top 3, best first; index -1 when the model has fewer classes. */
export const TOP_WIDTH = 6;

/** The top 3 of probs[offset, offset + classes) into out[at, at + TOP_WIDTH), by one pass: cheaper than sorting. */
export function topThree(probs: Float32Array, offset: number, classes: number, out: Float32Array, at: number): void {
  let i1 = -1, i2 = -1, i3 = -1;
  let p1 = -1, p2 = -1, p3 = -1;
  for (let k = 0; k < classes; k++) {
    const p = probs[offset + k]!;
    if (p > p1) {
      i3 = i2; p3 = p2; i2 = i1; p2 = p1; i1 = k; p1 = p;
    } else if (p > p2) {
      i3 = i2; p3 = p2; i2 = k; p2 = p;
    } else if (p > p3) {
      i3 = k; p3 = p;
    }
  }
  out[at] = i1; out[at + 1] = p1;
  out[at + 2] = i2; out[at + 3] = p2;
  out[at + 4] = i3; out[at + 5] = p3;
}

/** The label of one row and model from topThree's numbers at top[at]. */
export function labelOf(top: Float32Array, at: number, classes: readonly string[], threshold: number): ModelLabel {
  const list: Array<readonly [string, number]> = [];
  for (let k = 0; k < 3; k++) {
    const i = top[at + 2 * k]!;
    if (i >= 0) list.push([classes[i] ?? `class ${i}`, round(top[at + 2 * k + 1]!)]);
  }
  const i1 = top[at]!, p1 = top[at + 1]!;
  return { label: p1 >= threshold && i1 >= 0 ? list[0]![0] : 'unknown', confidence: round(Math.max(0, p1)), top: list };
}

function round(p: number): number {
  return Math.round(p * 1e4) / 1e4;
}
