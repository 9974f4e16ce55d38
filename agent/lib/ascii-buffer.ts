/**
 * Builds output text straight into a byte buffer. Extraction writes hundreds
 * of numbers per flow; formatting each through String() and concatenating
 * cost more than assembling the flows themselves, so digits are written by
 * hand here, without creating strings or garbage.
 */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];

export class AsciiBuffer {
  buf: Buffer;
  pos = 0;

  constructor(size = 1 << 17) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Make room for `n` more bytes (grows; callers drain with take() between records). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  str(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A non-negative or negative integer below 2^53. */
  int(v: number): void {
    this.ensure(24);
    const b = this.buf;
    if (v < 0) {
      b[this.pos++] = 45; // '-'
      v = -v;
    }
    if (v < 10) {
      b[this.pos++] = 48 + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      b[--p] = 48 + (v - q * 10);
      v = q;
    }
    b[--p] = 48 + v;
  }

  /**
   * A finite number with at most `decimals` (<= 6) fraction digits, trailing
   * zeros dropped: 1.5, 0.000123, 42. Non-finite values write nothing (an
   * empty CSV cell), so NaN never reads back as a number.
   */
  num(v: number, decimals = 6): void {
    if (Number.isInteger(v)) {
      if (Math.abs(v) < 9007199254740992) this.int(v);
      else this.str(String(v));
      return;
    }
    if (!Number.isFinite(v)) return;
    const scale = POW10[decimals]!;
    // Round on the signed value, as String(Math.round(v * 1e6) / 1e6) would.
    let scaled = Math.round(v * scale);
    const neg = scaled < 0;
    if (neg) scaled = -scaled;
    if (scaled >= 9007199254740992) {
      this.str(String(v));
      return;
    }
    const ip = Math.floor(scaled / scale);
    let frac = scaled - ip * scale;
    if (neg) this.byte(45);
    this.int(ip);
    if (frac === 0) return;
    let d = decimals;
    while (frac % 10 === 0) {
      frac /= 10;
      d--;
    }
    this.ensure(d + 1);
    const b = this.buf;
    b[this.pos++] = 46; // '.'
    let p = this.pos + d;
    this.pos = p;
    for (let i = 0; i < d; i++) {
      const q = Math.floor(frac / 10);
      b[--p] = 48 + (frac - q * 10);
      frac = q;
    }
  }

  /** The bytes written so far (a copy-free view), resetting the buffer. Use the view before writing more. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    return out;
  }
}
