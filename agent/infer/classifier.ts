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
 */
import { Piscina } from 'piscina';
import { report, type Telemetry } from '../events.js';
import { workerExecArgv } from '../lib/worker-args.js';
import { labelRow } from './labels.js';
import { columnIndex, type LoadedModel } from './models.js';
import type { ClassifyResult, InferTask, ModelLabel, UnlabeledReason, WorkerInit } from './types.js';

export interface ClassifierOptions {
  workers: number;
  batchSize: number;
  batchTimeoutMs: number;
  maxQueue: number;
  maxWaitMs: number;
  mode: 'shed' | 'block';
}

export interface Featured {
  readonly features: Float64Array;
}

interface Batch<T> {
  items: T[];
  createdAt: number;
  attempts: number;
}

const EMPTY: Readonly<Record<string, ModelLabel>> = Object.freeze({});

/**
 * Batches handed to each worker at once; it runs them one after another (worker.ts chains its
 * tasks). Piscina hands a worker its next task from the main thread, which
 * the flow meter keeps busy for tens of milliseconds at a time: with one batch running and one
 * queued (piscina's default), a worker sat idle 45% of a replay and a replay of 84,620 flows took
 * 2.55 s with one worker; four at a time keep it fed (1.75-1.9 s). At most four batches per
 * worker are then out of reach of shedding, about 15 ms of inference.
 */
export const TASKS_PER_WORKER = 4;

export class Classifier<T extends Featured> {
  private readonly pool: Piscina | undefined;
  private readonly columns: Int32Array[];
  /** Per model: the first model with the same input columns (its matrix is shared), and whether they are the layout's first columns in order. */
  private readonly sameInputAs: number[];
  private readonly identity: boolean[];
  private open: T[] = [];
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiting: Batch<T>[] = [];
  /** Batches that failed once, each to be retried alone (see pump). */
  private readonly retries: Batch<T>[] = [];
  private retrying = 0;
  private inFlight = 0;
  private pendingItems = 0;
  private readonly idle: Array<() => void> = [];
  private readonly room: Array<() => void> = [];
  private readonly sweeper: NodeJS.Timeout | undefined;
  /** Flows labelled, and the time spent in workers (for the inference rate in stats). */
  classified = 0;

  constructor(
    private readonly models: readonly LoadedModel[],
    layout: readonly string[],
    private readonly opts: ClassifierOptions,
    private readonly t: Telemetry,
    private readonly onResult: (item: T, result: ClassifyResult) => void,
  ) {
    this.columns = models.map((m) => columnIndex(m, layout));
    const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
    this.sameInputAs = this.columns.map((c, k) => this.columns.findIndex((o, j) => j <= k && same(o, c)));
    this.identity = this.columns.map((c) => c.every((v, i) => v === i));
    if (models.length > 0) {
      const workerData: WorkerInit = { models: Object.fromEntries(models.map((m) => [m.kind, m.path])) };
      this.pool = new Piscina({
        filename: new URL('./worker.js', import.meta.url).href,
        minThreads: opts.workers,
        maxThreads: opts.workers,
        idleTimeout: 2 ** 31 - 1,
        concurrentTasksPerWorker: TASKS_PER_WORKER,
        workerData,
        execArgv: workerExecArgv(),
      });
      // A worker that dies is replaced by piscina; the failed task is retried here.
      this.pool.on('error', (e: Error) => report(t, 'infer', 'worker-error', { err: e.message }, 'error'));
    }
    if (opts.mode === 'shed') {
      this.sweeper = setInterval(() => this.shedOld(), Math.max(10, Math.min(250, opts.maxWaitMs / 4)));
      this.sweeper.unref();
    }
  }

  /** Flows submitted and not yet answered. */
  get backlog(): number {
    return this.pendingItems;
  }

  submit(item: T): void {
    if (this.models.length === 0) {
      this.onResult(item, { labels: EMPTY });
      return;
    }
    if (this.opts.mode === 'shed' && this.pendingItems >= this.opts.maxQueue) {
      report(this.t, 'infer', 'overload', { backlog: this.pendingItems });
      this.onResult(item, { labels: EMPTY, unlabeled: 'overload' });
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
    await this.pool?.destroy();
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
    const now = Date.now();
    while (this.waiting.length > 0 && now - this.waiting[0]!.createdAt > this.opts.maxWaitMs) {
      const b = this.waiting.shift()!;
      report(this.t, 'infer', 'overload', { waited_ms: now - b.createdAt, flows: b.items.length });
      this.finish(b.items, 'overload');
    }
    if (this.open.length > 0 && now - this.openedAt > this.opts.maxWaitMs) this.closeBatch();
  }

  private dispatch(b: Batch<T>): void {
    const pool = this.pool!;
    const rows = b.items.length;
    const inputs: Record<string, Float32Array> = {};
    const matrices: Float32Array[] = [];
    this.models.forEach((m, k) => {
      // Models reading the same columns (the shipped ones: the whole registry) share one matrix.
      const shared = this.sameInputAs[k]!;
      if (shared < k) {
        inputs[m.kind] = matrices[shared]!;
        matrices.push(matrices[shared]!);
        return;
      }
      const cols = this.columns[k]!;
      const f = cols.length;
      const matrix = new Float32Array(rows * f);
      if (this.identity[k]) {
        // The layout's first columns in order: one native float64 -> float32 copy per row.
        for (let r = 0; r < rows; r++) {
          const src = b.items[r]!.features;
          matrix.set(src.length === f ? src : src.subarray(0, f), r * f);
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const src = b.items[r]!.features;
          for (let c = 0; c < f; c++) matrix[r * f + c] = src[cols[c]!]!;
        }
      }
      inputs[m.kind] = matrix;
      matrices.push(matrix);
    });
    const transfer = [...new Set(matrices.map((x) => x.buffer as ArrayBuffer))];
    const task: InferTask = { rows, inputs };
    this.inFlight++;
    const retry = b.attempts > 0;
    const done = (): void => {
      this.inFlight--;
      if (retry) this.retrying--;
    };
    pool.run(task, { transferList: transfer }).then(
      (probs: Float32Array) => {
        done();
        this.deliver(b.items, probs);
        this.pump();
      },
      (err: Error) => {
        done();
        b.attempts++;
        report(this.t, 'infer', b.attempts === 1 ? 'batch-retried' : 'batch-failed', { err: err.message, flows: rows }, 'error');
        if (b.attempts === 1) this.retries.push(b);
        else this.finish(b.items, 'inference-error');
        this.pump();
      },
    );
  }

  private deliver(items: T[], probs: Float32Array): void {
    let at = 0;
    const per: Array<{ kind: string; offset: number; classes: readonly string[]; threshold: number }> = [];
    for (const m of this.models) {
      per.push({ kind: m.kind, offset: at, classes: m.meta.classes, threshold: m.threshold });
      at += items.length * m.meta.classes.length;
    }
    for (let r = 0; r < items.length; r++) {
      const labels: Record<string, ModelLabel> = {};
      for (const p of per) labels[p.kind] = labelRow(probs, p.offset + r * p.classes.length, p.classes, p.threshold);
      this.emit(items[r]!, { labels });
    }
    this.classified += items.length;
    this.settled(items.length);
  }

  private finish(items: T[], reason: UnlabeledReason): void {
    for (const it of items) this.emit(it, { labels: EMPTY, unlabeled: reason });
    this.settled(items.length);
  }

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
