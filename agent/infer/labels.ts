/** Probabilities to labels: top class (or "unknown" under the threshold), confidence, top 3. */
import type { ModelLabel } from './types.js';

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
  return { label: p1 >= threshold && i1 >= 0 ? classes[i1]! : 'unknown', confidence, top };
}

function round(p: number): number {
  return Math.round(p * 1e4) / 1e4;
}
