/**
 * The C row formatter (native/row_format.c) against AsciiBuffer.num(), its
 * reference: the same bytes for every value, and -1 exactly where num() falls
 * back to String(v). Over every feature value of every flow of the sample
 * capture and of the shared nDPI captures (skipped when absent), and millions
 * of seeded doubles aimed at num()'s branches: integers of every magnitude
 * around 2^53, decimals, ties of the rounding to millionths and their
 * neighbouring doubles, tiny and subnormal values, -0, NaN and infinities.
 */
import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NUMBER_ROOM, rowFormat } from '../../agent/features/format.js';
import { extractFile } from '../../agent/flows/extract-file.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { NDPI_PCAPS } from '../helpers/ndpi.js';
import { rng } from '../helpers/fuzz.js';

const native = rowFormat();
const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;

/** num() with its String(v) fallback counted: it is the only path that calls str(). */
class Spy extends AsciiBuffer {
  fallbacks = 0;
  override str(s: string): void {
    this.fallbacks++;
    super.str(s);
  }
}

/** Runs values through both formatters, batch by batch; keeps the first mismatches for the report. */
class Differ {
  values = 0;
  fallbacks = 0;
  readonly mismatches: string[] = [];
  private readonly out = Buffer.alloc(1 << 16);

  /** ",v0,v1,..." as num() writes it, and whether any value took String(v). */
  private reference(values: Float64Array): { bytes: Buffer; fallback: boolean } {
    const a = new Spy(values.length * 26);
    for (let i = 0; i < values.length; i++) {
      a.byte(44);
      a.num(values[i]!);
    }
    return { bytes: Buffer.from(a.take()), fallback: a.fallbacks > 0 };
  }

  check(values: Float64Array, what: string): void {
    this.values += values.length;
    const want = this.reference(values);
    const end = native.csvNumbers(values, this.out, 0);
    if (want.fallback) {
      if (end !== -1) this.fail(`${what}: ${end} for a row num() writes with String(v)`);
      // Every value alone too: -1 exactly for those that fall back, the same bytes for the rest.
      for (let i = 0; i < values.length; i++) this.one(values[i]!, what);
      return;
    }
    if (end === -1 || Buffer.compare(this.out.subarray(0, end), want.bytes) !== 0) {
      for (let i = 0; i < values.length; i++) this.one(values[i]!, what);
      if (!this.mismatches.length) this.fail(`${what}: the row differs though every value alone matches`);
    }
  }

  private one(v: number, what: string): void {
    const want = this.reference(Float64Array.of(v));
    const end = native.csvNumbers(Float64Array.of(v), this.out, 0);
    if (want.fallback) {
      this.fallbacks++;
      if (end !== -1) this.fail(`${what}: ${v} (${bits(v)}): wrote "${this.out.toString('latin1', 0, end)}", num() uses String(v)`);
    } else if (end === -1) {
      this.fail(`${what}: ${v} (${bits(v)}): -1, num() writes "${want.bytes.toString('latin1')}"`);
    } else if (Buffer.compare(this.out.subarray(0, end), want.bytes) !== 0) {
      this.fail(`${what}: ${v} (${bits(v)}): "${this.out.toString('latin1', 0, end)}", num() writes "${want.bytes.toString('latin1')}"`);
    }
  }

  private fail(m: string): void {
    if (this.mismatches.length < 20) this.mismatches.push(m);
    else if (this.mismatches.length === 20) this.mismatches.push('...');
  }
}

const view = new DataView(new ArrayBuffer(8));

function bits(v: number): string {
  view.setFloat64(0, v);
  return '0x' + view.getBigUint64(0).toString(16).padStart(16, '0');
}

/** The double `k` steps (ulps of the bit pattern) from v; stays a double, may cross into NaN/Infinity at the ends. */
function step(v: number, k: number): number {
  view.setFloat64(0, v);
  view.setBigUint64(0, BigInt.asUintN(64, view.getBigUint64(0) + BigInt(k)));
  return view.getFloat64(0);
}

function fromBits(hi: number, lo: number): number {
  view.setUint32(0, hi >>> 0);
  view.setUint32(4, lo >>> 0);
  return view.getFloat64(0);
}

/** Collects values into rows of 250 (a feature row's length) and checks each full row. */
class Rows {
  private readonly row = new Float64Array(250);
  private n = 0;
  constructor(private readonly d: Differ, private readonly what: string) {}
  add(v: number): void {
    this.row[this.n++] = v;
    if (this.n === this.row.length) this.flush();
  }
  flush(): void {
    if (this.n) this.d.check(this.row.subarray(0, this.n), this.what);
    this.n = 0;
  }
}

t.test('every feature value of real flows is written as num() writes it', { timeout: 900_000 }, async (t) => {
  const d = new Differ();
  let flows = 0;
  const captures = [SAMPLE];
  const haveShared = existsSync(NDPI_PCAPS);
  if (haveShared) for (const f of readdirSync(NDPI_PCAPS).sort()) if (/\.(pcap|pcapng|cap)$/.test(f)) captures.push(join(NDPI_PCAPS, f));
  for (const file of captures) {
    let r;
    try {
      r = await extractFile(file);
    } catch {
      continue; // unreadable captures are the readers' tests' business
    }
    for (const rec of r.flows) d.check(rec.features, file);
    flows += r.flows.length;
  }
  t.comment(`${captures.length} captures${haveShared ? '' : ' (no shared nDPI captures: sample only)'}, ${flows} flows, ` +
    `${d.values} values, ${d.fallbacks} written with String(v)`);
  t.ok(flows > 0, 'flows were extracted');
  t.same(d.mismatches, [], 'identical bytes for every flow');
});

t.test('seeded doubles aimed at every branch of num() give identical bytes, and -1 where num() uses String(v)', { timeout: 900_000 }, async (t) => {
  const r = rng(20261126);
  const u32 = (): number => Math.floor(r() * 2 ** 32);
  /** A uniform integer in [0, 2^bits) for bits <= 53. */
  const uint = (bits: number): number => (u32() * 2 ** 21 + (u32() >>> 11)) % 2 ** bits;
  const sign = (v: number): number => (r() < 0.5 ? -v : v);
  const digits = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(Math.floor(r() * 10));
    return s;
  };
  const total: Record<string, number> = {};
  const d = new Differ();
  const run = (what: string, count: number, gen: () => number): void => {
    const rows = new Rows(d, what);
    for (let i = 0; i < count; i++) rows.add(gen());
    rows.flush();
    total[what] = count;
  };

  // Integers of every binary magnitude, below, at and beyond 2^53 (doubles there are all integers).
  run('integers', 600_000, () => {
    const e = Math.floor(r() * 70);
    const v = e <= 53 ? 2 ** e + uint(e) : 2 ** e * (1 + r());
    return sign(e <= 52 ? v : Math.floor(v));
  });
  run('integers near 2^53', 20_000, () => sign(2 ** 53 + Math.floor(r() * 64) - 32));
  // Decimals with 0-9 fraction digits, parsed as a CSV reader would, integer parts up to 10^13.
  run('decimals', 1_000_000, () => Number(`${r() < 0.5 ? '-' : ''}${digits(1 + Math.floor(r() * 13)).replace(/^0+(?=.)/, '')}.${digits(Math.floor(r() * 10))}`));
  // Ties of the rounding: x.xxxxxx5 exactly as text, k + 0.5 millionths as a double product, and neighbours.
  run('ties as text', 300_000, () => {
    const v = Number(`${sign(1) < 0 ? '-' : ''}${uint(Math.floor(r() * 34))}.${digits(6)}5`);
    return step(v, Math.floor(r() * 7) - 3);
  });
  run('ties as products', 300_000, () => {
    const k = uint(Math.floor(r() * 52));
    const v = (k + 0.5) / 1e6;
    return sign(step(v, Math.floor(r() * 9) - 4));
  });
  // Where millionths reach 2^53: num() switches to String(v) there.
  run('millionths near 2^53', 100_000, () => sign(step(2 ** 53 / 1e6, Math.floor(r() * 2001) - 1000)));
  run('large non-integers', 100_000, () => sign(1e15 * (1 + r() * 3.5) + 0.5 * (1 + Math.floor(r() * 3))));
  // Around zero: values that round to 0, to -0, and to one millionth either way.
  const tiny = [1e-7, -1e-7, 4e-7, -4e-7, 5e-7, -5e-7, 6e-7, -6e-7, 1e-6, -1e-6, 1.5e-6, -1.5e-6, -1e-9, 1e-9, 0.5e-6, -0.5e-6];
  run('tiny', 200_000, () => {
    const v = r() < 0.3 ? tiny[Math.floor(r() * tiny.length)]! : sign(r() * 2e-6);
    return step(v, Math.floor(r() * 9) - 4);
  });
  run('subnormals', 50_000, () => sign(fromBits(u32() & 0x000fffff, u32())));
  // Any bit pattern at all (NaNs with payloads, infinities, every exponent), and exponents where output is written.
  run('random bits', 300_000, () => fromBits(u32(), u32()));
  run('random exponents', 300_000, () => sign((1 + r()) * 2 ** (Math.floor(r() * 100) - 45)));
  const specials = [0, -0, NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
    Number.EPSILON, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, -(2 ** 53), 2 ** 52 + 0.5, 1e15, 1e15 + 0.5, 1e21, 0.1 + 0.2, 9007199254.740991,
    9007199254.740992, 9007199254.7409915, -9007199254.7409915, 2.5e-7, 0.9999995, -0.9999995, 1.0000005, 4503599627370495.5];
  run('specials', specials.length * 20, (() => {
    let i = 0;
    return () => specials[i++ % specials.length]!;
  })());

  const all = Object.values(total).reduce((a, b) => a + b, 0);
  t.comment(`${all} values (${Object.entries(total).map(([k, v]) => `${k} ${v}`).join(', ')}); ${d.fallbacks} written with String(v)`);
  t.ok(d.fallbacks > 0, 'values that num() writes with String(v) were among them');
  t.same(d.mismatches, [], 'identical bytes, -1 exactly where num() uses String(v)');
});

t.test('bad arguments are refused without writing outside the array', async (t) => {
  const f = Float64Array.of(1, 2.5, -3);
  const buf = Buffer.alloc(200, 0xaa);
  const call = native.csvNumbers as (...a: unknown[]) => number;
  t.throws(() => call(), TypeError, 'no arguments');
  t.throws(() => call(null, buf, 0), TypeError, 'values null');
  t.throws(() => call([1, 2], buf, 0), TypeError, 'values a plain array');
  t.throws(() => call(Float32Array.of(1), buf, 0), TypeError, 'values a Float32Array');
  t.throws(() => call(f, new Uint16Array(100), 0), TypeError, 'out a Uint16Array');
  t.throws(() => call(f, new Uint8ClampedArray(100), 0), TypeError, 'out a Uint8ClampedArray');
  t.throws(() => call(f, new DataView(new ArrayBuffer(100)), 0), TypeError, 'out a DataView');
  t.throws(() => call(f, buf.buffer, 0), TypeError, 'out an ArrayBuffer');
  for (const pos of [-1, 0.5, NaN, Infinity, 201, 2 ** 64]) t.throws(() => call(f, buf.subarray(0, 200), pos), RangeError, `pos ${pos}`);
  t.throws(() => call(f, buf, '0'), TypeError, 'pos a string');
  t.throws(() => call(f, buf), TypeError, 'pos missing');

  // Too little room: -1 and nothing written past the end of out (a view with guard bytes after it).
  const out = buf.subarray(50, 50 + 3 * NUMBER_ROOM - 1);
  t.equal(native.csvNumbers(f, out, 0), -1, 'one byte short of the room asked for');
  t.equal(native.csvNumbers(f, out, out.length), -1, 'pos at the end');
  t.ok(buf.every((b) => b === 0xaa), 'nothing written');
  const room = buf.subarray(50, 50 + 3 * NUMBER_ROOM);
  t.equal(native.csvNumbers(f, room, 0), 9, 'exactly the room asked for');
  t.equal(room.toString('latin1', 0, 9), ',1,2.5,-3');
  t.ok(buf.subarray(0, 50).every((b) => b === 0xaa) && buf.subarray(50 + 9).every((b) => b === 0xaa), 'only the row written');
  t.equal(native.csvNumbers(new Float64Array(0), buf, 200), 200, 'no values at the end: nothing to write');
  t.equal(native.csvNumbers(new Float64Array(0), Buffer.alloc(0), 0), 0, 'no values, empty out');

  // Output over the input's own memory would read numbers already overwritten: refused.
  const shared = new Float64Array(100);
  shared.fill(1.25);
  t.equal(native.csvNumbers(shared.subarray(0, 10), new Uint8Array(shared.buffer), 0), -1, 'out over the values');

  // Detached arrays look empty.
  const gone = new Float64Array(4);
  structuredClone(gone.buffer, { transfer: [gone.buffer] });
  t.equal(native.csvNumbers(gone, buf, 0), 0, 'detached values: nothing to write');
  const goneOut = new Uint8Array(1000);
  structuredClone(goneOut.buffer, { transfer: [goneOut.buffer] });
  t.equal(native.csvNumbers(f, goneOut, 0), -1, 'detached out: no room');
});
