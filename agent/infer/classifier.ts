/**
 * Batches flows for the worker pool and turns the answers into labels.
 *
 *   submit ─▶ open batch ──(size or time limit)──▶ waiting batches ──▶ piscina workers
 *                                                        │ shed mode: too old / too many
 *                                                        ▼
 *                                               unlabeled "overload" (counted)
 *
 * Bounded: at most `maxQueue` flows wait. In `shed` mode (live capture) a flow
 * beyond that, or one that waited longer than `maxWaitMs`, is returned
 * unlabeled; in `block` mode (replay) the caller waits for room instead, so a
 * replay labels every flow. A failed batch (a worker died, onnxruntime threw)
 * is retried once, then returned unlabeled with reason "inference-error".
 *
 * Startup: the workers open the models and `ready` says whether onnxruntime took them. Batches
 * wait (bounded, as above) until then, and until whatever the caller adds with `holdUntil`; so a
 * replay meters packets while the workers start. If either fails, nothing is ever published:
 * the flows are dropped and `drain()` returns, for the caller to stop with the error.
 */
import { report, type Telemetry } from '../events.js';
import { BatchInputs } from './batch-inputs.js';
import { forEachRow } from './labels.js';
import { probeThrough, type LoadedModel } from './models.js';
import { closeInferencePool, poolFor, TASKS_PER_WORKER, type InferencePool } from './pool.js';
import type { Batch, ClassifierOptions, ClassifyResult, Featured, InferAnswer, UnlabeledReason } from './types.js';

export type { ClassifierOptions, Featured } from './types.js';

const NONE: readonly string[] = Object.freeze([]);
/** After the shutdown's labelling deadline, how long a batch at a worker may still take. */
const STUCK_MS = 500;

export class Classifier<T extends Featured> {
  /** The workers (none without models); the classifier ends them in close(). */
  private readonly pool: InferencePool | undefined;
  private readonly inputs: BatchInputs;
  /** The kinds every labelled result has, in the models' order. */
  private readonly kinds: readonly string[];
  private open: T[] = [];
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiting: Batch<T>[] = [];
  /** Batches that failed once, each to be retried alone (see pump). */
  private readonly retries: Batch<T>[] = [];
  private retrying = 0;
  private inFlight = 0;
  /** The batches at the workers (shutDownAt gives up on them when stuck). */
  private readonly atWorkers = new Set<Batch<T>>();
  private pendingItems = 0;
  private readonly idle: Array<() => void> = [];
  private readonly room: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout | undefined;
  /** Flows labelled (for the inference rate in stats). */
  classified = 0;
  /** Time the workers spent on the batches answered, summed over workers: how busy inference kept them. */
  busyMs = 0;
  /** The workers' CPU time on those batches (lib/thread-cpu.ts); NaN once a worker could not read it. */
  cpuMs = 0;
  /** Resolves once a worker has opened every model; rejects with the StartupError naming the file onnxruntime refused. */
  readonly ready: Promise<void>;
  /** Batches wait while held (see holdUntil); `failed` once the models or the caller's gate failed. */
  private held: boolean;
  /** performance.now() when the last hold let batches through (Infinity before): waits before it are startup, not inference. */
  releasedAt = Infinity;
  /** Flows waiting when the last hold let batches through: those the input produced while the workers started. */
  backlogAtRelease = 0;
  private gates = 0;
  private failed: Error | undefined;
  /** opts.mode, until a shutdown makes it 'block' (shutDownAt). */
  private mode: 'shed' | 'block';
  /** Date.now() from which no flow waits for inference (shutDownAt); Infinity until a shutdown. */
  private bypassAt = Infinity;

  constructor(
    private readonly models: readonly LoadedModel[],
    layout: readonly string[],
    private readonly opts: ClassifierOptions,
    private readonly t: Telemetry,
    private readonly onResult: (item: T, result: ClassifyResult) => void,
  ) {
    this.mode = opts.mode;
    this.inputs = new BatchInputs(models, layout, opts.batchSize);
    this.kinds = Object.freeze(models.map((m) => m.kind));
    this.pool = poolFor(opts.pool, models, opts.workers, t, opts.nice);
    this.ready = this.pool ? probeThrough(this.pool, models, t) : Promise.resolve();
    this.held = this.pool !== undefined;
    this.holdUntil(this.ready).catch(() => undefined); // the failure is `ready`'s, for its callers
    if (opts.mode === 'shed') {
      this.sweeper = setInterval(() => this.shedOld(), Math.max(10, Math.min(250, opts.maxWaitMs / 4)));
      this.sweeper.unref();
    }
  }

  /**
   * Send no batch before `gate` resolves as well as `ready` (replay opens its sink only once the
   * models have opened, so a bad model leaves an output file as it was). A rejection fails the
   * classifier (see the header), and the returned promise with it.
   */
  holdUntil(gate: Promise<unknown>): Promise<void> {
    const id = ++this.gates;
    this.held = this.pool !== undefined;
    return Promise.all([this.ready, gate]).then(() => {
      if (id !== this.gates) return; // a later gate holds the batches now
      this.held = false;
      this.releasedAt = performance.now();
      this.backlogAtRelease = this.pendingItems;
      this.pump();
    }, (e: Error) => {
      this.abandon(e);
      throw e;
    });
  }

  /** Startup failed: drop every flow unpublished and release whoever waits. */
  private abandon(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.settled(this.takeQueued().reduce((n, items) => n + items.length, 0));
  }

  /** Every flow queued and not at a worker (open, waiting, to retry), taken out of the queue. */
  private takeQueued(): T[][] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const out = [...this.waiting.splice(0), ...this.retries.splice(0)].map((b) => b.items);
    if (this.open.length > 0) out.push(this.open);
    this.open = [];
    return out;
  }

  /** Flows submitted and not yet answered. */
  get backlog(): number {
    return this.pendingItems;
  }

  submit(item: T): void {
    if (this.failed) return;
    if (this.models.length === 0) {
      this.emit(item, { kinds: NONE });
      return;
    }
    if (this.bypassAt !== Infinity && Date.now() >= this.bypassAt) {
      this.emit(item, { kinds: NONE, unlabeled: 'shutdown' });
      return;
    }
    if (this.mode === 'shed' && this.pendingItems >= this.opts.maxQueue) {
      report(this.t, 'infer', 'overload', { backlog: this.pendingItems });
      this.emit(item, { kinds: NONE, unlabeled: 'overload' });
      return;
    }
    this.pendingItems++;
    if (this.open.length === 0) {
      this.openedAt = Date.now();
      if (this.opts.batchTimeoutMs > 0) this.timer = setTimeout(() => this.closeBatch(), this.opts.batchTimeoutMs);
    }
    this.open.push(item);
    if (this.open.length >= this.opts.batchSize || this.opts.batchTimeoutMs === 0) this.closeBatch();
  }

  /**
   * A shutdown (SIGTERM): the input has stopped, so flows wait for room instead of being shed; and
   * from `at` (Date.now()) none waits for inference: those queued and those to come are published
   * unlabeled ("shutdown"), so the drain fits the stop's time (found by review: 600,000 open flows
   * took 18 s of a 2 s shutdown_timeout). Batches at a worker still come back.
   */
  shutDownAt(at: number): void {
    this.mode = 'block';
    for (const r of this.room.splice(0)) r(); // waiters re-check under the new mode
    this.bypassAt = Math.min(this.bypassAt, at);
    const unlabel = (lists: T[][]): void => {
      for (const items of lists) this.finish(items, 'shutdown');
    };
    setTimeout(() => unlabel(this.takeQueued()), Math.max(0, this.bypassAt - Date.now())).unref();
    // A batch still at a worker half a second later is stuck there: its answer, if any, is ignored.
    setTimeout(() => {
      const stuck = [...this.atWorkers];
      this.atWorkers.clear();
      for (const b of stuck) b.abandoned = true;
      unlabel(stuck.map((b) => b.items));
    }, Math.max(0, this.bypassAt + STUCK_MS - Date.now())).unref();
  }

  /** Block mode: resolves when fewer than `maxQueue` flows are waiting. */
  async waitForRoom(): Promise<void> {
    while (this.pendingItems >= this.opts.maxQueue) await new Promise<void>((r) => this.room.push(r));
  }

  /** Send the open batch now and resolve when every flow submitted so far has its result. */
  async drain(): Promise<void> {
    this.closeBatch();
    while (this.pendingItems > 0) await new Promise<void>((r) => this.idle.push(r));
  }

  async close(): Promise<void> {
    await this.drain();
    if (this.sweeper) clearInterval(this.sweeper);
    if (this.pool) await closeInferencePool(this.pool);
  }

  private closeBatch(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.open.length === 0) return;
    this.waiting.push({ items: this.open, createdAt: this.openedAt, attempts: 0 });
    this.open = [];
    this.pump();
  }

  /** Keep each worker TASKS_PER_WORKER batches deep; the rest wait here (bounded, and sheddable in live capture). */
  private pump(): void {
    if (this.held || this.failed) return;
    // A dead worker fails every batch it held. Each is retried alone, with nothing else in the
    // pool: a batch that kills its worker again then fails by itself, not with the batches that
    // happened to be queued beside it.
    if (this.retries.length > 0 || this.retrying > 0) {
      if (this.inFlight === 0 && this.retries.length > 0) {
        this.retrying++;
        this.dispatch(this.retries.shift()!);
      }
      return;
    }
    const limit = this.opts.workers * TASKS_PER_WORKER;
    while (this.inFlight < limit && this.waiting.length > 0) this.dispatch(this.waiting.shift()!);
  }

  private shedOld(): void {
    if (this.mode !== 'shed') return;
    const now = Date.now();
    while (this.waiting.length > 0 && now - this.waiting[0]!.createdAt > this.opts.maxWaitMs) {
      const b = this.waiting.shift()!;
      report(this.t, 'infer', 'overload', { waited_ms: now - b.createdAt, flows: b.items.length });
      this.finish(b.items, 'overload');
    }
    if (this.open.length > 0 && now - this.openedAt > this.opts.maxWaitMs) this.closeBatch();
  }

  private dispatch(b: Batch<T>): void {
    const pool = this.pool!.piscina;
    const rows = b.items.length;
    const { task, transfer } = this.inputs.task(b.items);
    this.inFlight++;
    const retry = b.attempts > 0;
    const done = (): void => {
      this.atWorkers.delete(b);
      this.inFlight--;
      if (retry) this.retrying--;
    };
    this.atWorkers.add(b);
    pool.run(task, { transferList: transfer }).then(
      (answer: InferAnswer) => {
        done();
        if (b.abandoned) return this.inputs.recycle(answer.buffers); // published unlabeled at shutdown
        this.busyMs += answer.busyMs;
        this.cpuMs += answer.cpuMs ?? NaN;
        this.deliver(b.items, answer);
        this.inputs.recycle(answer.buffers);
        this.pump();
      },
      (err: Error) => {
        done();
        if (b.abandoned) return;
        b.attempts++;
        // Not past the shutdown's deadline: a retry left behind a stuck one never got a result (found by review).
        const again = b.attempts === 1 && Date.now() < this.bypassAt;
        report(this.t, 'infer', again ? 'batch-retried' : 'batch-failed', { err: err.message, flows: rows }, 'error');
        if (again) this.retries.push(b);
        else this.finish(b.items, b.attempts === 1 ? 'shutdown' : 'inference-error');
        this.pump();
      },
    );
  }

  /** Each flow gets its row of the answer's text, as a string: the record carries it as it is (pipeline/record.ts). */
  private deliver(items: T[], answer: InferAnswer): void {
    forEachRow(answer, items.length, (r, json) => this.emit(items[r]!, { json, kinds: this.kinds }));
    this.classified += items.length;
    this.settled(items.length);
  }

  private finish(items: T[], reason: UnlabeledReason): void {
    for (const it of items) this.emit(it, { kinds: NONE, unlabeled: reason });
    this.settled(items.length);
  }

  /** Every result goes through here, those submit() gives at once too: a throwing handler is counted, never thrown into the flow meter. */
  private emit(item: T, result: ClassifyResult): void {
    try {
      this.onResult(item, result);
    } catch (e) {
      report(this.t, 'infer', 'result-handler-error', { err: (e as Error).message }, 'error');
    }
  }

  private settled(n: number): void {
    this.pendingItems -= n;
    if (this.pendingItems < this.opts.maxQueue) for (const r of this.room.splice(0)) r();
    if (this.pendingItems === 0) for (const r of this.idle.splice(0)) r();
  }
}
