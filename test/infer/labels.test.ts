import t from 'tap';
import { labelOf, TOP_WIDTH, topThree } from '../../agent/infer/labels.js';

const CLASSES = ['a', 'b', 'c', 'd', 'e'];

function label(probs: number[], threshold: number, classes = CLASSES): ReturnType<typeof labelOf> {
  const top = new Float32Array(TOP_WIDTH + 2);
  // Written at an offset, as the worker writes each row of a batch: nothing outside its six numbers changes.
  top.fill(99);
  topThree(new Float32Array([7, ...probs]), 1, probs.length, top, 1);
  t.equal(top[0], 99);
  t.equal(top[TOP_WIDTH + 1], 99);
  return labelOf(top, 1, classes, threshold);
}

t.test('the top three, best first, from one pass over the classes', async (t) => {
  t.same(label([0.1, 0.5, 0.05, 0.3, 0.05], 0.4), { label: 'b', confidence: 0.5, top: [['b', 0.5], ['d', 0.3], ['a', 0.1]] });
  // Ascending and descending orders both land in the right slots.
  t.same(label([0.05, 0.1, 0.15, 0.3, 0.4], 0).top.map(([c]) => c), ['e', 'd', 'c']);
  t.same(label([0.4, 0.3, 0.15, 0.1, 0.05], 0).top.map(([c]) => c), ['a', 'b', 'c']);
});

t.test('under the threshold the label is unknown, with the top classes still given', async (t) => {
  const l = label([0.2, 0.35, 0.15, 0.3, 0], 0.4);
  t.equal(l.label, 'unknown');
  t.equal(l.confidence, 0.35);
  t.same(l.top[0], ['b', 0.35]);
});

t.test('probabilities are rounded to four places; a model with two classes gives two', async (t) => {
  const l = label([0.123456, 0.876544], 0.5, ['x', 'y']);
  t.same(l, { label: 'y', confidence: 0.8765, top: [['y', 0.8765], ['x', 0.1235]] });
});

t.test('ties keep the first class', async (t) => {
  t.same(label([0.25, 0.25, 0.25, 0.25, 0], 0.2).top.map(([c]) => c), ['a', 'b', 'c']);
});
