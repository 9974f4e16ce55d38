/** Header names as every flow-CSV reader takes them: trimmed, and duplicates made unique without a collision. */
import t from 'tap';
import { cleanHeader } from '../../agent/lib/csv-header.js';

t.test('duplicates take pandas-style suffixes, skipping a name the header already has', async (t) => {
  t.same(cleanHeader([' Flow Duration', 'Fwd Header Length', 'Fwd Header Length']), ['Flow Duration', 'Fwd Header Length', 'Fwd Header Length.1']);
  t.same(cleanHeader(['a', 'a', 'a.1']), ['a', 'a.2', 'a.1'], 'found by review: it gave a, a.1, a.1');
  t.same(cleanHeader(['a', 'a.1', 'a', 'a.1', 'a']), ['a', 'a.1', 'a.2', 'a.1.1', 'a.3']);
  t.same(cleanHeader(['', 'x', ' ']), ['column_1', 'x', 'column_3'], 'an empty name is named by its position');
  for (const h of [['a', 'a', 'a.1'], ['b', 'b', 'b', 'b.2', 'b.1'], ['c.1', 'c', 'c', 'c']]) {
    const out = cleanHeader(h);
    t.equal(new Set(out).size, out.length, `${h.join(',')}: every name unique (${out.join(',')})`);
  }
});
