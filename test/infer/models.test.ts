import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { loadModels } from '../../agent/infer/models.js';
import { tinyModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-models-'));

t.test('a model needing features the agent does not compute stops startup, naming them', async (t) => {
  const foreign = await tinyModel(dir, 'app', ['a', 'b'], ['src2dst_bytes', 'Flow Bytes/s', 'Fwd IAT Mean']);
  await t.rejects(loadModels({ app: { path: foreign, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'), {
    code: 'E_FEATURES',
    message: /needs features that the flow meter does not have: Flow Bytes\/s, Fwd IAT Mean/,
    hint: /serves CSV replay and evaluate, not live capture/,
  });
  const ok = await loadModels({ app: { path: foreign, threshold: 0.5 } }, ['src2dst_bytes', 'Flow Bytes/s', 'Fwd IAT Mean'], 'flows.csv');
  t.equal(ok.length, 1, 'the same model serves a CSV that has those columns');
});

t.test('a missing, corrupt or truncated model file stops startup with the file named', async (t) => {
  await t.rejects(loadModels({ app: { path: join(dir, 'nope.onnx'), threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'), {
    code: 'E_MODEL', message: /the app model .*nope\.onnx does not exist/, hint: /npm run build-models|infer\.app\.path to null/,
  });
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'this is not a model');
  await t.rejects(loadModels({ app: { path: junk, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'),
    { code: 'E_MODEL', message: /junk\.onnx is not an ONNX model/, hint: /a model written by `eta-sensor train`/ });
  const empty = join(dir, 'empty.onnx');
  writeFileSync(empty, '');
  await t.rejects(loadModels({ app: { path: empty, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'),
    { code: 'E_MODEL', message: /empty\.onnx is empty$/, hint: /restore or retrain it/ });
  const good = await tinyModel(dir, 'attribution', ['x', 'y']);
  const cut = join(dir, 'cut.onnx');
  const bytes = readFileSync(good);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
  await t.rejects(loadModels({ app: { path: cut, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'), { code: 'E_MODEL', message: /cut\.onnx/ });
  const copy = join(dir, 'copy.onnx');
  copyFileSync(good, copy);
  const [m] = await loadModels({ attribution: { path: copy, threshold: 0.3 } }, FEATURE_NAMES, 'the flow meter');
  t.same([m!.kind, m!.threshold, m!.meta.classes], ['attribution', 0.3, ['x', 'y']]);
});

t.test('a null path disables a model', async (t) => {
  t.same(await loadModels({ app: { path: null, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter'), []);
});
