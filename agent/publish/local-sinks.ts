/**
 * Sinks without a network: JSON lines on a stream (stdout), JSON lines appended to a file,
 * and none (discard, counted). Nothing is buffered here: write() resolves when the lines
 * were handed to the stream (honouring its back-pressure; they count as delivered when the
 * stream reports them written, and close() waits for that) or written to the file (in the
 * kernel's page cache; a crash of the agent loses nothing, power loss may lose what close()
 * did not fsync).
 */
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { StartupError } from '../errors.js';
import { report, type Telemetry } from '../events.js';
import { msUntil } from '../lib/deadline.js';
import { writeProblem } from '../lib/fs-problem.js';
import { waitForReader } from '../lib/output-file.js';
import { encodeLines } from './serialize.js';
import type { PublishRecord, Sink, SinkStats } from './types.js';

abstract class LocalSink implements Sink {
  abstract readonly name: string;
  protected accepted = 0;
  protected delivered = 0;
  protected readonly dropped: Record<string, number> = { serialize: 0, io_error: 0 };
  /**
   * Called once when the reader went away (EPIPE: `eta-sensor replay ... | head`, or a FIFO given
   * as -o). Replay stops then, quietly, as a Unix filter does; without a listener records are
   * counted and dropped.
   */
  onReaderGone: (() => void) | undefined;
  protected readerGone = false;

  constructor(protected readonly t: Telemetry) {}

  abstract open(signal?: AbortSignal): Promise<void>;
  abstract close(deadlineMs: number): Promise<void>;
  protected abstract deliver(data: Buffer, count: number): Promise<void>;

  async write(records: readonly PublishRecord[]): Promise<void> {
    this.accepted += records.length;
    const { data, count, failed } = encodeLines(records, this.t);
    this.dropped['serialize']! += failed;
    if (count === 0) return;
    await this.deliver(data, count);
  }

  stats(): SinkStats {
    return {
      sink: this.name, accepted: this.accepted, delivered: this.delivered, buffered_records: 0, buffered_bytes: 0,
      dropped: { ...this.dropped }, reconnects: 0, connected: true, in_flight: 0,
    };
  }

  publishStats(): boolean {
    return false; // no side channel: stats would interleave with the records
  }

  protected failed(count: number, err: unknown): void {
    this.dropped['io_error']! += count;
    report(this.t, 'publish', `${this.name}_write_failed`, { records: count, error: (err as Error).message }, 'error');
  }
}

/** JSON lines on a stream, standard output by default. */
export class StreamSink extends LocalSink {
  readonly name = 'stdout';
  private broken = false;
  /** Records handed to the stream whose outcome is not known yet, and who waits for them. */
  private unsettled = 0;
  private settled: (() => void) | undefined;
  /** close() gave up waiting: outcomes arriving later are not counted (the run counted them lost). */
  private gaveUp = false;
  /** abandon() was called: nothing more is waited for. */
  private abandoned = false;
  /** Writers waiting for the stream to drain. */
  private readonly waiting = new Set<() => void>();

  constructor(t: Telemetry, private readonly out: Writable = process.stdout) {
    super(t);
    // A closed pipe must not crash the agent.
    out.on('error', (err: NodeJS.ErrnoException) => this.breaks(err));
  }

  /** The stream failed: said once, whether a write's call-back or the 'error' event tells first. */
  private breaks(err: NodeJS.ErrnoException): void {
    if (this.broken) return;
    this.broken = true;
    this.readerGone = err.code === 'EPIPE' && this.onReaderGone !== undefined;
    report(this.t, 'publish', 'stdout_failed', { error: err.message }, this.readerGone ? 'debug' : 'error');
    if (this.readerGone) this.onReaderGone!();
  }

  async open(): Promise<void> {}

  protected async deliver(data: Buffer, count: number): Promise<void> {
    if (this.readerGone) {
      this.dropped['io_error']! += count; // the run is stopping: nobody reads them
      return;
    }
    if (this.broken) return this.failed(count, new Error('output stream is closed'));
    if (this.abandoned) return this.failed(count, new Error('standard output did not take them before the run was stopped'));
    // Counted as delivered only when the stream says the bytes went out: a write that fails after
    // it was accepted (EBADF, EIO, a reader gone mid-batch) loses its records, and they are counted.
    this.unsettled += count;
    const more = this.out.write(data, (err) => {
      if (this.gaveUp) return;
      if (err) {
        this.breaks(err);
        if (this.readerGone) this.dropped['io_error']! += count;
        else this.failed(count, err);
      } else {
        // Node also calls back without an error when a pipe or socket is destroyed with the write
        // pending: those records count as delivered, the stream's own report being all there is.
        this.delivered += count;
      }
      this.unsettled -= count;
      if (this.unsettled === 0) this.settled?.();
    });
    if (!more && !this.broken) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.out.off('drain', done).off('error', done).off('close', done);
          this.waiting.delete(done);
          resolve();
        };
        this.out.on('drain', done).on('error', done).on('close', done);
        this.waiting.add(done);
      });
    }
  }

  /**
   * Stop waiting for a reader that does not read (the run was stopped and --wait has passed):
   * writers waiting for the stream go on, and what it has not taken is counted lost.
   */
  abandon(): void {
    this.abandoned = true;
    for (const wake of [...this.waiting]) wake();
  }

  /** Whether abandon() was called: bytes still queued for the stream keep the process alive. */
  get wasAbandoned(): boolean {
    return this.abandoned;
  }

  async close(deadlineMs: number): Promise<void> {
    // Wait for the last writes' outcome, so the summary's delivered and lost counts are final;
    // what the stream has not settled by the deadline is counted lost (it may never be written).
    const deadline = this.abandoned ? Date.now() : Date.now() + Math.max(0, deadlineMs);
    if (this.unsettled > 0 && !(await this.within(deadline, (done) => { this.settled = done; }))) {
      this.gaveUp = true;
      this.failed(this.unsettled, new Error(`standard output did not take the last records within ${Math.round(deadlineMs / 1000)} s`));
    }
    this.settled = undefined;
    if (this.broken || this.out === process.stdout) return;
    await this.within(deadline, (done) => this.out.end(done));
  }

  /** Whether `start`'s call-back came before `deadline` (ms since the epoch). */
  private within(deadline: number, start: (done: () => void) => void): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), msUntil(deadline));
      start(() => { clearTimeout(timer); resolve(true); });
    });
  }
}

/** JSON lines appended to a file; fsynced on close. */
export class FileSink extends LocalSink {
  readonly name = 'file';
  private fd = -1;

  constructor(t: Telemetry, private readonly file: string) {
    super(t);
  }

  async open(signal?: AbortSignal): Promise<void> {
    const reader = await waitForReader(this.file, signal);
    try {
      this.fd = fs.openSync(this.file, 'a');
    } catch (err) {
      const p = writeProblem(this.file, err, 'make its directory writable by the agent\'s user or change publish.file.path');
      throw new StartupError('E_PUBLISH', `cannot open publish.file.path (${this.file}) for appending: ${p.why}`, p.fix, { cause: err });
    } finally {
      if (reader !== undefined) fs.closeSync(reader);
    }
    endLastLine(this.fd, this.file);
  }

  /**
   * A reload (SIGHUP) opens the path again: a file logrotate moved away was written on by the
   * open descriptor, and the new file stayed empty (found by review). The new descriptor is
   * opened first, so a failure leaves the old one writing. Between two writes (they are synchronous).
   */
  reopen(): void {
    // A regular file only: a pipe or device is not rotated, and opening a pipe whose reader left
    // would block the thread (see waitForReader).
    if (this.fd < 0 || !fs.fstatSync(this.fd).isFile()) return;
    let fd;
    try {
      fd = fs.openSync(this.file, 'a');
    } catch (err) {
      report(this.t, 'publish', 'file_reopen_failed', { file: this.file, error: (err as Error).message, effect: 'records go on to the file open before' }, 'error');
      return;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      fs.closeSync(old);
    } catch {
      // already gone: nothing to release
    }
  }

  protected async deliver(data: Buffer, count: number): Promise<void> {
    if (this.readerGone) {
      this.dropped['io_error']! += count; // the run is stopping: nobody reads them
      return;
    }
    let done = 0;
    try {
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done);
      this.delivered += count;
    } catch (err) {
      const lines = this.keepWholeLines(data, done);
      this.delivered += lines;
      count -= lines;
      // A FIFO whose reader left: as stdout's (found by review: replay -o FIFO then said records were lost, and exited 1).
      if ((err as NodeJS.ErrnoException).code === 'EPIPE' && this.onReaderGone !== undefined) {
        this.readerGone = true;
        this.dropped['io_error']! += count;
        report(this.t, 'publish', 'file_reader_gone', { file: this.file }, 'debug');
        return this.onReaderGone();
      }
      this.failed(count, err);
    }
  }

  /**
   * A write cut short (disk full): its whole lines stay, counted (returned); a torn last one is cut off
   * (found by review: the next record was glued onto it, and the whole batch was counted lost).
   */
  private keepWholeLines(data: Buffer, done: number): number {
    const whole = done > 0 ? data.lastIndexOf(0x0a, done - 1) + 1 : 0;
    if (done > whole) {
      try {
        const st = fs.fstatSync(this.fd);
        if (st.isFile()) fs.ftruncateSync(this.fd, st.size - (done - whole));
      } catch { /* the torn line stays; the next open ends it (endLastLine) */ }
    }
    let lines = 0;
    for (let i = data.indexOf(0x0a); i >= 0 && i < whole; i = data.indexOf(0x0a, i + 1)) lines++;
    return lines;
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    try {
      fs.fsyncSync(this.fd);
    } catch (err) {
      // A device or pipe (-o /dev/null, a FIFO) has nothing to sync: EINVAL there is not a failure.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOTSUP') report(this.t, 'publish', 'file_fsync_failed', { error: (err as Error).message }, 'error');
    }
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Appending to a file whose last line has no newline glued the first record onto it (an invalid
 * JSON line: found by review): the line is ended first. Regular files only; errors are left to
 * the first write.
 */
function endLastLine(fd: number, file: string): void {
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size === 0) return;
    const last = Buffer.alloc(1);
    // The sink's descriptor is for appending only: the last byte is read through another.
    const rd = fs.openSync(file, 'r');
    try {
      fs.readSync(rd, last, 0, 1, st.size - 1);
    } finally {
      fs.closeSync(rd);
    }
    if (last[0] !== 0x0a) fs.writeSync(fd, '\n');
  } catch {
    // unreadable: the records are appended as they are
  }
}

/** Discards records, counting them as delivered: for dry runs and benchmarks of the stages before. */
export class NoneSink extends LocalSink {
  readonly name = 'none';
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  protected async deliver(_data: Buffer, count: number): Promise<void> {
    this.delivered += count;
  }
}
