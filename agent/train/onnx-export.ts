/**
 * Serialize a TreeEnsemble as a standard ONNX model: one ai.onnx.ml
 * TreeEnsembleClassifier node, input `features` float[N, F], outputs `label`
 * string[N] and `probabilities` float[N, C] (no ZipMap). Boosting whose
 * leaves score every class is written as a leaf table instead, with the same
 * input and outputs (onnx-leaf-table.ts says why).
 *
 * Semantics kept identical to the trainer (model.ts):
 * - every split is BRANCH_LEQ on a float32 threshold; inputs are float32, so
 *   onnxruntime (which keeps float thresholds for float input) makes exactly
 *   the comparisons the trainer made. nodes_missing_value_tracks_true is left
 *   unset (0): NaN fails `x <= t` and goes to the false (right) branch in both.
 * - leaf votes are summed without averaging (rf votes are already p / nTrees).
 * - rf: post_transform NONE; gbdt: SOFTMAX with base_values = per-class base score.
 * Two-class models take onnxruntime's binary code path, which treats the
 * scores specially; we write the forms that path computes exactly:
 * - rf: only class-1 probabilities, all under class id 0 and all >= 0: the
 *   runtime outputs [1 - p, p] and label 1 iff p > 0.5.
 * - gbdt: class-1 scores (base folded into the first tree by the trainer),
 *   plus one zero vote for class 0 so both ids occur, no base_values: the
 *   runtime outputs softmax([0, s]) and label 1 iff s > 0.
 */
import { ElemType, floats, ints, ModelProto, str, strs, type Attr } from './onnx-schema.js';
import { metaToProps, type ModelMeta } from './model-meta.js';
import type { TreeEnsemble } from './model.js';
import { leafTableGraph, useLeafTable } from './onnx-leaf-table.js';

/** The trees' splits and leaves (the nodes_* attributes), which the classifier and the leaf table share. */
function nodeAttributes(m: TreeEnsemble): Attr[] {
  const nt: number[] = [], nn: number[] = [], nf: number[] = [], nv: number[] = [];
  const nm: string[] = [], ntrue: number[] = [], nfalse: number[] = [];
  m.trees.forEach((t, ti) => {
    for (let n = 0; n < t.feature.length; n++) {
      const f = t.feature[n] as number;
      nt.push(ti);
      nn.push(n);
      nf.push(f < 0 ? 0 : f);
      nv.push(f < 0 ? 0 : (t.threshold[n] as number));
      nm.push(f < 0 ? 'LEAF' : 'BRANCH_LEQ');
      ntrue.push(f < 0 ? 0 : (t.left[n] as number));
      nfalse.push(f < 0 ? 0 : (t.right[n] as number));
    }
  });
  return [
    ints('nodes_treeids', nt),
    ints('nodes_nodeids', nn),
    ints('nodes_featureids', nf),
    floats('nodes_values', nv),
    strs('nodes_modes', nm),
    ints('nodes_truenodeids', ntrue),
    ints('nodes_falsenodeids', nfalse),
  ];
}

/** A TreeEnsembleClassifier's attributes: the nodes, then the leaves' class votes. */
function classifierAttributes(m: TreeEnsemble): Attr[] {
  const C = m.classes.length;
  const binaryRf = C === 2 && m.algo === 'rf';
  const ct: number[] = [], cn: number[] = [], ci: number[] = [], cw: number[] = [];
  m.trees.forEach((t, ti) => {
    for (let n = 0; n < t.feature.length; n++) {
      if ((t.feature[n] as number) >= 0) continue;
      const s = t.valueStart[n] as number;
      const e = t.valueStart[n + 1] as number;
      if (binaryRf) {
        let p1 = 0;
        for (let k = s; k < e; k++) if (t.leafClass[k] === 1) p1 = t.leafValue[k] as number;
        ct.push(ti), cn.push(n), ci.push(0), cw.push(p1);
        continue;
      }
      for (let k = s; k < e; k++) ct.push(ti), cn.push(n), ci.push(t.leafClass[k] as number), cw.push(t.leafValue[k] as number);
    }
  });
  if (!binaryRf) {
    // A class that never gets a vote would make onnxruntime treat a 2-class model as its
    // one-score binary case; a zero vote on the first leaf keeps all ids present.
    const seen = new Set(ci);
    const t0 = m.trees[0];
    const leaf0 = t0 ? (t0.feature as Int32Array).findIndex((f) => f < 0) : -1;
    for (let c = 0; c < C; c++) if (!seen.has(c) && leaf0 >= 0) ct.push(0), cn.push(leaf0), ci.push(c), cw.push(0);
  }
  const attrs: Attr[] = [
    strs('classlabels_strings', m.classes),
    ...nodeAttributes(m),
    ints('class_treeids', ct),
    ints('class_nodeids', cn),
    ints('class_ids', ci),
    floats('class_weights', cw),
    str('post_transform', m.algo === 'rf' ? 'NONE' : 'SOFTMAX'),
  ];
  if (m.algo === 'gbdt' && C > 2) attrs.push(floats('base_values', m.base));
  return attrs;
}

/** Encode the model and its metadata; the bytes depend only on the arguments. */
export function exportOnnx(m: TreeEnsemble, meta: ModelMeta, producerVersion: string): Uint8Array {
  if (m.classes.length < 2) throw new Error('a classifier needs at least two classes');
  if (m.trees.length === 0) throw new Error('the model has no trees');
  const tensor = (elem: number, dims: Array<{ dim_param?: string; dim_value?: number }>): Attr => ({
    tensor_type: { elem_type: elem, shape: { dim: dims } },
  });
  const graph = useLeafTable(m)
    ? leafTableGraph(m, nodeAttributes(m))
    : {
      node: [{
        name: 'classifier', op_type: 'TreeEnsembleClassifier', domain: 'ai.onnx.ml', input: ['features'], output: ['label', 'probabilities'],
        attribute: classifierAttributes(m),
      }],
      initializer: [],
    };
  const model = {
    ir_version: 8,
    producer_name: 'eta-sensor',
    producer_version: producerVersion,
    domain: 'eta-sensor',
    model_version: 1,
    doc_string: `eta-sensor ${meta.kind} classifier (${meta.algo}, ${m.trees.length} trees)`,
    opset_import: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    graph: {
      name: `eta_${meta.kind}`,
      ...graph,
      input: [{ name: 'features', type: tensor(ElemType.FLOAT, [{ dim_param: 'N' }, { dim_value: m.nFeatures }]) }],
      output: [
        { name: 'label', type: tensor(ElemType.STRING, [{ dim_param: 'N' }]) },
        { name: 'probabilities', type: tensor(ElemType.FLOAT, [{ dim_param: 'N' }, { dim_value: m.classes.length }]) },
      ],
    },
    metadata_props: metaToProps(meta),
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`internal: ONNX model does not verify: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
