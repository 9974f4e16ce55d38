/**
 * A check onnxruntime does not make: the numbers a model's graph holds (tree thresholds, leaf
 * weights, the leaf table, base values) must be numbers. A damaged file whose bytes landed in
 * those arrays still opens, and its NaN weights made every flow "unknown" with confidence 0 and
 * an empty top 3, with no warning, through startup, check-config and reload (found by review).
 *
 * protobufjs's minimal reader walks the ONNX protobuf (ModelProto.graph, its nodes' attributes
 * and its initializers) without a schema, as model-meta.ts does for the metadata: the schema's
 * reflection costs tens of ms at every start. Thresholds may be infinite (a split above every
 * value); a weight may not, and nothing may be NaN.
 */
import protobuf from 'protobufjs/minimal.js';

type Reader = protobuf.Reader;

// Wire tags: field << 3 | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
const MODEL_GRAPH = (7 << 3) | 2;
const GRAPH_NODE = (1 << 3) | 2;
const GRAPH_INITIALIZER = (5 << 3) | 2;
const NODE_OP_TYPE = (4 << 3) | 2;
const NODE_ATTRIBUTE = (5 << 3) | 2;
const ATTR_NAME = (1 << 3) | 2;
const ATTR_F = (2 << 3) | 5;
const ATTR_T = (5 << 3) | 2;
const ATTR_FLOATS_PACKED = (7 << 3) | 2;
const ATTR_FLOATS_ONE = (7 << 3) | 5;
const TENSOR_DATA_TYPE = (2 << 3) | 0;
const TENSOR_FLOAT_PACKED = (4 << 3) | 2;
const TENSOR_FLOAT_ONE = (4 << 3) | 5;
const TENSOR_NAME = (8 << 3) | 2;
const TENSOR_RAW = (9 << 3) | 2;
const TENSOR_DOUBLE_PACKED = (10 << 3) | 2;
const TENSOR_DOUBLE_ONE = (10 << 3) | 1;
const FLOAT = 1;
const DOUBLE = 11;

/** Attributes whose values are thresholds, which may be infinite. */
const THRESHOLDS = new Set(['nodes_values']);

/** What is wrong with a number of the model, or undefined when every one is fine. */
export interface BadNumber {
  /** Where: "TreeEnsembleRegressor.target_weights", "initializer leaf_table". */
  readonly where: string;
  readonly index: number;
  readonly value: number;
}

/** The first number of the model's graph that cannot be right (see the header), or undefined. */
export function badModelNumber(bytes: Uint8Array): BadNumber | undefined {
  const r = protobuf.Reader.create(bytes);
  return fields(r, r.len, (tag) => (tag === MODEL_GRAPH ? sub(r, graph) : undefined));
}

/** Each field up to `end` to `on`, which reads it (or returns undefined without reading: skipped). */
function fields(r: Reader, end: number, on: (tag: number) => BadNumber | undefined | 'read'): BadNumber | undefined {
  while (r.pos < end) {
    const tag = r.uint32();
    const before = r.pos;
    const found = on(tag);
    if (found !== undefined && found !== 'read') return found;
    if (r.pos === before) r.skipType(tag & 7);
  }
  return undefined;
}

/** A length-delimited submessage read by `read`. */
function sub(r: Reader, read: (r: Reader, end: number) => BadNumber | undefined): BadNumber | 'read' {
  const end = r.uint32() + r.pos;
  const found = read(r, end);
  r.pos = end;
  return found ?? 'read';
}

function graph(r: Reader, end: number): BadNumber | undefined {
  return fields(r, end, (tag) => (tag === GRAPH_NODE ? sub(r, node) : tag === GRAPH_INITIALIZER ? sub(r, (x, e) => tensor(x, e, 'initializer')) : undefined));
}

function node(r: Reader, end: number): BadNumber | undefined {
  let op = '';
  return fields(r, end, (tag) => {
    if (tag === NODE_OP_TYPE) {
      op = r.string();
      return 'read';
    }
    return tag === NODE_ATTRIBUTE ? sub(r, (x, e) => attribute(x, e, op)) : undefined;
  });
}

function attribute(r: Reader, end: number, op: string): BadNumber | undefined {
  let name = '';
  let index = 0;
  const check = (v: number): BadNumber | 'read' => {
    const ok = THRESHOLDS.has(name) ? !Number.isNaN(v) : Number.isFinite(v);
    index++;
    return ok ? 'read' : { where: `${op}.${name}`, index: index - 1, value: v };
  };
  return fields(r, end, (tag) => {
    if (tag === ATTR_NAME) {
      name = r.string();
      return 'read';
    }
    if (tag === ATTR_F || tag === ATTR_FLOATS_ONE) return check(r.float());
    if (tag === ATTR_FLOATS_PACKED) return sub(r, (x, e) => { while (x.pos < e) { const bad = check(x.float()); if (bad !== 'read') return bad; } return undefined; });
    if (tag === ATTR_T) return sub(r, (x, e) => tensor(x, e, `${op}.${name}`));
    return undefined;
  });
}

function tensor(r: Reader, end: number, what: string): BadNumber | undefined {
  let type = 0;
  let name = '';
  let index = 0;
  let raw: Uint8Array | undefined;
  // The name (field 8) comes after the data (field 4) in the message: the first bad value is
  // kept and named once the whole tensor is read.
  let first: { index: number; value: number } | undefined;
  const check = (v: number): 'read' => {
    if (!Number.isFinite(v) && first === undefined) first = { index, value: v };
    index++;
    return 'read';
  };
  fields(r, end, (tag) => {
    if (tag === TENSOR_DATA_TYPE) {
      type = r.int32();
      return 'read';
    }
    if (tag === TENSOR_NAME) {
      name = r.string();
      return 'read';
    }
    if (tag === TENSOR_RAW) {
      raw = r.bytes();
      return 'read';
    }
    if (tag === TENSOR_FLOAT_ONE) return check(r.float());
    if (tag === TENSOR_DOUBLE_ONE) return check(r.double());
    if (tag === TENSOR_FLOAT_PACKED) return sub(r, (x, e) => { while (x.pos < e) check(x.float()); return undefined; });
    if (tag === TENSOR_DOUBLE_PACKED) return sub(r, (x, e) => { while (x.pos < e) check(x.double()); return undefined; });
    return undefined;
  });
  if (first === undefined && raw !== undefined && (type === FLOAT || type === DOUBLE)) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = type === FLOAT ? 4 : 8;
    for (let i = 0; i + size <= raw.byteLength && first === undefined; i += size) check(type === FLOAT ? view.getFloat32(i, true) : view.getFloat64(i, true));
  }
  return first === undefined ? undefined : { where: `${what} ${name}`.trim(), ...first };
}

/**
 * What is damaged in a model file's numbers, in words, or undefined. A file whose protobuf does
 * not even parse is damaged too (onnxruntime refuses most such files itself).
 */
export function modelDamage(bytes: Uint8Array): string | undefined {
  let bad: BadNumber | undefined;
  try {
    bad = badModelNumber(bytes);
  } catch (e) {
    return `its ONNX structure is corrupt (${(e as Error).message})`;
  }
  return bad === undefined ? undefined : `${bad.where} holds ${bad.value} at index ${bad.index}`;
}
