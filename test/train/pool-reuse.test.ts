// Workers are kept warm between fits of one process: a reused worker must learn from the new data,
// never from the data of the fit before (regression guard for the idle-worker cache).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { releaseIdleWorkers } from '../../agent/train/pool.js';
import { trainModel, type TrainOptions } from '../../agent/train/run-train.js';
import { synthetic, tempDir, writeCsv } from './helpers.js';

const dir = tempDir();
const one = synthetic({ rows: 600, classes: 4, features: 6, seed: 11, separable: false });
const two = synthetic({ rows: 700, classes: 3, features: 9, seed: 12, separable: true });
const csvOne = writeCsv(join(dir, 'one.csv'), one.header, one.rows);
const csvTwo = writeCsv(join(dir, 'two.csv'), two.header, two.rows);

const opts = (data: string, out: string, algo: 'rf' | 'gbdt', threads: number): TrainOptions => ({
  data, label: 'app', out: join(dir, out), algo, trees: algo === 'rf' ? 12 : 4, minClassFlows: 1, rare: 'unknown',
  classWeight: 'none', seed: 5, holdout: 0.2, threads, badRows: 'skip', infinity: 'bad', kind: 'app',
  registryHash: 'r', trainedAt: '2024-01-01T00:00:00.000Z', producerVersion: 't',
});

for (const algo of ['rf', 'gbdt'] as const) {
  t.test(`${algo}: fits in a row with warm workers equal a fit in this thread alone`, async (t) => {
    await trainModel(opts(csvOne, `${algo}-one.onnx`, algo, 3));
    await trainModel(opts(csvTwo, `${algo}-two.onnx`, algo, 3));
    await trainModel(opts(csvOne, `${algo}-one-again.onnx`, algo, 3));
    await trainModel(opts(csvTwo, `${algo}-two-alone.onnx`, algo, 1));
    const bytes = (f: string): Buffer => readFileSync(join(dir, f));
    t.ok(bytes(`${algo}-one-again.onnx`).equals(bytes(`${algo}-one.onnx`)), 'the first data again: same model');
    t.ok(bytes(`${algo}-two.onnx`).equals(bytes(`${algo}-two-alone.onnx`)), 'reused workers learnt the second data');
  });
}

t.test('an interrupted fit does not leave a busy worker for the next one', async (t) => {
  const ac = new AbortController();
  const run = trainModel({ ...opts(csvOne, 'stopped.onnx', 'rf', 3), trees: 400, signal: ac.signal, onProgress: (phase, done) => {
    if (phase === 'fit' && done === 5) ac.abort();
  } });
  await t.rejects(run, /interrupted/);
  await trainModel(opts(csvOne, 'after.onnx', 'rf', 3));
  t.ok(readFileSync(join(dir, 'after.onnx')).equals(readFileSync(join(dir, 'rf-one.onnx'))), 'the next fit is unaffected');
  await releaseIdleWorkers();
});
