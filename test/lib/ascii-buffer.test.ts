import t from 'tap';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';

t.test('numbers are written as String(Math.round(v * 1e6) / 1e6) would', async (t) => {
  const values = [0, -0, 1, 9, 10, 99, 100, 999, 1000, 65535, 123456789, 2 ** 40, -7, -123, 0.5, 1.25, -0.5234375, 0.1 + 0.2,
    1e-7, 3.1415926535, 1234.000001, 99.9999999, 2 ** 53 - 1, 1e21, 6080 / 4, 1480 / 9];
  let seed = 3;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 5000; i++) values.push((rnd() - 0.3) * 10 ** Math.floor(rnd() * 9), Math.floor(rnd() * 2 ** 32));
  for (const v of values) {
    const a = new AsciiBuffer(8);
    a.num(v);
    const want = Number.isInteger(v) ? String(v === 0 ? 0 : v) : String(Math.round(v * 1e6) / 1e6);
    if (a.take().toString() !== want) t.fail(`${v}: wrote ${a.take().toString()} want ${want}`);
  }
  t.pass(`${values.length} values`);
  const nan = new AsciiBuffer(8);
  nan.num(NaN);
  nan.num(Infinity);
  t.equal(nan.take().toString(), '', 'non-finite values write an empty cell');
});
