/**
 * Small real models for tests: trained by our own trainer on synthetic rows
 * whose columns are registry features, exported to ONNX, loaded by
 * onnxruntime like the shipped ones.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryHash } from '../../agent/features/registry.js';
import { trainModel } from '../../agent/train/run-train.js';

export const TINY_FEATURES = ['src2dst_packets', 'dst2src_packets', 'src2dst_bytes', 'dst2src_bytes', 'ppi_size_1', 'bidirectional_duration_ms'];

/** A model whose classes are decided by src2dst_bytes (below 500, below 5000, above): easy to predict in tests. */
export async function tinyModel(dir: string, kind: string, classes: readonly string[], features: readonly string[] = TINY_FEATURES): Promise<string> {
  const rows: string[] = [[...features, 'label'].join(',')];
  let seed = 42;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 600; i++) {
    const k = i % classes.length;
    const bytes = k === 0 ? 100 + rnd() * 300 : k === 1 ? 1000 + rnd() * 3000 : 10000 + rnd() * 50000;
    const vals = features.map((f) => (f === 'src2dst_bytes' ? bytes : Math.floor(rnd() * 20)));
    rows.push([...vals, classes[k]].join(','));
  }
  const csv = join(dir, `${kind}-train.csv`);
  writeFileSync(csv, rows.join('\n') + '\n');
  const out = join(dir, `${kind}.onnx`);
  await trainModel({
    data: csv, label: 'label', out, algo: 'rf', trees: 10, minClassFlows: 1, rare: 'unknown', classWeight: 'none', seed: 1,
    holdout: 0, groupBy: null, threads: 1, badRows: 'fail', infinity: 'bad', kind, registryHash: registryHash(),
    trainedAt: '2026-01-01T00:00:00Z', producerVersion: 'test', features,
  });
  return out;
}

/** Both tiny models written to `dir`, as the `--set` arguments that make the CLI use them. */
export async function tinyModelArgs(dir: string): Promise<string[]> {
  const app = await tinyModel(dir, 'app', ['chat', 'web', 'video']);
  const attribution = await tinyModel(dir, 'attribution', ['chat', 'browsing', 'streaming']);
  return ['--set', `infer.app.path=${app}`, '--set', `infer.attribution.path=${attribution}`];
}

/**
 * A model whose metadata reads well but whose graph onnxruntime refuses: a tiny model with its
 * node modes renamed (same length, so the protobuf stays whole). What a half-corrupted copy or a
 * model from a newer exporter looks like to the agent's startup check.
 */
export async function refusedModel(dir: string, kind: string, classes: readonly string[]): Promise<string> {
  const good = readFileSync(await tinyModel(dir, `${kind}-good`, classes));
  const at = good.indexOf('BRANCH_LEQ');
  if (at < 0) throw new Error('tiny model has no split to corrupt');
  const bytes = Buffer.from(good.toString('latin1').replaceAll('BRANCH_LEQ', 'BRANCH_XXX'), 'latin1');
  const out = join(dir, `${kind}-refused.onnx`);
  writeFileSync(out, bytes);
  return out;
}
