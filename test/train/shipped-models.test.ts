// The models shipped in models/ work in the agent as they are: onnxruntime loads them fast, they use
// registry features in registry order, record this registry's hash, and say sensible things about
// the sample capture.
import t from 'tap';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../agent/config.js';
import { FEATURE_NAMES, registryHash } from '../../agent/features/registry.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { extractFile } from '../../agent/flows/extract-file.js';
import { USAGE_TYPES } from '../../agent/label/categories.js';
import { readModelMeta } from '../../agent/train/model-meta.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = `${ROOT}samples/lo-sessions.pcap`;

async function classify(path: string, flows: readonly FlowRecord[]) {
  const ort = await import('onnxruntime-node');
  const meta = await readModelMeta(path);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  const loadMs = performance.now() - t0;
  const F = meta.features.length;
  const col = meta.features.map((f) => FEATURE_NAMES.indexOf(f));
  const x = new Float32Array(flows.length * F);
  flows.forEach((fl, i) => col.forEach((j, f) => (x[i * F + f] = fl.features[j]!)));
  const out = await session.run({ features: new ort.Tensor('float32', x, [flows.length, F]) });
  const io = { inputs: session.inputNames, outputs: session.outputNames };
  await session.release();
  const C = meta.classes.length;
  const probs = out['probabilities']!.data as Float32Array;
  const rows = flows.map((_, i) => [...probs.subarray(i * C, i * C + C)]);
  const top = rows.map((p) => meta.classes[p.indexOf(Math.max(...p))]!);
  return { meta, loadMs, io, rows, labels: out['label']!.data as string[], top };
}

for (const kind of ['app', 'attribution'] as const) {
  t.test(`models/${kind}.onnx`, async (t) => {
    const path = `${ROOT}models/${kind}.onnx`;
    const bytes = statSync(path).size;
    t.ok(bytes < 4 * 1024 * 1024, `${(bytes / 1024).toFixed(0)} KiB: small enough to load fast`);
    const flows = (await extractFile(SAMPLE)).flows;
    const r = await classify(path, flows);
    t.ok(r.loadMs < 2000, `onnxruntime session in ${r.loadMs.toFixed(0)} ms`);
    t.same(r.io, { inputs: ['features'], outputs: ['label', 'probabilities'] });
    t.equal(r.meta.kind, kind);
    t.equal(r.meta.registryHash, registryHash(), 'trained on this registry');
    const pos = r.meta.features.map((f) => FEATURE_NAMES.indexOf(f));
    t.notOk(pos.includes(-1), 'only registry features');
    t.ok(pos.every((p, i) => i === 0 || p > pos[i - 1]!), 'in registry order');
    t.ok(r.meta.classes.length >= 2 && r.meta.classes.length <= 128, `${r.meta.classes.length} classes`);
    t.ok(r.meta.metrics && typeof r.meta.metrics['method'] === 'string', 'its metrics say how they were measured');
    for (const [i, p] of r.rows.entries()) {
      t.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-3, `flow ${i}: probabilities sum to 1`);
      t.equal(r.labels[i], r.top[i], `flow ${i}: label is the most probable class`);
    }
    if (kind === 'app') {
      t.ok(r.meta.classes.includes('unknown'));
      const tls = flows.map((f, i) => [f, i] as const).filter(([f]) => f.meta?.sni?.endsWith('.sample.eta-sensor.test'));
      t.ok(tls.length >= 4, 'the sample has TLS sessions to a test server');
      // What the agent publishes: the top class, or "unknown" below the configured threshold.
      const threshold = defaultConfig().infer.app.threshold;
      const published = tls.map(([, i]) => (Math.max(...r.rows[i]!) >= threshold ? r.top[i] : 'unknown'));
      t.same(published, tls.map(() => 'unknown'), `a self-signed test server is no app it knows (top classes ${tls.map(([, i]) => r.top[i]).join(', ')}, threshold ${threshold})`);
    } else {
      t.same([...r.meta.classes].sort(), [...USAGE_TYPES].sort(), 'the five usage types');
      // The sample's VoIP-like stream: 172-byte datagrams every 20 ms both ways for a second.
      const rtp = flows.findIndex((f) => f.proto === 17 && f.features[FEATURE_NAMES.indexOf('src2dst_packets')]! >= 40);
      t.ok(rtp >= 0, 'the sample has its VoIP-like stream');
      t.equal(r.top[rtp], 'voip', 'the VoIP-like stream is voip');
    }
  });
}
