/**
 * Boosting with shared trees (each leaf scores every class) as an ONNX graph that finds each
 * tree's leaf, then adds up the leaves' class scores from one table:
 *
 *   features ─ TreeEnsembleRegressor ─▶ leaf row per tree [N, T] (float, exact integers)
 *            ─ Cast int64 ─ Gather(table [leaves, C]) ─▶ [N, T, C] ─ ReduceSum over trees
 *            ─ Add base ─▶ scores ─ Softmax ─▶ probabilities [N, C]
 *                          scores ─ ArgMax ─ LabelEncoder ─▶ label [N]
 *
 * Why not the TreeEnsembleClassifier every other model is: onnxruntime adds a leaf's class votes
 * one at a time with a bounds check each, about 22 instructions per vote. The app model's leaves
 * carry 21 votes each, 60 trees: 28,500 of the 40,700 instructions its classifier spent per flow
 * (callgrind, batches of 1024), and the inference worker shares a gateway's two cores with the
 * flow meter. This graph spends 19,300 on the same model, with the same scores: the sums differ
 * only in float32 rounding order (4.8e-7 at most over 16,924 flows, no label changed).
 * A leaf's row is the sum of its votes per class, in float32 as the trainer adds them.
 */
import { ElemType, floats, int, ints, str, strs, type Attr } from './onnx-schema.js';
import type { TreeEnsemble } from './model.js';

/** Votes per leaf that mark shared trees: per-class boosting votes once per leaf, shared trees once per class. */
const MIN_VOTES_PER_LEAF = 2;

/**
 * Whether `m` is exported as the leaf table: boosting with shared trees over more than two classes. A forest keeps the classifier: its leaves vote
 * for a class or two, and its scores are not a softmax.
 */
export function useLeafTable(m: TreeEnsemble): boolean {
  if (m.algo !== 'gbdt' || m.classes.length <= 2) return false;
  let leaves = 0;
  let votes = 0;
  for (const t of m.trees) {
    for (let n = 0; n < t.feature.length; n++) {
      if ((t.feature[n] as number) >= 0) continue;
      leaves++;
      votes += (t.valueStart[n + 1] as number) - (t.valueStart[n] as number);
    }
  }
  return votes >= MIN_VOTES_PER_LEAF * leaves;
}

/** The graph's nodes and constants; `nodes` are the tree splits (nodes_* attributes) as the classifier has them. */
export function leafTableGraph(m: TreeEnsemble, nodes: readonly Attr[]): { node: Attr[]; initializer: Attr[] } {
  const C = m.classes.length;
  const tIds: number[] = [], tNodes: number[] = [], tTrees: number[] = [], tRows: number[] = [];
  const table: number[] = [];
  m.trees.forEach((t, ti) => {
    for (let n = 0; n < t.feature.length; n++) {
      if ((t.feature[n] as number) >= 0) continue;
      const row = table.length / C;
      if (row >= 2 ** 24) throw new Error('too many leaves for a float32 leaf index');
      const scores = new Float32Array(C);
      for (let k = t.valueStart[n] as number; k < (t.valueStart[n + 1] as number); k++) scores[t.leafClass[k] as number]! += t.leafValue[k] as number;
      table.push(...scores);
      tIds.push(ti), tNodes.push(n), tTrees.push(ti), tRows.push(row);
    }
  });
  const node = [
    {
      name: 'leaves', op_type: 'TreeEnsembleRegressor', domain: 'ai.onnx.ml', input: ['features'], output: ['leaf_rows'],
      attribute: [
        ...nodes, int('n_targets', m.trees.length), ints('target_ids', tIds), ints('target_nodeids', tNodes), ints('target_treeids', tTrees),
        floats('target_weights', tRows), str('aggregate_function', 'SUM'), str('post_transform', 'NONE'),
      ],
    },
    { name: 'rows', op_type: 'Cast', input: ['leaf_rows'], output: ['leaf_index'], attribute: [int('to', ElemType.INT64)] },
    { name: 'scores', op_type: 'Gather', input: ['leaf_table', 'leaf_index'], output: ['leaf_scores'], attribute: [int('axis', 0)] },
    { name: 'sum', op_type: 'ReduceSum', input: ['leaf_scores', 'tree_axis'], output: ['tree_sum'], attribute: [int('keepdims', 0)] },
    { name: 'base', op_type: 'Add', input: ['tree_sum', 'base_values'], output: ['scores'] },
    { name: 'softmax', op_type: 'Softmax', input: ['scores'], output: ['probabilities'], attribute: [int('axis', -1)] },
    // From the scores, not the probabilities: two scores a float32 step apart can round to one
    // probability, and ArgMax would then take the first class where the classifier and the
    // trainer take the larger score (found by review).
    { name: 'best', op_type: 'ArgMax', input: ['scores'], output: ['best'], attribute: [int('axis', 1), int('keepdims', 0)] },
    {
      name: 'names', op_type: 'LabelEncoder', domain: 'ai.onnx.ml', input: ['best'], output: ['label'],
      attribute: [
        ints('keys_int64s', m.classes.map((_, i) => i)),
        strs('values_strings', m.classes),
        str('default_string', ''),
      ],
    },
  ];
  const initializer = [
    { name: 'leaf_table', dims: [table.length / C, C], data_type: ElemType.FLOAT, float_data: table },
    { name: 'tree_axis', dims: [1], data_type: ElemType.INT64, int64_data: [1] },
    { name: 'base_values', dims: [C], data_type: ElemType.FLOAT, float_data: Array.from(m.base) },
  ];
  return { node, initializer };
}
