/**
 * The inference workers' pool, startable before the rest of the pipeline exists.
 *
 * A worker takes ~150 ms of its own core to be ready (Node's bootstrap, onnxruntime's library,
 * one session per model). `replay` starts the pool as soon as the models are known, before it
 * loads the flow meter's and the sinks' modules, so that the two overlap. Measured on a replay of
 * 84,620 flows, 5 runs each: started by the Classifier, after those modules, the workers took
 * their first batch 224-305 ms into the replay, with 17,000-24,000 flows waiting for them (held
 * in memory, promoted by V8's collector), peak RSS 245-288 MB; started here, 173-217 ms,
 * 7,800-12,200 flows, 213-251 MB. The replay's wall time did not change measurably (median of 10
 * paired rounds 2% slower, inside the machine's noise).
 */
import './ort-quiet.js';
import { Piscina } from 'piscina';
import { report, type Telemetry } from '../events.js';
import { detachEarly } from '../lib/detach-early.js';
import { workerExecArgv } from '../lib/worker-args.js';
import type { LoadedModel } from './models.js';
import type { WorkerInit } from './types.js';

/**
 * Batches handed to each worker at once; it runs them one after another (worker.ts chains its
 * tasks). Piscina hands a worker its next task from the main thread, which
 * the flow meter keeps busy for tens of milliseconds at a time: with one batch running and one
 * queued (piscina's default), a worker sat idle 45% of a replay and a replay of 84,620 flows took
 * 2.55 s with one worker; four at a time keep it fed (1.75-1.9 s). At most four batches per
 * worker are then out of reach of shedding: about 30 ms of inference in full batches of the
 * default size (1024), less at live rates, whose batches batch_timeout_ms closes first.
 */
export const TASKS_PER_WORKER = 4;

/** A started pool, and what it was started for: a Classifier adopts it only for the same models and worker count. */
export interface InferencePool {
  readonly piscina: Piscina;
  readonly key: string;
}

/** What a pool's workers open and label with: the models' files, classes and thresholds. */
function workerInit(models: readonly LoadedModel[], nice: number): WorkerInit {
  return { models: Object.fromEntries(models.map((m) => [m.kind, { path: m.path, classes: m.meta.classes, threshold: m.threshold }])), nice };
}

export function poolKey(models: readonly LoadedModel[], workers: number, nice = 0): string {
  return JSON.stringify([workers, workerInit(models, nice)]);
}

/** Starts `workers` threads opening `models` (none may be empty: a pool serves models), `nice` steps below this thread's priority. */
export function startInferencePool(models: readonly LoadedModel[], workers: number, t: Telemetry, nice = 0): InferencePool {
  detachEarly(); // this thread will transfer every batch's buffers (lib/detach-early.ts)
  const piscina = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 2 ** 31 - 1,
    concurrentTasksPerWorker: TASKS_PER_WORKER,
    workerData: workerInit(models, nice),
    execArgv: workerExecArgv(),
  });
  // A worker that dies is replaced by piscina; the failed task is retried by the Classifier. The
  // listener is attached here, at the start: an 'error' nobody listens to would end the process.
  piscina.on('error', (e: Error) => report(t, 'infer', 'worker-error', { err: e.message }, 'error'));
  return { piscina, key: poolKey(models, workers, nice) };
}

/** How long closeInferencePool waits for workers still opening their sessions. */
const OPENING_LIMIT_MS = 3000;

/**
 * Ends the pool's workers once none is inside onnxruntime opening a model: a worker terminated
 * there made onnxruntime's binding throw a C++ exception on the way out, which aborted the whole
 * process (test/infer/fixtures/close-while-opening.ts: 3 runs of 3 aborted, each closing 40 pools). A
 * worker opens the models as it starts; the probe answers only once they are open (or refused),
 * so one probe per worker, answered, means none is still opening (piscina hands concurrent tasks
 * to idle workers first). It also wakes a worker that sleeps between tasks with the opening's
 * last steps pending. At most OPENING_LIMIT_MS: a worker that died does not answer.
 */
export async function closeInferencePool(pool: InferencePool): Promise<void> {
  const probes = pool.piscina.threads.map(() => pool.piscina.run({}, { name: 'probe' }).catch(() => undefined));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(probes), new Promise((r) => { timer = setTimeout(r, OPENING_LIMIT_MS); })]);
  clearTimeout(timer);
  await pool.piscina.destroy().catch(() => undefined);
}

/**
 * The pool a Classifier runs on: `given` when it was started for these models and this many
 * workers, a new one otherwise (`given` then destroyed: its workers opened other files), none
 * without models.
 */
export function poolFor(given: InferencePool | undefined, models: readonly LoadedModel[], workers: number, t: Telemetry, nice = 0): InferencePool | undefined {
  const key = models.length === 0 ? undefined : poolKey(models, workers, nice);
  if (given && given.key === key) return given;
  if (given) void closeInferencePool(given); // nothing of its work is waited for
  return key === undefined ? undefined : startInferencePool(models, workers, t, nice);
}
