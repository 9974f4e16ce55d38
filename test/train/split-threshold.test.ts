// Where a forest puts its thresholds: in the middle of the gap between the two sides of a split
// (as scikit-learn does), not right after the left side's largest value. With bin edges from the
// whole training set, the gap between two classes in one node often holds edges made by other rows.
import t from 'tap';
import { fitEnsemble } from '../../agent/train/fit.js';
import { argmaxRows, predictProba } from '../../agent/train/model.js';

t.test('an unseen value in a gap goes to the nearer side', async (t) => {
  // f0: class A at 0..9, class B at 100..109, class C at 10..99 but only where f1 = 1.
  const rows: Array<[number, number, number]> = [];
  for (let rep = 0; rep < 5; rep++) {
    for (let v = 0; v < 10; v++) rows.push([v, 0, 0]);
    for (let v = 100; v < 110; v++) rows.push([v, 0, 1]);
    for (let v = 10; v < 100; v++) rows.push([v, 1, 2]);
  }
  const N = rows.length + 2;
  const x = new Float32Array(2 * N);
  const y = new Int32Array(N);
  rows.forEach(([a, b, c], r) => {
    x[r] = a;
    x[N + r] = b;
    y[r] = c;
  });
  // Two rows to predict, never trained on: f1 = 0 (not C), f0 in the gap between A and B.
  x[N - 2] = 30;
  x[N - 1] = 80;
  const trainRows = Int32Array.from(rows.keys());
  const { model } = await fitEnsemble(
    { x, nRows: N, nFeatures: 2, y, classes: ['A', 'B', 'C'], group: undefined, trainRows },
    { algo: 'rf', trees: 25, classWeight: 'none', seed: 1, threads: 1, maxFeatures: 2 },
  );
  const pred = argmaxRows(predictProba(model, x, N, Int32Array.from([N - 2, N - 1])), 3);
  t.same([...pred].map((c) => model.classes[c]), ['A', 'B'], '30 is nearer A (0..9), 80 nearer B (100..109)');
});
