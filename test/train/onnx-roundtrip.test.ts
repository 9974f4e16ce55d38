// The exported model, run by onnxruntime, gives the trainer's probabilities on every row,
// including rows exactly on split thresholds, for rf and gbdt, binary and multi-class.
import t from 'tap';
import ort from 'onnxruntime-node';
import { binMatrix, computeEdges } from '../../agent/train/bins.js';
import { trainBoost } from '../../agent/train/boost.js';
import { trainForest } from '../../agent/train/forest.js';
import { predictProba, type TreeEnsemble } from '../../agent/train/model.js';
import { FORMAT_VERSION, parseModelMeta, type ModelMeta } from '../../agent/train/model-meta.js';
import { exportOnnx } from '../../agent/train/onnx-export.js';
import { ModelProto } from '../../agent/train/onnx-schema.js';
import { Rng } from '../../agent/train/rng.js';
import type { TrainData } from '../../agent/train/train-data.js';

const N = 500;
const F = 5;

function problem(C: number): { x: Float32Array; data: TrainData; classes: string[] } {
  const rng = new Rng(11, C);
  const x = new Float32Array(N * F);
  const y = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    y[r] = rng.int(C);
    for (let f = 0; f < F; f++) x[f * N + r] = Math.fround(rng.float() * 10 + (f < 2 ? (y[r] as number) * 1.5 : 0));
  }
  // Some integer-valued cells so that many rows tie on values.
  for (let r = 0; r < 80; r++) x[2 * N + r] = Math.round(x[2 * N + r] as number);
  const trainRows = Int32Array.from({ length: 350 }, (_, i) => i);
  const edges = computeEdges(x, N, F, trainRows);
  const data: TrainData = {
    nRows: N, nFeatures: F, nClasses: C, binned: binMatrix(x, N, edges), edges, y, trainRows,
    classWeight: new Float64Array(C).fill(1),
  };
  return { x, data, classes: Array.from({ length: C }, (_, i) => `class ${i}`) };
}

/** All rows, plus for each split of the first trees a row whose split feature equals the threshold. */
function withThresholdRows(m: TreeEnsemble, x: Float32Array): { xm: Float32Array; M: number; onThreshold: number } {
  const extra: Array<[number, number]> = [];
  for (const tr of m.trees.slice(0, 6)) {
    for (let n = 0; n < tr.feature.length; n++) if ((tr.feature[n] as number) >= 0) extra.push([tr.feature[n] as number, tr.threshold[n] as number]);
  }
  const M = N + extra.length;
  const xm = new Float32Array(M * F);
  for (let f = 0; f < F; f++) xm.set(x.subarray(f * N, f * N + N), f * M);
  extra.forEach(([f, th], i) => {
    for (let g = 0; g < F; g++) xm[g * M + N + i] = x[g * N + (i % N)] as number;
    xm[f * M + N + i] = th;
  });
  return { xm, M, onThreshold: extra.length };
}

const meta = (m: TreeEnsemble): ModelMeta => ({
  formatVersion: FORMAT_VERSION, features: ['a', 'b', 'c', 'd', 'e'], registryHash: 'abc', classes: m.classes,
  kind: 'test', algo: m.algo, trainedAt: '2024-01-01T00:00:00.000Z', data: null, metrics: { macro_f1: 0.5 }, params: { trees: 1 },
});

for (const C of [2, 5]) {
  for (const algo of ['rf', 'gbdt', 'gbdt-shared'] as const) {
    t.test(`${algo}, ${C} classes`, async (t) => {
      const { x, data, classes } = problem(C);
      const model = algo === 'rf'
        ? await trainForest(data, classes, { trees: 15, maxDepth: 0, minSamplesLeaf: 1, maxFeatures: 2, seed: 5 }, { threads: 1 })
        : (await trainBoost({ data, classes, x, fitRows: data.trainRows, validRows: new Int32Array(0) },
          { rounds: 15, maxDepth: 4, learningRate: 0.3, minChildWeight: 1, lambda: 1, gamma: 0, earlyStopping: 0, shared: algo === 'gbdt-shared', validationShare: 0, seed: 1 },
          { threads: 1 })).model;
      // One tree per round, whose leaves score every class (two classes: class 1 only, as per-class boosting does).
      if (algo === 'gbdt-shared') t.equal(model.trees.length, 15, 'one tree per round');
      const { xm, M, onThreshold } = withThresholdRows(model, x);
      t.ok(onThreshold > 20, `${onThreshold} rows on thresholds`);
      const mine = predictProba(model, xm, M);
      const bytes = exportOnnx(model, meta(model), 'test');
      // Shared trees over more than two classes go out as the leaf table (onnx-leaf-table.ts); the rest as one classifier node.
      const ops = (ModelProto.toObject(ModelProto.decode(bytes)) as { graph: { node: Array<{ op_type: string }> } }).graph.node.map((n) => n.op_type);
      t.equal(ops[0], algo === 'gbdt-shared' && C > 2 ? 'TreeEnsembleRegressor' : 'TreeEnsembleClassifier', `graph: ${ops.join(', ')}`);
      const session = await ort.InferenceSession.create(bytes);
      t.same(session.inputNames, ['features']);
      t.same(session.outputNames, ['label', 'probabilities']);
      const input = new Float32Array(M * F);
      for (let r = 0; r < M; r++) for (let f = 0; f < F; f++) input[r * F + f] = xm[f * M + r] as number;
      const out = await session.run({ features: new ort.Tensor('float32', input, [M, F]) });
      const probs = out['probabilities']?.data as Float32Array;
      const labels = out['label']?.data as string[];
      t.equal(probs.length, M * C);
      let maxDiff = 0;
      let labelErrors = 0;
      for (let r = 0; r < M; r++) {
        let best = 0;
        for (let c = 0; c < C; c++) {
          maxDiff = Math.max(maxDiff, Math.abs((mine[r * C + c] as number) - (probs[r * C + c] as number)));
          if ((mine[r * C + c] as number) > (mine[r * C + best] as number)) best = c;
        }
        // Exact ties (e.g. an rf vote of 0.5 each) may fall either way after float32 summation.
        let second = -Infinity;
        for (let c = 0; c < C; c++) if (c !== best) second = Math.max(second, mine[r * C + c] as number);
        if (labels[r] !== classes[best] && (mine[r * C + best] as number) - second > 1e-5) labelErrors++;
      }
      t.ok(maxDiff < 1e-5, `max probability difference ${maxDiff} < 1e-5`);
      t.equal(labelErrors, 0, 'labels agree');
      await session.release();
      const back = parseModelMeta(bytes);
      t.same(back, meta(model), 'metadata reads back');
    });
  }
}

// Shared-tree scores a float32 step apart round to one probability: the leaf table's label must
// still name the larger score, as the trainer and the classifier form do (found by review: its
// ArgMax read the probabilities and took the first of the two).
t.test('leaf table: the label of near-tied scores is the larger score\'s', async (t) => {
  const classes = ['a', 'b', 'c'];
  let cases = 0;
  for (const base of [0.001, 0.01, 0.1, 0.3, 1, 2.5, 7]) {
    for (let k = 1; k <= 8; k++) {
      const lo = Math.fround(base);
      const hi = Math.fround(base + k * base * 1.2e-7);
      if (lo === hi) continue;
      // One split on feature 0: the left leaf scores b above c, the right leaf c above b.
      const tree = {
        feature: Int32Array.from([0, -1, -1]), threshold: Float32Array.from([0.5, 0, 0]), left: Int32Array.from([1, -1, -1]), right: Int32Array.from([2, -1, -1]),
        valueStart: Int32Array.from([0, 0, 3, 6]), leafClass: Int32Array.from([0, 1, 2, 0, 1, 2]), leafValue: Float32Array.from([-5, hi, lo, -5, lo, hi]),
      };
      const model: TreeEnsemble = { algo: 'gbdt', nFeatures: 1, classes, trees: [tree, tree], base: new Float32Array(3) };
      const m = { ...meta(model), features: ['a'] };
      const session = await ort.InferenceSession.create(exportOnnx(model, m, 'test'));
      const x = Float32Array.from([0, 1]);
      const out = await session.run({ features: new ort.Tensor('float32', x, [2, 1]) });
      await session.release();
      const p = predictProba(model, x, 2);
      const want = [0, 1].map((r) => classes[[0, 1, 2].reduce((b, c) => ((p[r * 3 + c] as number) > (p[r * 3 + b] as number) ? c : b), 0)]);
      t.same(out['label']?.data, want, `${lo} against ${hi}`);
      cases++;
    }
  }
  t.ok(cases > 20, `${cases} near ties`);
});
