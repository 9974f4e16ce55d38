/**
 * A copy of a shipped model cut to its first tree, for the agent benchmark's reference run: the
 * same classes, features, metadata and outputs, so the replay runs the same pipeline (workers,
 * batches, labels' JSON, records) with inference at almost no cost. The gap between that replay
 * and the one without models is what having models costs the pipeline however fast inference
 * is; the gap from there to the shipped models is inference's own cost.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ModelProto } from '../agent/train/onnx-schema.js';

interface Attr { name: string; i?: number; ints?: number[]; floats?: number[]; strings?: Uint8Array[] }

/** Writes `src` with only tree 0's nodes and leaf votes (or leaf rows) to `dst`. */
export function oneTreeModel(src: string, dst: string): void {
  const m = ModelProto.toObject(ModelProto.decode(readFileSync(src)), { longs: Number }) as { graph: { node: Array<{ attribute: Attr[] }> } };
  const attrs = new Map(m.graph.node[0]!.attribute.map((a) => [a.name, a]));
  // Every list of a tuple (nodes_*, class_*) is cut with the same mask: its tree id is 0.
  const keep = (prefix: string, treeIds: string): void => {
    const mask = attrs.get(treeIds)!.ints!.map((t) => t === 0);
    for (const [name, a] of attrs) {
      if (!name.startsWith(prefix)) continue;
      if (a.ints) a.ints = a.ints.filter((_, i) => mask[i]);
      if (a.floats) a.floats = a.floats.filter((_, i) => mask[i]);
      if (a.strings) a.strings = a.strings.filter((_, i) => mask[i]);
    }
  };
  keep('nodes_', 'nodes_treeids');
  // A classifier's leaf votes; or a leaf table's leaf rows (train/onnx-leaf-table.ts), one output per tree.
  if (attrs.has('class_treeids')) keep('class_', 'class_treeids');
  if (attrs.has('target_treeids')) {
    keep('target_', 'target_treeids');
    attrs.get('n_targets')!.i = 1;
  }
  writeFileSync(dst, ModelProto.encode(ModelProto.fromObject(m)).finish());
}
