/**
 * The loader's growing stores (dataset.ts): float32 feature columns appended row by row and
 * handed to the training workers as one shared column-major matrix, and label names as ids.
 */
/** Append-only float32 columns that grow by doubling. */
export class Columns {
  private cap = 4096;
  n = 0;
  readonly cols: Float32Array[];
  constructor(nCols: number) {
    this.cols = Array.from({ length: nCols }, () => new Float32Array(this.cap));
  }
  push(row: Float64Array): void {
    if (this.n === this.cap) {
      this.cap *= 2;
      for (let f = 0; f < this.cols.length; f++) {
        const bigger = new Float32Array(this.cap);
        bigger.set(this.cols[f] as Float32Array);
        this.cols[f] = bigger;
      }
    }
    for (let f = 0; f < this.cols.length; f++) (this.cols[f] as Float32Array)[this.n] = row[f] as number;
    this.n++;
  }
  toShared(): Float32Array {
    return this.into(new Float32Array(new SharedArrayBuffer(Math.max(4, this.cols.length * this.n * 4))));
  }
  /** As toShared, in an ordinary buffer: a part read once in this thread (dataset.ts LoadOptions.parts). */
  toColumnMajor(): Float32Array {
    return this.into(new Float32Array(this.cols.length * this.n));
  }
  private into(out: Float32Array): Float32Array {
    this.cols.forEach((c, f) => out.set(c.subarray(0, this.n), f * this.n));
    return out;
  }
}

/** Label names as dense ids, in order of first sight. */
export class Interner {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(s, i);
      this.names.push(s);
    }
    return i;
  }
}
