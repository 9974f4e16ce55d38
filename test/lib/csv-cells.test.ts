/** One rule for a feature cell, shared by train, evaluate and CSV replay. */
import t from 'tap';
import { cellValue, clampedInfinity, parseCell } from '../../agent/lib/csv-cells.js';

t.test('cells beyond float32 are infinity, whether or not the double overflows too', async (t) => {
  // Found by review: "1e400" (beyond the double as well) was text, which --infinity clamp does not clamp.
  for (const s of ['1e39', '-1e39', '1e400', '-1e400', ' 1E400 ', 'inf', '-Infinity']) t.equal(cellValue(s), 'infinity', s);
  t.equal(clampedInfinity('-1e400'), -clampedInfinity('1e400'));
  t.equal(parseCell('3.4e38'), Math.fround(3.4e38));
  t.equal(cellValue('1e5'), 1e5);
  t.equal(cellValue(''), 'empty');
  t.equal(cellValue('nan'), 'nan');
  t.equal(cellValue('1e400x'), 'text');
});
