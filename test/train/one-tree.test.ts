// The agent benchmark's reference models (bench/one-tree.ts): each shipped model cut to its first
// tree keeps everything the agent checks (metadata, classes, outputs) and scores as that tree alone.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { oneTreeModel } from '../../bench/one-tree.js';
import { readModelMeta } from '../../agent/train/model-meta.js';
import { ModelProto } from '../../agent/train/onnx-schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Attr { name: string; i?: number; ints?: number[]; floats?: number[] }

function attributes(path: string): Map<string, Attr> {
  const m = ModelProto.toObject(ModelProto.decode(readFileSync(path)), { longs: Number }) as { graph: { node: Array<{ attribute: Attr[] }> } };
  return new Map(m.graph.node[0]!.attribute.map((a) => [a.name, a]));
}

for (const kind of ['app', 'attribution'] as const) {
  t.test(`models/${kind}.onnx cut to one tree`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'eta-one-tree-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const src = `${ROOT}models/${kind}.onnx`;
    const dst = join(dir, `${kind}.onnx`);
    oneTreeModel(src, dst);

    const [a, b] = [attributes(src), attributes(dst)];
    const tree0 = a.get('nodes_treeids')!.ints!.filter((x) => x === 0).length;
    t.ok(tree0 > 1, 'the first tree has nodes');
    t.same(new Set(b.get('nodes_treeids')!.ints), new Set([0]), 'only tree 0 is left');
    t.equal(b.get('nodes_nodeids')!.ints!.length, tree0, 'with all of its nodes');
    for (const name of ['nodes_featureids', 'nodes_values', 'nodes_truenodeids', 'nodes_falsenodeids']) {
      const list = b.get(name)!.ints ?? b.get(name)!.floats!;
      t.equal(list.length, tree0, `${name} cut alike`);
    }
    // A classifier's leaf votes, or a leaf table's leaf rows (agent/train/onnx-leaf-table.ts): tree 0's only.
    const leafAttrs = a.has('class_treeids') ? ['class_treeids', 'class_weights', 'class_ids'] : ['target_treeids', 'target_weights', 'target_ids'];
    const [treeIds, weights, ids] = leafAttrs.map((n) => b.get(n)!);
    t.same(new Set(treeIds!.ints), new Set([0]), 'only tree 0\'s leaves are left');
    t.equal(weights!.floats!.length, ids!.ints!.length);
    if (a.has('target_treeids')) t.equal(b.get('n_targets')!.i, 1, 'the leaf table reads one tree');
    t.same(await readModelMeta(dst), await readModelMeta(src), 'the metadata the agent checks is kept');

    // onnxruntime opens it, with the outputs the agent reads, and its scores are one tree's: a
    // forest's leaf votes are p / trees, so a row's scores sum to 1 / trees of the shipped forest;
    // boosting's pass through softmax and sum to 1.
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(dst, { intraOpNumThreads: 1 });
    t.same(s.outputNames, ['label', 'probabilities']);
    const meta = await readModelMeta(dst);
    const F = meta.features.length;
    const out = await s.run({ features: new ort.Tensor('float32', new Float32Array(4 * F), [4, F]) }, ['probabilities']);
    const p = out['probabilities']!.data as Float32Array;
    t.equal(p.length, 4 * meta.classes.length, 'one score per class per row');
    t.ok(p.every(Number.isFinite), 'finite scores');
    const trees = new Set(a.get('nodes_treeids')!.ints).size;
    const want = meta.algo === 'rf' ? 1 / trees : 1;
    for (let r = 0; r < 4; r++) {
      const sum = p.subarray(r * meta.classes.length, (r + 1) * meta.classes.length).reduce((x, y) => x + y, 0);
      t.ok(Math.abs(sum - want) < 1e-4, `row ${r}: scores sum to ${want.toFixed(4)} (${sum.toFixed(4)})`);
    }
    await s.release();
  });
}
