/** The stats' inference totals count every classifier a reload (SIGHUP) replaced: they never go back. */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig } from '../../agent/config.js';
import { createTelemetry } from '../../agent/events.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { loadModels } from '../../agent/infer/models.js';
import { perSecond, Pipeline } from '../../agent/pipeline.js';
import { createSink } from '../../agent/publish/index.js';
import { tinyModel } from '../helpers/models.js';

t.test('classified and busy_ms after a reload include what the replaced models did', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-reload-stats-'));
  const app = await tinyModel(dir, 'app', ['s', 'm', 'l']);
  const models = await loadModels({ app: { path: app, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
  const base = defaultConfig();
  const cfg = { ...base, infer: { ...base.infer, workers: 1 } };
  const tm = createTelemetry();
  const sink = await createSink({ ...cfg.publish, sink: 'none' }, tm);
  await sink.open();
  const p = new Pipeline({ cfg, t: tm, sink, models, sensorId: 'test', mode: 'live' });
  p.holdUntil(Promise.resolve());
  await p.ready;
  const flow = (i: number): FlowRecord => {
    const features = new Float64Array(FEATURE_NAMES.length);
    features[2] = i;
    return { features, srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: i, dstPort: 80, proto: 6, vlan: 0, firstTs: 1, lastTs: 2, endReason: 'idle', meta: null };
  };
  const c = (p as unknown as { classifier: { submit(r: FlowRecord): void } }).classifier;
  for (let i = 0; i < 2000; i++) c.submit(flow(i));
  await p.drain();
  const before = (p.stats() as { infer: { classified: number; busy_ms: number } }).infer;
  t.equal(before.classified, 2000);
  t.ok(before.busy_ms >= 0);
  await p.swapModels(models); // what SIGHUP does
  const after = (p.stats() as { infer: { classified: number; busy_ms: number } }).infer;
  t.equal(after.classified, 2000, 'the flows labelled before the reload still count');
  t.ok(after.busy_ms >= before.busy_ms, `busy_ms ${before.busy_ms} -> ${after.busy_ms}`);
  await p.close();
  await sink.close(1000);
});

t.test('the rates in the stats are over the last interval, not since the start', async (t) => {
  // Found by review: per_second was the total over the uptime, so a daemon that stopped labelling
  // after a busy start still showed a rate; over the interval since the last stats it shows 0.
  const base = defaultConfig();
  const tm = createTelemetry();
  const sink = await createSink({ ...base.publish, sink: 'none' }, tm);
  await sink.open();
  const p = new Pipeline({ cfg: base, t: tm, sink, models: [], sensorId: 'test', mode: 'live' });
  const c = (p as unknown as { classifier: { submit(r: FlowRecord): void } }).classifier;
  const rates = (): { infer: number; publish: number } => {
    const s = p.stats() as { infer: { per_second: number }; publish: { per_second: number } };
    return { infer: s.infer.per_second, publish: s.publish.per_second };
  };
  const idle = (): Promise<void> => new Promise((r) => setTimeout(r, 600));
  for (let i = 0; i < 300; i++) c.submit({ features: new Float64Array(FEATURE_NAMES.length), srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: i, dstPort: 80, proto: 6, vlan: 0, firstTs: 1, lastTs: 2, endReason: 'idle', meta: null });
  await p.drain();
  await idle();
  const busy = rates();
  t.ok(busy.publish > 100 && busy.publish <= 600, `300 records in the first interval (0.6 s or a little more): ${busy.publish}/s`);
  t.same(rates(), busy, 'asked again at once: the same interval');
  await idle();
  t.same(rates(), { infer: 0, publish: 0 }, 'nothing in the last interval: 0, whatever came before');
  // A flow every few seconds is a rate under 1: shown as such, not rounded to 0 (found by review).
  t.equal(perSecond(2, 5), 0.4);
  t.equal(perSecond(1, 0.6), 1.67);
  t.equal(perSecond(0, 5), 0);
  await p.close();
  await sink.close(1000);
});
