/**
 * A worker without the label writer's addon (a partial build) still labels every flow, in
 * JavaScript, and the classifier says so once as a warning naming the fix, instead of running
 * slower in silence.
 */
import t from 'tap';
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { Classifier, type ClassifierOptions } from '../../agent/infer/classifier.js';
import { loadModels, type LoadedModel } from '../../agent/infer/models.js';
import type { ClassifyResult } from '../../agent/infer/types.js';
import { tinyModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-label-writer-'));
let models: LoadedModel[];
const opts: ClassifierOptions = { workers: 1, batchSize: 16, batchTimeoutMs: 2, maxQueue: 1000, maxWaitMs: 5000, mode: 'block' };

t.before(async () => {
  const app = await tinyModel(dir, 'app', ['small', 'medium', 'large']);
  const attr = await tinyModel(dir, 'attribution', ['chat', 'browsing', 'streaming']);
  models = await loadModels({ app: { path: app, threshold: 0.5 }, attribution: { path: attr, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
});

/** Labels for 30 flows of growing size, and the telemetry of the run. */
async function labelled(noAddon: boolean): Promise<{ json: string[]; warned: number; lines: string[] }> {
  const lines: string[] = [];
  const tel = createTelemetry(pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }));
  // Worker threads take a copy of the environment when they start: set it around the pool's start only.
  if (noAddon) process.env['ETA_FAULT_NO_LABEL_ADDON'] = '1';
  const results: Array<[number, ClassifyResult]> = [];
  const c = new Classifier<{ id: number; features: Float64Array }>(models, FEATURE_NAMES, opts, tel, (it, r) => results.push([it.id, r]));
  delete process.env['ETA_FAULT_NO_LABEL_ADDON'];
  await c.ready;
  const bytes = FEATURE_NAMES.indexOf('src2dst_bytes');
  for (let i = 0; i < 30; i++) {
    const f = new Float64Array(FEATURE_NAMES.length);
    f[bytes] = 100 * 1.3 ** i;
    c.submit({ id: i, features: f });
  }
  await c.close();
  results.sort((a, b) => a[0] - b[0]);
  return { json: results.map(([, r]) => r.json ?? ''), warned: tel.counters.get('infer.labels-written-in-js'), lines };
}

t.test('without the addon: the same labels, and one warning naming the fix', async (t) => {
  const usual = await labelled(false);
  t.equal(usual.warned, 0, 'no warning with the addon built');
  const js = await labelled(true);
  t.equal(js.warned, 1);
  t.match(js.lines.join('\n'), /labels-written-in-js.*ETA_FAULT_NO_LABEL_ADDON is set.*npm ci/);
  t.equal(js.json.length, 30);
  t.same(js.json, usual.json, 'the JavaScript writer wrote the same bytes');
});
