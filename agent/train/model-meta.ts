/**
 * What a model file says about itself (ONNX metadata_props), written by
 * `train` and read back by `evaluate` and by the agent's startup check.
 * Every value is a string; structured values are JSON.
 */
import { readFile } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import protobuf from 'protobufjs/minimal.js';

/** Version of the metadata layout below; bumped on incompatible change. */
export const FORMAT_VERSION = 1;

export interface DataSummary {
  /** Training file as given on the command line. */
  readonly source: string;
  readonly label_column: string;
  readonly group_by: string | null;
  readonly rows_read: number;
  readonly rows_used: number;
  readonly rows_skipped: number;
  readonly train_rows: number;
  readonly holdout_rows: number;
  /** Training-set rows per final class. */
  readonly class_counts: Record<string, number>;
  /** Labels merged into `unknown` or dropped for being rare. */
  readonly rare_labels: readonly string[];
}

export interface ModelMeta {
  readonly formatVersion: number;
  /** Feature names in input-column order. */
  readonly features: readonly string[];
  /** Hash of the flow-feature registry the features come from (given by the caller). */
  readonly registryHash: string;
  /** Class labels in probability-column order. */
  readonly classes: readonly string[];
  /** What the model is for: 'app', 'attribution' or a custom name. */
  readonly kind: string;
  readonly algo: 'rf' | 'gbdt';
  /** ISO 8601. */
  readonly trainedAt: string;
  readonly data: DataSummary | null;
  /** Held-out metrics (accuracy, macro_f1, ...), null when nothing was held out. */
  readonly metrics: Record<string, unknown> | null;
  readonly params: Record<string, unknown>;
}

const KEYS = {
  formatVersion: 'eta_format_version',
  features: 'feature_names',
  registryHash: 'registry_hash',
  classes: 'class_labels',
  kind: 'model_kind',
  algo: 'algorithm',
  trainedAt: 'trained_at',
  data: 'training_data',
  metrics: 'holdout_metrics',
  params: 'trainer_params',
} as const;

/** metadata_props entries, in a fixed order (so equal models give equal bytes). */
export function metaToProps(m: ModelMeta): Array<{ key: string; value: string }> {
  return [
    { key: KEYS.formatVersion, value: String(m.formatVersion) },
    { key: KEYS.kind, value: m.kind },
    { key: KEYS.algo, value: m.algo },
    { key: KEYS.features, value: JSON.stringify(m.features) },
    { key: KEYS.registryHash, value: m.registryHash },
    { key: KEYS.classes, value: JSON.stringify(m.classes) },
    { key: KEYS.trainedAt, value: m.trainedAt },
    { key: KEYS.data, value: JSON.stringify(m.data) },
    { key: KEYS.metrics, value: JSON.stringify(m.metrics) },
    { key: KEYS.params, value: JSON.stringify(m.params) },
  ];
}

/** Wire tags (field << 3 | wire type 2, length-delimited) of what metadataProps reads. */
const METADATA_PROPS = (14 << 3) | 2; // ModelProto.metadata_props
const KEY = (1 << 3) | 2; // StringStringEntryProto.key
const VALUE = (2 << 3) | 2; // StringStringEntryProto.value

/**
 * A model file's metadata_props, every other field skipped unread (the graph can be tens of MB).
 * protobufjs's minimal reader, not onnx-schema.ts's descriptor: the agent reads this at every
 * start, and loading the descriptor (protobufjs's reflection, then its generated decoder) took
 * about 30 of the 170 ms that `replay`'s modules took to load, before the worker pool could start.
 */
function metadataProps(bytes: Uint8Array): Map<string, string> {
  const r = protobuf.Reader.create(bytes);
  const props = new Map<string, string>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag !== METADATA_PROPS) {
      r.skipType(tag & 7);
      continue;
    }
    const end = r.uint32() + r.pos;
    let key = '';
    let value = '';
    while (r.pos < end) {
      const t = r.uint32();
      if (t === KEY) key = r.string();
      else if (t === VALUE) value = r.string();
      else r.skipType(t & 7);
    }
    props.set(key, value);
  }
  return props;
}

/** Parse metadata from the bytes of a model file. Throws StartupError E_MODEL naming what is wrong. */
export function parseModelMeta(bytes: Uint8Array, source = 'model'): ModelMeta {
  if (bytes.length === 0) {
    throw new StartupError('E_MODEL', `${source} is empty`, 'give a model written by `eta-sensor train` (an interrupted copy? restore or retrain it)');
  }
  let props: Map<string, string>;
  try {
    props = metadataProps(bytes);
  } catch (e) {
    throw new StartupError('E_MODEL', `${source} is not an ONNX model: ${(e as Error).message}`,
      'give a model written by `eta-sensor train` (the file may be damaged: retrain or restore it)');
  }
  const get = (k: string): string => {
    const v = props.get(k);
    if (v === undefined) {
      throw new StartupError('E_MODEL', `${source} lacks metadata "${k}"`,
        'use a model written by `eta-sensor train`, or retrain it');
    }
    return v;
  };
  const json = <T>(k: string): T => {
    try {
      return JSON.parse(get(k)) as T;
    } catch (e) {
      if (e instanceof StartupError) throw e;
      throw new StartupError('E_MODEL', `${source}: metadata "${k}" is not valid JSON`, 'retrain the model with `eta-sensor train`');
    }
  };
  const formatVersion = Number(get(KEYS.formatVersion));
  if (formatVersion !== FORMAT_VERSION) {
    throw new StartupError('E_MODEL', `${source} has metadata format ${formatVersion}, this build reads ${FORMAT_VERSION}`,
      'retrain the model with this version of eta-sensor');
  }
  const algo = get(KEYS.algo);
  if (algo !== 'rf' && algo !== 'gbdt') {
    throw new StartupError('E_MODEL', `${source}: unknown algorithm "${algo}"`, 'retrain the model with this version of eta-sensor');
  }
  return {
    formatVersion,
    features: json<string[]>(KEYS.features),
    registryHash: get(KEYS.registryHash),
    classes: json<string[]>(KEYS.classes),
    kind: get(KEYS.kind),
    algo,
    trainedAt: get(KEYS.trainedAt),
    data: json<DataSummary | null>(KEYS.data),
    metrics: json<Record<string, unknown> | null>(KEYS.metrics),
    params: json<Record<string, unknown>>(KEYS.params),
  };
}

/** Read the metadata of a model file without loading the model. */
export async function readModelMeta(path: string): Promise<ModelMeta> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new StartupError('E_MODEL', `cannot read model ${path}: ${(e as Error).message}`, 'check the --model path');
  }
  return parseModelMeta(bytes, path);
}
