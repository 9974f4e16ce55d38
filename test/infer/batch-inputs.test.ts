// The batch matrices go round: a worker's answer brings them back, and the next batches are written into them.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { BatchInputs } from '../../agent/infer/batch-inputs.js';
import { loadModels } from '../../agent/infer/models.js';
import { labelBytesBound } from '../../agent/infer/labels.js';
import { tinyModel } from '../helpers/models.js';

const F = FEATURE_NAMES.length;
const row = (v: number): { features: Float64Array } => ({ features: new Float64Array(F).fill(v) });

t.test('buffers are reused, sized for a full batch and the answers, and never hold a stale row', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-batch-'));
  const app = await tinyModel(dir, 'app', ['a', 'b']);
  const attr = await tinyModel(dir, 'attribution', ['c', 'd']);
  const loaded = await loadModels({ app: { path: app, threshold: 0.5 }, attribution: { path: attr, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
  // As the shipped models: every feature of the registry, in its order.
  const models = loaded.map((x) => ({ ...x, meta: { ...x.meta, features: FEATURE_NAMES } }));
  const inputs = new BatchInputs(models, FEATURE_NAMES, 8);
  const first = inputs.task([row(1), row(2), row(3)]);
  t.equal(first.transfer.length, 1, 'models reading the same columns share one matrix');
  const sent = first.transfer[0]!;
  t.equal(sent.byteLength, 8 * F * 8, 'made for a full batch (the features take more room than the answers)');
  t.same([...first.task.inputs['app']!.subarray(0, 2 * F)].filter((_, i) => i % F === 0), [1, 2]);
  // What a worker does: the buffer is transferred there and back.
  const back = structuredClone(sent, { transfer: [sent] });
  t.equal(sent.byteLength, 0, 'detached here while the worker has it');
  inputs.recycle([back]);
  const second = inputs.task([row(7), row(8)]);
  t.equal(second.transfer[0], back, 'the returned buffer is written again');
  const m = second.task.inputs['app']!;
  t.equal(m.length, 2 * F, 'the view covers this batch only');
  t.same([m[0], m[F], m[2 * F - 1]], [7, 8, 8]);
  t.equal(second.task.inputs['attribution'], m);
  // A single feature: the rows must still have room for both models' answers.
  const one = await loadModels({ app: { path: app, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
  const narrow = new BatchInputs(one.map((x) => ({ ...x, meta: { ...x.meta, features: [FEATURE_NAMES[0]!] } })), FEATURE_NAMES, 4);
  const n = narrow.task([row(5)]);
  // The worker writes each row's end (4 bytes) and its labels' JSON over the first matrix.
  const answer = 4 * (4 + labelBytesBound('app', one[0]!.meta.classes) + 1);
  t.ok(n.transfer[0]!.byteLength >= answer, `room for the answers of a full batch: ${n.transfer[0]!.byteLength} >= ${answer} bytes`);
  t.same([...n.task.inputs['app']!], [5]);
});
