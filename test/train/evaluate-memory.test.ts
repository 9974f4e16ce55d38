// evaluate keeps no row: each part of the file is classified as it is read and only the counts of
// (true, predicted) pairs stay (found by review: 5.2 GB of memory to evaluate a 2 GB CSV, more
// than training on it). The figures do not depend on the size of the parts.
import t from 'tap';
import { join } from 'node:path';
import { evaluateModel } from '../../agent/train/run-evaluate.js';
import { quickTrain, synthetic, tempDir, writeCsv } from './helpers.js';

t.test('evaluate holds no row of the file, and its figures do not depend on the part size', async (t) => {
  const dir = tempDir();
  const s = synthetic({ rows: 300, classes: 4, features: 5, seed: 12, separable: false });
  const csv = writeCsv(join(dir, 'd.csv'), s.header, s.rows);
  const model = join(dir, 'm.onnx');
  t.equal((await quickTrain(['--data', csv, '--label', 'app', '--out', model, '--holdout', '0'])).code, 0);
  const run = (batch: number): ReturnType<typeof evaluateModel> =>
    evaluateModel({ model, data: csv, threshold: 0.6, badRows: 'skip', batch });
  const small = await run(7);
  const whole = await run(100_000);
  t.equal(small.dataset.nRows, 300);
  t.equal(small.dataset.x.length, 0, 'no feature value kept');
  t.equal(small.dataset.y?.length ?? 0, 0, 'no label kept');
  t.equal(whole.dataset.x.length, 0, 'nor with one part');
  t.equal(small.metrics.rows, 300);
  t.same(small.metrics, whole.metrics, 'parts of 7 rows give the figures of one part');
  t.ok(small.metrics.unknown_share > 0 && small.metrics.accuracy < 1, 'a test with errors and rejections');
});
