/** CSV replay's reader on its own: a replay stopped before its first row reads none. */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvInput, readCsvRows } from '../../agent/capture/csv-rows.js';

t.test('an input stopped before the first row (Ctrl-C while starting) reads no row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-rows-'));
  const csv = join(dir, 'rows.csv');
  writeFileSync(csv, 'a,b\n' + '1,2\n'.repeat(50_000));
  const seen: number[] = [];
  const stopped = new AbortController();
  stopped.abort();
  const r = await readCsvRows(await CsvInput.open(csv), ['a', 'b'], (rec) => void seen.push(rec.features[0]!), { badRows: 'skip', onBadRow: () => undefined }, stopped.signal);
  t.equal(r.rows, 0);
  t.equal(seen.length, 0, 'the 50,000 rows were not replayed');
  const all = await readCsvRows(await CsvInput.open(csv), ['a', 'b'], () => undefined, { badRows: 'skip', onBadRow: () => undefined });
  t.equal(all.rows, 50_000, 'without the signal, every row');
});
