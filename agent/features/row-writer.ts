/**
 * Rows of `extract` written by a worker thread (see row-worker.ts). Records
 * are packed into batches and transferred, not copied; at most two batches
 * are in flight, so a slow disk or pipe holds the flow meter back
 * (back-pressure) instead of piling rows up in memory. The writer sends each
 * batch's numbers back when done and they are filled again: a fresh 1.7 MB
 * array per 1,024 rows cost the flow meter's thread page faults and zeroing
 * (a seventh of its time on a 1M-packet capture).
 */
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { StartupError } from '../errors.js';
import { detachEarly } from '../lib/detach-early.js';
import { cannotWrite } from '../lib/fs-problem.js';
import { openTemp, outputMode, settleOutput, waitForReader, type OutputMode } from '../lib/output-file.js';
import { workerExecArgv } from '../lib/worker-args.js';
import type { FlowRecord } from './record.js';
import { newBatch, pack, type RowBatch } from './row-batch.js';
import type { FromWriter, ToWriter } from './row-worker.js';

/** The reader of the output went away (EPIPE: `eta-sensor extract ... | head`): stop, quietly. */
export class OutputClosed extends Error {}

const BATCH = 1024;
/**
 * Rows of the first batch. Why fewer: add() inlines into the end-of-flow path, which V8 optimizes
 * after a few hundred flows when they carry handshake metadata (more work per flow makes it hot
 * sooner); with the first ship() at row 1,024, that code met a call it had no feedback for and saw
 * `batch`, which it had taken for a constant, change: both threw it away and compiled it again
 * (--trace-deopt at add's ship(), --trace-opt "dependency change"; under callgrind every run).
 * Shipped at row 64, both happen before: the writer also starts sooner.
 */
const FIRST_BATCH = 64;
const MAX_IN_FLIGHT = 2;

export class RowWriter {
  private batch: RowBatch = newBatch(BATCH);
  /** Numbers arrays the writer sent back, to fill again. */
  private readonly spare: Float64Array[] = [];
  private inFlight = 0;
  /** Rows that make the batch full: FIRST_BATCH, then BATCH (the arrays always hold BATCH). */
  private full = FIRST_BATCH;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private fdClosed = false;
  rows = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly fd: number,
    private readonly ownsFd: boolean,
    /** The output's name in messages. */
    private readonly target: string,
    /** A regular file (or a new one): written beside its name, renamed into place by close(). */
    private readonly mode: OutputMode | undefined,
  ) {
    worker.on('message', (m: FromWriter) => {
      if (m.kind === 'done') {
        this.inFlight--;
        this.rows += m.rows;
        this.spare.push(m.nums);
      } else if (m.kind === 'error') {
        this.failure ??= m.code === 'EPIPE' ? new OutputClosed(m.message)
          : new StartupError('E_INPUT', `cannot write ${this.target}: ${m.message}`, 'free space on its disk or choose another output (-o)');
      }
      this.wake?.();
    });
    worker.on('error', (e) => {
      this.failure = e;
      this.wake?.();
    });
  }

  /**
   * `path` undefined: standard output. A file is written beside its name and renamed into place
   * at close(): it was emptied at the start, and a run killed or out of memory left a CSV cut
   * short that looked whole (found by review). A named pipe is waited on without blocking the
   * thread, and Ctrl-C (`signal`) ends the wait: open() blocked it, and neither Ctrl-C nor
   * SIGTERM stopped `extract -o fifo` (found by review).
   */
  static async open(path: string | undefined, format: 'csv' | 'jsonl', header: string, signal?: AbortSignal): Promise<RowWriter> {
    let fd = 1;
    const mode = path === undefined ? undefined : outputMode(path);
    if (path !== undefined) {
      const reader = mode?.kind === 'direct' ? await waitForReader(path, signal) : undefined;
      try {
        fd = mode?.kind === 'atomic' ? openTemp(mode) : openSync(path, 'w');
      } catch (e) {
        throw cannotWrite(path, e);
      } finally {
        if (reader !== undefined) closeSync(reader);
      }
    }
    detachEarly(); // this thread will transfer every batch of rows (lib/detach-early.ts)
    const worker = new Worker(new URL('./row-worker.js', import.meta.url), { execArgv: workerExecArgv() });
    const w = new RowWriter(worker, fd, path !== undefined, path ?? 'standard output', mode?.kind === 'atomic' ? mode : undefined);
    worker.postMessage({ kind: 'start', fd, format, header } satisfies ToWriter);
    return w;
  }

  add(r: FlowRecord): void {
    pack(this.batch, r);
    if (this.batch.n >= this.full) this.ship();
  }

  private ship(): void {
    if (this.batch.n === 0) return;
    this.full = BATCH;
    const b = this.batch;
    const nums = this.spare.pop();
    this.batch = newBatch(BATCH, nums, b.texts);
    this.inFlight++;
    this.worker.postMessage({ kind: 'rows', batch: b } satisfies ToWriter, [b.nums.buffer as ArrayBuffer]);
  }

  private async settle(until: () => boolean): Promise<void> {
    while (!until() && this.failure === undefined) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    if (this.failure) throw this.failure;
  }

  /** Back-pressure: resolves when the writer has room for more batches. */
  async drain(): Promise<void> {
    if (this.inFlight >= MAX_IN_FLIGHT) await this.settle(() => this.inFlight < MAX_IN_FLIGHT);
    else if (this.failure) throw this.failure;
  }

  /** Stop the thread and close the file, dropping what is not written (after a failure); a file keeps what it held. Never throws. */
  async abort(): Promise<void> {
    await this.worker.terminate();
    this.closeFd();
    if (this.mode) await settleOutput(this.mode, false);
  }

  private closeFd(): void {
    // Once only: the number may belong to another file after the first close.
    if (!this.ownsFd || this.fdClosed) return;
    this.fdClosed = true;
    closeSync(this.fd);
  }

  /** Write what is left, stop the thread, close the file. Returns the rows written. */
  async close(): Promise<number> {
    this.ship();
    try {
      await this.settle(() => this.inFlight === 0);
      const ended = once(this.worker, 'message');
      this.worker.postMessage({ kind: 'end' } satisfies ToWriter);
      await ended;
    } catch (e) {
      await this.abort();
      throw e;
    }
    await this.worker.terminate();
    this.closeFd();
    if (this.mode) await settleOutput(this.mode, true);
    return this.rows;
  }
}
