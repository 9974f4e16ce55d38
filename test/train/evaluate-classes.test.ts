// evaluate: which rows and classes the figures cover (rare labels, a label column the model does
// not know, classes only predicted, the threshold's abstentions). Found by review.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../agent/cli.js';
import { captureIO, synthetic, tempDir, writeCsv } from './helpers.js';

/** app0..app2 decided by f0, app3's rows labelled `unknown` (a true class), three app2 rows labelled rareX. */
function data(dir: string): { csv: string; header: string[]; rows: string[][] } {
  const s = synthetic({ rows: 400, classes: 4, features: 3, seed: 7, separable: true });
  let rare = 0;
  const rows = s.rows.map((r) => {
    const label = r.at(-1)!;
    if (label === 'app3') return [...r.slice(0, -1), 'unknown'];
    if (label === 'app2' && rare < 3) {
      rare++;
      return [...r.slice(0, -1), 'rareX'];
    }
    return r;
  });
  return { csv: writeCsv(join(dir, 'flows.csv'), s.header, rows), header: s.header, rows };
}

async function trained(dir: string, csv: string, rare: 'drop' | 'unknown'): Promise<string> {
  const model = join(dir, `${rare}.onnx`);
  const io = captureIO();
  const code = await main(['train', '--data', csv, '--label', 'app', '--out', model, '--trees', '10', '--threads', '1',
    '--min-class-flows', '10', '--rare', rare, '--holdout', '0'], io);
  if (code !== 0) throw new Error(io.err());
  return model;
}

async function evaluated(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO();
  const code = await main(['evaluate', ...args], io);
  return { code, out: io.out(), err: io.err() };
}

t.test('--rare drop: the dropped labels\' rows are left out, not scored as unknown', async (t) => {
  const dir = tempDir();
  const { csv } = data(dir);
  const model = await trained(dir, csv, 'drop');
  const r = await evaluated(['--model', model, '--data', csv, '--json']);
  t.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { rows: number; rows_rare_left_out: number; rows_rare_as_unknown: number; per_class: Record<string, { support: number }> };
  t.equal(j.rows, 397);
  t.equal(j.rows_rare_left_out, 3);
  t.equal(j.rows_rare_as_unknown, 0);
  t.equal(j.per_class['unknown']?.support, 100, 'the true unknown rows only');
  t.notOk(j.per_class['rareX'], 'no class for the dropped label');
  const text = await evaluated(['--model', model, '--data', csv]);
  t.match(text.out, /3 rows whose label training dropped as rare \(--rare drop\) left out/);
});

t.test('--rare unknown: the merged labels\' rows are scored as unknown, and said so', async (t) => {
  const dir = tempDir();
  const { csv } = data(dir);
  const model = await trained(dir, csv, 'unknown');
  const r = await evaluated(['--model', model, '--data', csv, '--json']);
  const j = JSON.parse(r.out) as { rows: number; rows_rare_as_unknown: number; per_class: Record<string, { support: number }> };
  t.equal(j.rows, 400);
  t.equal(j.rows_rare_as_unknown, 3);
  t.equal(j.per_class['unknown']?.support, 103);
});

t.test('a label column with no class of the model stops, naming the column it was trained on', async (t) => {
  const dir = tempDir();
  const { csv } = data(dir);
  const model = await trained(dir, csv, 'drop');
  const r = await evaluated(['--model', model, '--data', csv, '--label', 'sni']);
  t.equal(r.code, 1);
  t.match(r.err, /no label of column "sni" in .* is a class of the model \(app0, app1, app2, unknown\): the figures would measure nothing/);
  t.match(r.err, /the model was trained on column "app": give --label app/);
});

t.test('classes only predicted are named; the threshold\'s unknown is marked as no class in the report', async (t) => {
  const dir = tempDir();
  const { csv, header, rows } = data(dir);
  const model = await trained(dir, csv, 'drop');
  // app1's rows labelled app0: the model says app1, which the data never holds.
  const relabelled = writeCsv(join(dir, 'relabelled.csv'), header, rows.filter((r) => r.at(-1) === 'app0' || r.at(-1) === 'app1')
    .map((r) => [...r.slice(0, -1), 'app0']));
  const r = await evaluated(['--model', model, '--data', relabelled]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /macro-F1 [\d.]+ \(over 2 classes\)/);
  t.match(r.out, /predicted but not in the data \(f1 0 in macro-F1\): app1\n/);
  const report = join(dir, 'r.html');
  const th = await evaluated(['--model', model, '--data', csv, '--threshold', '1', '--report', report]);
  t.equal(th.code, 0, th.err);
  t.match(th.out, /\(over 4 classes\)/, 'the rejected rows\' unknown is the true class here, so a class');
  // A model without an unknown class: the rejected rows' unknown is an abstention.
  const noUnknown = writeCsv(join(dir, 'no-unknown.csv'), header, rows.filter((r) => /^app[01]$/.test(r.at(-1)!)));
  const twoClasses = await trained(dir, noUnknown, 'unknown');
  const th2 = await evaluated(['--model', twoClasses, '--data', noUnknown, '--threshold', '1', '--report', report]);
  t.match(th2.out, /\(over 2 classes\)/);
  t.equal(th2.code, 0, th2.err);
  const html = readFileSync(report, 'utf8');
  t.match(html, /<td>unknown \(rows under the threshold: no class, not in macro-F1\)<\/td>/);
  t.match(html, /<tr><th>classes<\/th><td>2<\/td><\/tr>/);
});

t.test('--threshold is a decimal number, as train\'s are', async (t) => {
  const dir = tempDir();
  const { csv } = data(dir);
  const model = await trained(dir, csv, 'drop');
  for (const bad of ['0x1', '', '1.5', '-0.1']) {
    const r = await evaluated(['--model', model, '--data', csv, `--threshold=${bad}`]);
    t.equal(r.code, 2, bad);
    t.match(r.err, `--threshold must be a number between 0 and 1 (got "${bad}")`);
  }
});

t.test('labels the model has no class for are named with their rows; the threshold\'s share of unknown is said', async (t) => {
  const dir = tempDir();
  const { csv, header, rows } = data(dir);
  const model = await trained(dir, csv, 'unknown');
  const renamed = writeCsv(join(dir, 'new.csv'), header, rows.map((r) => (r.at(-1) === 'app1' ? [...r.slice(0, -1), 'appNEW'] : r)));
  const r = await evaluated(['--model', model, '--data', renamed, '--report', join(dir, 'n.html')]);
  t.equal(r.code, 0, r.err);
  // The model has an `unknown` class: it was taught that every other label is that.
  t.match(r.out, /labels that are no class of the model, scored as unknown \(its class for every other app\): appNEW \(100\)\n/);
  t.match(readFileSync(join(dir, 'n.html'), 'utf8'), /labels that are no class of the model, scored as unknown \(its class for every other app\): appNEW \(100\)/);
  const j = JSON.parse((await evaluated(['--model', model, '--data', renamed, '--json'])).out) as { labels_not_in_model: Record<string, number>; labels_not_in_model_scored_as: string; per_class: Record<string, { support: number }> };
  t.same(j.labels_not_in_model, { appNEW: 100 });
  t.equal(j.labels_not_in_model_scored_as, 'unknown');
  t.equal(j.per_class['unknown']?.support, 203, 'true unknown 100, rareX 3 and appNEW 100');
  t.notOk(j.per_class['appNEW']);
  // Without an `unknown` class each such row is wrong.
  const closedData = writeCsv(join(dir, 'closed.csv'), header, rows.filter((r) => /^app[01]$/.test(r.at(-1)!)));
  const closed = await trained(dir, closedData, 'drop');
  const renamedClosed = writeCsv(join(dir, 'new-closed.csv'), header, rows.filter((r) => /^app[01]$/.test(r.at(-1)!))
    .map((r) => (r.at(-1) === 'app1' ? [...r.slice(0, -1), 'appNEW'] : r)));
  const c = await evaluated(['--model', closed, '--data', renamedClosed]);
  t.match(c.out, /labels that are no class of the model, every row counted wrong: appNEW \(100\)\n/);
  // A model with an unknown class, data without one: the rejected rows are its unknown's predictions.
  const noUnknown = writeCsv(join(dir, 'no-unknown.csv'), header, rows.filter((r) => /^app[01]$/.test(r.at(-1)!)));
  const th = await evaluated(['--model', model, '--data', noUnknown, '--threshold', '1']);
  t.match(th.out, /predicted but not in the data \(f1 0 in macro-F1\): unknown \(\d+ of its rows under --threshold\)/);
});

t.test('a closed model with --threshold: rows labelled unknown that are rejected count right, and the note says so', async (t) => {
  const dir = tempDir();
  const { csv, header, rows } = data(dir);
  // No `unknown` class in the model: trained on app0..app2 only. Boosting's probabilities never
  // reach 1, so --threshold 1 rejects every row, those labelled unknown (app3's) included.
  const closedData = writeCsv(join(dir, 'closed.csv'), header, rows.filter((r) => /^app[012]$/.test(r.at(-1)!)));
  const model = join(dir, 'closed.onnx');
  const io = captureIO();
  t.equal(await main(['train', '--data', closedData, '--label', 'app', '--out', model, '--algo', 'gbdt', '--trees', '5',
    '--threads', '1', '--holdout', '0'], io), 0, io.err());
  const r = await evaluated(['--model', model, '--data', csv, '--threshold', '1']);
  t.equal(r.code, 0, r.err);
  const j = JSON.parse((await evaluated(['--model', model, '--data', csv, '--threshold', '1', '--json'])).out) as { per_class: Record<string, { recall: number; support: number }> };
  t.equal(j.per_class['unknown']?.support, 100);
  t.equal(j.per_class['unknown']?.recall, 1, 'every row labelled unknown was rejected, so predicted unknown');
  t.notMatch(r.out, /every row counted wrong: /, 'not "every row wrong" when the rows count right');
  t.match(r.out, /every row counted wrong \(but rows labelled unknown count right when rejected under --threshold\): unknown \(100\)/);
});
