/**
 * Inference throughput of the shipped models through onnxruntime-node, the
 * runtime the agent uses: flows per second at batch 1 (a quiet link) and 256
 * (the agent's default batch), one intra-op thread as in each agent worker.
 */
import '../agent/infer/ort-quiet.js';
import { basename } from 'node:path';
import { readModelMeta } from '../agent/train/model-meta.js';
import { extractFile } from '../agent/flows/extract-file.js';
import { FEATURE_NAMES } from '../agent/features/registry.js';
import type { BenchRow } from './types.js';

const SAMPLE = new URL('../../samples/lo-sessions.pcap', import.meta.url).pathname;

export async function inferenceRows(models: readonly string[], quick: boolean): Promise<BenchRow[]> {
  if (models.length === 0) return [];
  const ort = await import('onnxruntime-node');
  const flows = (await extractFile(SAMPLE)).flows;
  const rows: BenchRow[] = [];
  for (const path of models) {
    const meta = await readModelMeta(path);
    const col = meta.features.map((f) => FEATURE_NAMES.indexOf(f));
    const F = col.length;
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    for (const batch of [1, 256]) {
      const x = new Float32Array(batch * F);
      for (let i = 0; i < batch; i++) {
        const fl = flows[i % flows.length]!;
        for (let f = 0; f < F; f++) x[i * F + f] = fl.features[col[f]!]!;
      }
      const feeds = { features: new ort.Tensor('float32', x, [batch, F]) };
      for (let i = 0; i < 20; i++) await session.run(feeds);
      const budget = quick ? 500 : 2000;
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < budget) {
        await session.run(feeds);
        n += batch;
      }
      rows.push({ name: `${basename(path)}: inference, batch ${batch}, 1 thread`, value: n / ((performance.now() - t0) / 1000), unit: 'flows/s', higherIsBetter: true });
    }
    await session.release();
  }
  return rows;
}
