/**
 * Quantile binning, computed once per training run.
 *
 * Why bins: split search then scans at most 255 candidate thresholds per
 * feature over uint8 codes (a quarter of the memory traffic of float32, and no
 * per-node sorting), for RF as well as GBDT. Features with at most `maxBins`
 * distinct training values lose nothing: every boundary between two distinct
 * values is a candidate, as in an exact (sorting) tree learner.
 *
 * Why float32 edges: the exported model compares float32 inputs with float32
 * thresholds (ONNX TreeEnsembleClassifier, BRANCH_LEQ). An edge is a float32
 * `t` with lo <= t < hi between two adjacent distinct training values, and a
 * value's bin is the number of edges below it, so for every input v
 * (training or not): bin(v) <= b  <=>  v <= edges[b]. The trainer's binned
 * decisions and the exported float comparisons therefore agree exactly.
 * NaN has no bin (training data never holds NaN, see dataset.ts); at inference
 * `NaN <= t` is false, so NaN goes to the right (false) branch in both.
 */

/** Per feature, ascending float32 thresholds; bin b holds edges[b-1] < v <= edges[b]. */
export type Edges = Float32Array[];

/** Largest number of bins per feature: codes fit in a uint8. */
export const MAX_BINS = 255;

/** A float32 threshold strictly below hi and not below lo (lo < hi, both float32). */
export function midpoint(lo: number, hi: number): number {
  const m = Math.fround(lo / 2 + hi / 2);
  return m >= hi || m < lo ? lo : m;
}

/** Bin edges per feature from the given rows of a column-major matrix. */
export function computeEdges(x: Float32Array, nRows: number, nFeatures: number, rows: Int32Array, maxBins = MAX_BINS): Edges {
  const maxB = Math.min(MAX_BINS, Math.max(2, maxBins));
  const buf = new Float32Array(rows.length);
  const edges: Edges = [];
  for (let f = 0; f < nFeatures; f++) {
    const off = f * nRows;
    for (let i = 0; i < rows.length; i++) buf[i] = x[off + (rows[i] as number)] as number;
    buf.sort();
    edges.push(featureEdges(buf, maxB));
  }
  return edges;
}

function featureEdges(sorted: Float32Array, maxB: number): Float32Array {
  const n = sorted.length;
  const out: number[] = [];
  let distinct = n > 0 ? 1 : 0;
  for (let i = 1; i < n && distinct <= maxB; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= maxB) {
    for (let i = 1; i < n; i++) {
      if (sorted[i] !== sorted[i - 1]) out.push(midpoint(sorted[i - 1] as number, sorted[i] as number));
    }
    return Float32Array.from(out);
  }
  // Quantile cuts: after the value at each k/maxB quantile, cut before the next larger value.
  // A value holding many rows spans several quantiles and still gets a single bin.
  let last = -Infinity;
  for (let k = 1; k < maxB; k++) {
    let i = Math.floor((k * n) / maxB);
    const v = sorted[i] as number;
    if (v <= last) continue;
    while (i < n && sorted[i] === v) i++;
    if (i >= n) break;
    out.push(midpoint(v, sorted[i] as number));
    last = v;
  }
  return Float32Array.from(out);
}

/** Bin code of v: the number of edges strictly below it. */
export function binOf(e: Float32Array, v: number): number {
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((e[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Column-major uint8 codes of every row, in a SharedArrayBuffer (workers read it without a copy). */
export function binMatrix(x: Float32Array, nRows: number, edges: Edges): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(Math.max(1, nRows * edges.length)));
  edges.forEach((e, f) => {
    const off = f * nRows;
    for (let r = 0; r < nRows; r++) out[off + r] = binOf(e, x[off + r] as number);
  });
  return out;
}
