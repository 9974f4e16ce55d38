// Same seed and data give byte-identical ONNX files, whatever the thread count.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainModel, type TrainOptions } from '../../agent/train/run-train.js';
import { synthetic, tempDir, writeCsv } from './helpers.js';

const dir = tempDir();
const s = synthetic({ rows: 900, classes: 5, features: 10, seed: 4, separable: false });
const csv = writeCsv(join(dir, 'd.csv'), s.header, s.rows);

const opts = (algo: 'rf' | 'gbdt', threads: number, seed: number): TrainOptions => ({
  data: csv, label: 'app', out: join(dir, `${algo}-${threads}-${seed}.onnx`), algo, trees: algo === 'rf' ? 16 : 6,
  minClassFlows: 1, rare: 'unknown', classWeight: 'none', seed, holdout: 0.2, threads, badRows: 'skip',
  infinity: 'bad', kind: 'app', registryHash: 'r', trainedAt: '2024-01-01T00:00:00.000Z', producerVersion: 't',
});

for (const algo of ['rf', 'gbdt'] as const) {
  t.test(`${algo}: 1 thread and 2 threads give the same bytes`, async (t) => {
    const a = await trainModel(opts(algo, 1, 7));
    const b = await trainModel(opts(algo, 2, 7));
    const bytesA = readFileSync(opts(algo, 1, 7).out);
    const bytesB = readFileSync(opts(algo, 2, 7).out);
    t.equal(a.modelBytes, b.modelBytes);
    t.ok(bytesA.equals(bytesB), 'byte-identical');
    const again = await trainModel({ ...opts(algo, 2, 7), out: join(dir, `${algo}-again.onnx`) });
    t.equal(again.modelBytes, a.modelBytes);
    t.ok(readFileSync(join(dir, `${algo}-again.onnx`)).equals(bytesA), 'repeatable');
  });
}

t.test('a different seed gives a different forest', async (t) => {
  await trainModel(opts('rf', 2, 8));
  t.notOk(readFileSync(opts('rf', 2, 8).out).equals(readFileSync(opts('rf', 1, 7).out)));
});
