/**
 * Workers started ahead (infer/pool.ts): a classifier adopts them only when they opened its
 * models with its number of workers; otherwise they are destroyed (never left running, which
 * would keep the process alive) and the classifier starts its own.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { Classifier, type ClassifierOptions } from '../../agent/infer/classifier.js';
import { loadModels, type LoadedModel } from '../../agent/infer/models.js';
import { closeInferencePool, poolFor, startInferencePool } from '../../agent/infer/pool.js';
import type { ClassifyResult } from '../../agent/infer/types.js';
import { cliEnv } from '../helpers/cli.js';
import { tinyModel } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-pool-'));
let models: LoadedModel[];
let other: LoadedModel[];
const tel = createTelemetry();

t.before(async () => {
  const app = await tinyModel(dir, 'app', ['small', 'medium', 'large']);
  const attr = await tinyModel(dir, 'attribution', ['chat', 'browsing', 'streaming']);
  models = await loadModels({ app: { path: app, threshold: 0.5 }, attribution: { path: attr, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
  // The same files with another threshold: the workers label with the thresholds they were given.
  other = await loadModels({ app: { path: app, threshold: 0.9 }, attribution: { path: attr, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
});

/** Whether a pool still has worker threads, a little after it may have been destroyed (piscina does that asynchronously). */
/** Whether the pool still has threads 3 s on (a pool being closed first lets its workers finish opening the models). */
async function alive(p: ReturnType<typeof startInferencePool>): Promise<boolean> {
  for (let i = 0; i < 60 && p.piscina.threads.length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  return p.piscina.threads.length > 0;
}

t.test('a pool started for the same models and workers is adopted, and labels the flows', async (t) => {
  const given = startInferencePool(models, 1, tel);
  t.equal(poolFor(given, models, 1, tel), given, 'the same pool');
  const opts: ClassifierOptions = { workers: 1, batchSize: 16, batchTimeoutMs: 2, maxQueue: 1000, maxWaitMs: 5000, mode: 'block', pool: given };
  const results: ClassifyResult[] = [];
  const c = new Classifier<{ features: Float64Array }>(models, FEATURE_NAMES, opts, tel, (_, r) => results.push(r));
  await c.ready;
  for (let i = 0; i < 40; i++) c.submit({ features: new Float64Array(FEATURE_NAMES.length) });
  await c.close();
  t.equal(results.length, 40);
  t.ok(results.every((r) => r.json?.startsWith('"app":{"label":')), 'every flow labelled');
  t.notOk(await alive(given), 'closed with the classifier that adopted it');
});

t.test('a pool started for other settings is destroyed and replaced', async (t) => {
  for (const [what, m, workers] of [['another worker count', models, 2], ['another threshold', other, 1]] as const) {
    const given = startInferencePool(models, 1, tel);
    const used = poolFor(given, m, workers, tel);
    t.not(used, given, `${what}: a new pool`);
    t.notOk(await alive(given), `${what}: the one started ahead is destroyed`);
    if (used) await closeInferencePool(used);
  }
});

t.test('without models there is no pool, and one started ahead is destroyed', async (t) => {
  const given = startInferencePool(models, 1, tel);
  t.equal(poolFor(given, [], 1, tel), undefined);
  t.notOk(await alive(given));
  t.equal(poolFor(undefined, [], 1, tel), undefined);
});

t.test('a pool closed while its workers open the models ends them without aborting the process', async (t) => {
  // Found by review: destroyed mid-open, a worker made onnxruntime's binding throw a C++
  // exception that aborted the process (2 runs in 3 of this fixture, before closeInferencePool).
  const fixture = new URL('./fixtures/close-while-opening.js', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [fixture, '40'], { encoding: 'utf8', timeout: 120_000, env: cliEnv() });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'survived\n');
});

t.test('a second stop signal while the workers open the models ends the process by that signal, never an abort', async (t) => {
  // Found by review: the CLI's second Ctrl-C called process.exit(), which stops the worker threads
  // and runs the native teardown; with a worker inside onnxruntime's model opening, the binding's
  // C++ exception aborted the process (status 134, a core dump: 6 replays in 14 of a sweep of
  // Ctrl-C timings). Ended by the signal itself, nothing of that runs. Without the fix every run
  // here ends with status 130 from process.exit(). The signals come at several moments of the
  // opening, one process each.
  const fixture = new URL('./fixtures/second-signal-while-opening.js', import.meta.url).pathname;
  for (const ms of [20, 40, 60, 80, 100, 120, 140, 160]) {
    const r = spawnSync(process.execPath, [fixture, String(ms)], { encoding: 'utf8', timeout: 60_000, env: cliEnv() });
    t.equal(r.signal, 'SIGINT', `${ms} ms: ended by SIGINT (status ${r.status}, signal ${r.signal}) ${r.stdout}${r.stderr}`);
  }
});
