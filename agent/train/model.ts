/**
 * The trained model as the trainer holds it, in exactly the shape it is
 * exported to ONNX: trees of float32 `x <= threshold` splits whose leaves
 * carry sparse (class, float32 value) votes. The score of class c is
 * base[c] + the sum of the votes for c of the leaves a row reaches, then:
 *   rf:   scores are the probabilities (each vote is already p / nTrees);
 *   gbdt: probabilities = softmax(scores).
 * `predictProba` is the reference the ONNX round-trip test compares against.
 */

/** One tree; node 0 is the root; all arrays are transferable typed arrays. */
export interface Tree {
  /** Split feature of each node, -1 for a leaf. */
  readonly feature: Int32Array;
  /** float32 threshold: go left (ONNX "true" branch) when x <= threshold; NaN goes right. */
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Votes of node i are leafClass/leafValue[valueStart[i] .. valueStart[i + 1]); empty for splits. */
  readonly valueStart: Int32Array;
  readonly leafClass: Int32Array;
  readonly leafValue: Float32Array;
}

export type Algo = 'rf' | 'gbdt';

export interface TreeEnsemble {
  readonly algo: Algo;
  readonly nFeatures: number;
  readonly classes: readonly string[];
  readonly trees: readonly Tree[];
  /** Added to each class score (gbdt: log prior); zeros for rf. float32 values. */
  readonly base: Float32Array;
}

/** Index of the leaf the row reaches; `get(f)` returns the row's float32 feature value. */
export function leafOf(t: Tree, get: (f: number) => number): number {
  let n = 0;
  for (;;) {
    const f = t.feature[n] as number;
    if (f < 0) return n;
    // `<=` is false for NaN: missing values take the right branch, as in onnxruntime with
    // nodes_missing_value_tracks_true = 0.
    n = get(f) <= (t.threshold[n] as number) ? (t.left[n] as number) : (t.right[n] as number);
  }
}

/**
 * Class probabilities for the given rows (default: all) of a column-major
 * float32 matrix (x[f * nRows + r]); returns row-major [rows * nClasses].
 */
export function predictProba(m: TreeEnsemble, x: Float32Array, nRows: number, rows?: Int32Array): Float64Array {
  const C = m.classes.length;
  const n = rows ? rows.length : nRows;
  const out = new Float64Array(n * C);
  let r = 0;
  const get = (f: number): number => x[f * nRows + r] as number;
  for (let i = 0; i < n; i++) {
    r = rows ? (rows[i] as number) : i;
    const s = out.subarray(i * C, i * C + C);
    s.set(m.base);
    for (const t of m.trees) {
      const leaf = leafOf(t, get);
      for (let k = t.valueStart[leaf] as number; k < (t.valueStart[leaf + 1] as number); k++) {
        s[t.leafClass[k] as number] += t.leafValue[k] as number;
      }
    }
    if (m.algo === 'gbdt') softmaxInPlace(s);
  }
  return out;
}

export function softmaxInPlace(s: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < s.length; c++) if ((s[c] as number) > max) max = s[c] as number;
  let sum = 0;
  for (let c = 0; c < s.length; c++) {
    const e = Math.exp((s[c] as number) - max);
    s[c] = e;
    sum += e;
  }
  for (let c = 0; c < s.length; c++) s[c] = (s[c] as number) / sum;
}

/** Index of the largest probability in each row; ties go to the lower class index (as onnxruntime). */
export function argmaxRows(p: Float64Array | Float32Array, nClasses: number): Int32Array {
  const n = p.length / nClasses;
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let c = 1; c < nClasses; c++) if ((p[r * nClasses + c] as number) > (p[r * nClasses + best] as number)) best = c;
    out[r] = best;
  }
  return out;
}

/** Growable node storage used by both tree builders. */
export class TreeBuilder {
  private feature: number[] = [];
  private threshold: number[] = [];
  private left: number[] = [];
  private right: number[] = [];
  private start: number[] = [];
  private cls: number[] = [];
  private val: number[] = [];

  /** Reserve a node id; it is a leaf until `split` is called. */
  add(): number {
    this.feature.push(-1);
    this.threshold.push(0);
    this.left.push(-1);
    this.right.push(-1);
    this.start.push(-1);
    return this.feature.length - 1;
  }

  split(node: number, feature: number, threshold: number, left: number, right: number): void {
    this.feature[node] = feature;
    this.threshold[node] = threshold;
    this.left[node] = left;
    this.right[node] = right;
  }

  /** Votes of a leaf; leaves must be given votes in node-id order (see finish). */
  vote(node: number, cls: number, value: number): void {
    if (this.start[node] === -1) this.start[node] = this.cls.length;
    this.cls.push(cls);
    this.val.push(value);
  }

  finish(): Tree {
    // Votes were appended leaf by leaf in whatever order leaves were finished; reorder by node id.
    const n = this.feature.length;
    const order = [...Array(n).keys()].filter((i) => (this.start[i] as number) >= 0)
      .sort((a, b) => (this.start[a] as number) - (this.start[b] as number));
    const lens = new Map<number, number>();
    order.forEach((node, i) => {
      const next = i + 1 < order.length ? (this.start[order[i + 1] as number] as number) : this.cls.length;
      lens.set(node, next - (this.start[node] as number));
    });
    const valueStart = new Int32Array(n + 1);
    const leafClass = new Int32Array(this.cls.length);
    const leafValue = new Float32Array(this.cls.length);
    let k = 0;
    for (let i = 0; i < n; i++) {
      valueStart[i] = k;
      const s = this.start[i] as number;
      for (let j = 0; j < (lens.get(i) ?? 0); j++, k++) {
        leafClass[k] = this.cls[s + j] as number;
        leafValue[k] = this.val[s + j] as number;
      }
    }
    valueStart[n] = k;
    return {
      feature: Int32Array.from(this.feature),
      threshold: Float32Array.from(this.threshold),
      left: Int32Array.from(this.left),
      right: Int32Array.from(this.right),
      valueStart,
      leafClass,
      leafValue,
    };
  }
}
