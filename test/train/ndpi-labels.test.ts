// Real foreign-format data (nDPI's labels.csv): the loader's choices and a train/evaluate run.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../../agent/train/dataset.js';
import { trainModel } from '../../agent/train/run-train.js';
import { tempDir } from './helpers.js';

const CSV = '/work/shared/data/ndpi/labels.csv';

t.test('nDPI labels.csv', { skip: existsSync(CSV) ? false : `${CSV} is absent` }, async (t) => {
  const ds = await loadDataset(CSV, { label: 'app', group: 'pcap' });
  t.equal(ds.report.rowsRead, 9288);
  t.same(ds.featureNames, ['bidirectional', 'encrypted', 'c2s_pkts', 'c2s_bytes', 's2c_pkts', 's2c_bytes', 'duration_s']);
  t.equal(ds.report.rowsSkipped + ds.nRows, 9288, 'every row is used or counted');
  t.ok(ds.report.skippedBy['duration_s'], 'empty durations are counted against their column');
  const res = await trainModel({
    data: CSV, label: 'category', out: join(tempDir(), 'cat.onnx'), algo: 'rf', trees: 20, minClassFlows: 10,
    rare: 'unknown', classWeight: 'none', seed: 1, holdout: 0.2, threads: 2, badRows: 'skip', infinity: 'bad',
    kind: 'category', registryHash: 'none', trainedAt: '2024-01-01T00:00:00.000Z', producerVersion: 'test',
  });
  t.equal(res.meta.data?.group_by, 'pcap', 'held out by capture');
  t.ok((res.holdout?.accuracy ?? 0) > 0.2, `held-out accuracy ${res.holdout?.accuracy}`);
});
