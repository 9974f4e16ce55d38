/**
 * Builds output text straight into a byte buffer. Extraction writes hundreds
 * of numbers per flow; formatting each through String() and concatenating
 * cost more than assembling the flows themselves, so digits are written by
 * hand here, without creating strings or garbage.
 */
import { IsoDay } from './iso-day.js';

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6];

/** v (0-99) as two digits at b[at]. */
function twoDigits(b: Uint8Array, at: number, v: number): void {
  const q = (v / 10) | 0;
  b[at] = 48 + q;
  b[at + 1] = 48 + v - q * 10;
}

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
    const n = s.length;
    this.ensure(n * 3);
    // Short ASCII text (addresses, names) is copied by hand: cheaper than an encoder call per field.
    if (n <= 64) {
      const b = this.buf;
      let p = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        b[p++] = c;
      }
      if (i === n) {
        this.pos = p;
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** s[from, to), characters below 256 (latin1: the texts of held-meta.ts), without slicing it first. */
  latin1(s: string, from: number, to: number): void {
    this.ensure(to - from);
    const b = this.buf;
    let p = this.pos;
    for (let i = from; i < to; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  private readonly isoDays = new IsoDay();
  /** The day isoDayBytes holds ("YYYY-MM-DDT"). */
  private isoDayText = '';
  private readonly isoDayBytes = new Uint8Array(11);

  /** µs since the epoch as ISO 8601 UTC with microseconds, e.g. 2026-11-25T22:30:50.580835Z; nothing for a bad time. */
  isoMicros(us: number): void {
    const sec = Math.floor(us / 1e6);
    let micro = Math.max(0, Math.min(999_999, Math.floor(us - sec * 1e6))); // as isoMicros in record.ts
    const day = this.isoDays.of(sec);
    let iso19: string | undefined;
    if (day === '') {
      // An invalid date, or a six-digit year (see IsoDay): as toISOString writes it.
      const d = new Date(sec * 1000);
      if (Number.isNaN(d.getTime())) return;
      iso19 = d.toISOString().slice(0, 19);
    }
    this.ensure(27);
    const b = this.buf;
    const at = this.pos;
    if (iso19 !== undefined) {
      b.write(iso19, at, 'latin1');
    } else {
      if (day !== this.isoDayText) {
        this.isoDayText = day;
        for (let i = 0; i < 11; i++) this.isoDayBytes[i] = day.charCodeAt(i);
      }
      b.set(this.isoDayBytes, at);
      const t = sec - Math.floor(sec / 86400) * 86400;
      const h = (t / 3600) | 0;
      const m = ((t - h * 3600) / 60) | 0;
      twoDigits(b, at + 11, h);
      b[at + 13] = 58; // ':'
      twoDigits(b, at + 14, m);
      b[at + 16] = 58;
      twoDigits(b, at + 17, t - h * 3600 - m * 60);
    }
    b[at + 19] = 46; // '.'
    let p = at + 26;
    b[p] = 90; // 'Z'
    for (let i = 0; i < 6; i++) {
      const q = (micro / 10) | 0;
      b[--p] = 48 + micro - q * 10;
      micro = q;
    }
    this.pos = at + 27;
  }

  /** A non-negative or negative integer below 2^53. */
  int(v: number): void {
    this.ensure(24);
    const b = this.buf;
    let p = this.pos;
    if (v < 0) {
      b[p++] = 45; // '-'
      v = -v;
    }
    // Most values are small counts: branch on magnitude instead of counting digits in a loop.
    if (v < 10) {
      b[p] = 48 + v;
      this.pos = p + 1;
      return;
    }
    if (v < 100) {
      const q = (v / 10) | 0;
      b[p] = 48 + q;
      b[p + 1] = 48 + v - q * 10;
      this.pos = p + 2;
      return;
    }
    let digits = 3;
    for (let t = 1000; v >= t && digits < 16; t *= 10) digits++;
    let end = p + digits;
    this.pos = end;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      b[--end] = 48 + (v - q * 10);
      v = q;
    }
    b[--end] = 48 + v;
  }

  /**
   * A finite number with at most `decimals` (<= 6) fraction digits, trailing
   * zeros dropped: 1.5, 0.000123, 42. Non-finite values write nothing (an
   * empty CSV cell), so NaN never reads back as a number.
   */
  num(v: number, decimals = 6): void {
    if (v === 0) {
      this.ensure(1);
      this.buf[this.pos++] = 48;
      return;
    }
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
