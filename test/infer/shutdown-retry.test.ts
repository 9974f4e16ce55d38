/**
 * A worker that dies after the shutdown's labelling deadline: the batches it held are not retried
 * (the queue was emptied at the deadline, and the stuck-batch timer only looks at batches at a
 * worker), they are published unlabeled "shutdown" and the drain ends. Found by review: the second
 * batch waited in the retries behind the first for ever, drain() never resolved, and its flows
 * were neither published nor counted.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { Classifier } from '../../agent/infer/classifier.js';
import { loadModels } from '../../agent/infer/models.js';
import type { ClassifyResult } from '../../agent/infer/types.js';
import { tinyModel } from '../helpers/models.js';

t.test('a worker dying after the shutdown deadline: its batches are published unlabeled, and the drain ends', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-shutdown-retry-'));
  const app = await tinyModel(dir, 'app', ['chat', 'web', 'video']);
  const models = await loadModels({ app: { path: app, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
  // Read by each worker at each task: the first batch ends its worker (once), and the worker
  // started in its place never answers (a stuck worker).
  const marker = join(dir, 'die-once');
  process.env['ETA_FAULT_WORKER_EXIT'] = marker;
  t.teardown(() => {
    delete process.env['ETA_FAULT_WORKER_EXIT'];
    delete process.env['ETA_FAULT_WORKER_STALL'];
  });
  const tel = createTelemetry();
  const results = new Map<number, ClassifyResult>();
  const c = new Classifier<{ id: number; features: Float64Array }>(models, FEATURE_NAMES,
    { workers: 1, batchSize: 4, batchTimeoutMs: 1000, maxQueue: 1000, maxWaitMs: 5000, mode: 'shed' }, tel,
    (it, r) => { t.notOk(results.has(it.id), `flow ${it.id} answered once`); results.set(it.id, r); });
  await c.ready;
  process.env['ETA_FAULT_WORKER_STALL'] = '1';
  writeFileSync(marker, '');
  for (let i = 0; i < 8; i++) c.submit({ id: i, features: new Float64Array(FEATURE_NAMES.length) }); // 2 batches, both at the worker
  c.shutDownAt(Date.now());
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([c.drain().then(() => 'drained'), new Promise((r) => { timer = setTimeout(() => r('timeout'), 4000); })]);
  clearTimeout(timer);
  t.equal(drained, 'drained', 'drain() resolves');
  t.equal(results.size, 8, 'every flow has one result');
  t.same(new Set([...results.values()].map((r) => r.unlabeled)), new Set(['shutdown']), 'unlabeled "shutdown"');
  t.equal(c.backlog, 0);
  t.notOk(tel.counters.get('infer.batch-retried'), 'nothing retried past the deadline');
  // The stuck worker would keep the process alive: end the pool without waiting for its batch.
  await (c as unknown as { pool: { piscina: { destroy(): Promise<void> } } }).pool.piscina.destroy().catch(() => undefined);
});
