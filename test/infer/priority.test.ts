/**
 * infer.nice: the inference workers run below the flow meter's priority (infer/priority.ts), each
 * worker thread alone, never the main thread; a platform without per-thread priorities is said.
 */
import t from 'tap';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { Classifier } from '../../agent/infer/classifier.js';
import { loadModels, type LoadedModel } from '../../agent/infer/models.js';
import { lowerThreadPriority } from '../../agent/infer/priority.js';
import { tinyModel } from '../helpers/models.js';

const linux = process.platform === 'linux';
const dir = mkdtempSync(join(tmpdir(), 'eta-nice-'));
let models: LoadedModel[];

t.before(async () => {
  const app = await tinyModel(dir, 'app', ['small', 'large']);
  models = await loadModels({ app: { path: app, threshold: 0.5 } }, FEATURE_NAMES, 'the flow meter');
});

/** Each thread of this process: its id and nice value (/proc/self/task/<tid>/stat, field 19). */
function threadNices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16])); // field 19 of stat(5), the 17th after the name
  }
  return out;
}

async function workerNices(nice: number): Promise<{ main: number; others: number[] }> {
  const tel = createTelemetry();
  const c = new Classifier<{ features: Float64Array }>(models, FEATURE_NAMES,
    { workers: 2, nice, batchSize: 8, batchTimeoutMs: 2, maxQueue: 100, maxWaitMs: 5000, mode: 'block' }, tel, () => undefined);
  await c.ready; // both workers answered the probe only once they exist; ask each for a batch to be sure
  for (let i = 0; i < 64; i++) c.submit({ features: new Float64Array(FEATURE_NAMES.length) });
  await c.drain();
  const all = threadNices();
  await c.close();
  t.equal(tel.counters.get('infer.priority-not-lowered'), 0, 'no warning that the priority stayed');
  const main = all.get(process.pid)!;
  all.delete(process.pid);
  return { main, others: [...all.values()] };
}

t.test('the workers lower their own priority, not the main thread\'s', { skip: linux ? false : 'per-thread priorities are Linux only' }, async (t) => {
  const before = threadNices().get(process.pid)!;
  const { main, others } = await workerNices(7);
  t.equal(main, before, 'the main thread keeps its priority');
  const lowered = others.filter((n) => n === Math.min(19, before + 7));
  t.equal(lowered.length, 2, `two threads at nice ${before + 7}, one per worker (threads: ${others.join(' ')})`);
});

t.test('nice 0 leaves every thread at the process\'s priority', { skip: linux ? false : 'per-thread priorities are Linux only' }, async (t) => {
  const before = threadNices().get(process.pid)!;
  const { others } = await workerNices(0);
  t.same(others.filter((n) => n !== before), [], 'no thread lowered');
});

t.test('a platform without per-thread priorities is named, and nothing is lowered', async (t) => {
  t.match(lowerThreadPriority(5, 'darwin'), /no priority of their own on darwin/);
  t.equal(lowerThreadPriority(0, 'darwin'), undefined, 'nothing asked, nothing said');
});
