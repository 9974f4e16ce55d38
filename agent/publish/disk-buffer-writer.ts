/**
 * The segment file a disk buffer appends to, and its durability under the fsync policy
 * (see disk-buffer.ts for what each policy promises):
 * - always: the buffer awaits sync() before append() resolves; a segment that ends, and the
 *   directory entry of a new one, are synced before anything else happens;
 * - interval: a timer syncs what was written; a segment that ends and a new directory entry
 *   are flushed on the thread pool (a 4 MiB fdatasync on the event loop stalled publishing for
 *   tens of ms at each roll);
 * - never: the kernel decides.
 */
import * as fs from 'node:fs';
import { report, type Telemetry } from '../events.js';
import { openInBuffer } from './disk-buffer-files.js';
import type { FsyncPolicy } from './disk-buffer-types.js';

export class SegmentWriter {
  private fd = -1;
  private dirty = false;
  private syncing = false;
  /** Descriptors of ended segments that a background sync in progress still uses. */
  private readonly retired: number[] = [];
  /** Flushes and closes running on the thread pool; close() waits for them. */
  private flushing = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly policy: FsyncPolicy,
    private readonly dir: string,
    private readonly t: Telemetry,
    intervalMs: number,
  ) {
    if (policy === 'interval') this.timer = setInterval(() => this.backgroundSync(), intervalMs).unref();
  }

  /** Appends to an existing segment (recovery). */
  reopen(file: string): void {
    this.fd = openInBuffer(file, 'a');
  }

  /** Starts a new segment file. */
  create(file: string): void {
    this.fd = openInBuffer(file, 'a');
    this.syncDir();
  }

  /** The new name must survive a power loss too, or its records would vanish with it. */
  private syncDir(): void {
    if (this.policy === 'always') {
      this.attempt(() => {
        const d = fs.openSync(this.dir, 'r');
        try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
      });
    } else if (this.policy === 'interval') {
      this.flushing++;
      fs.open(this.dir, 'r', (err, d) => {
        if (err) {
          this.flushing--;
          return;
        }
        fs.fsync(d, () => fs.close(d, () => this.flushing--));
      });
    }
  }

  /** Writes all of `data`; on failure cuts the file back to `size` (so it stays parseable) and rethrows. */
  write(data: Buffer, size: number): void {
    try {
      let done = 0;
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done);
    } catch (err) {
      this.attempt(() => fs.ftruncateSync(this.fd, size));
      throw err;
    }
    this.dirty = true;
  }

  /**
   * Writes records (header and payload, in pairs) at `size`: in one write, or when that fails (a
   * disk full) one by one for as long as they fit (found by review: a burst of flows ending
   * together is one batch, and all of it was lost for the few that did not fit).
   */
  writeRecords(parts: Buffer[], bytes: number, size: number): { records: number; bytes: number; err?: Error } {
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    try {
      this.write(data, size);
      return { records: parts.length / 2, bytes: data.length };
    } catch (err) {
      let records = 0;
      let written = 0;
      for (let i = 0; parts.length > 2 && i < parts.length; i += 2) {
        const one = Buffer.concat([parts[i]!, parts[i + 1]!]);
        try {
          this.write(one, size + written);
        } catch {
          break;
        }
        records++;
        written += one.length;
      }
      return { records, bytes: written, err: err as Error };
    }
  }

  /**
   * Ends the current segment (flushed as the policy says) and starts `next`. The next file is
   * opened first: when it cannot be (no inodes left, too many open files) this throws with the
   * current segment still open and in use. It used to close that one first, and then kept its
   * number: writes failed with EBADF, or once the number was reused went into another file
   * (found by review).
   */
  roll(next: string): void {
    const fd = openInBuffer(next, 'a');
    const old = this.fd;
    const dirty = this.policy !== 'never' && this.dirty;
    this.dirty = false;
    if (this.policy === 'always') {
      // append() resolves only once its records are on disk, and they may straddle the roll.
      if (dirty) this.attempt(() => fs.fdatasyncSync(old));
      if (this.syncing) this.retired.push(old);
      else fs.closeSync(old);
    } else if (this.syncing) {
      this.retired.push(old); // the sync in progress flushes and closes it when done
    } else if (dirty) {
      this.flushAndClose(old);
    } else {
      fs.closeSync(old);
    }
    this.fd = fd;
    this.syncDir();
  }

  /** fsync: always: resolves once everything written is on disk. */
  async syncIfAlways(): Promise<void> {
    if (this.dirty && this.policy === 'always') await this.syncNow();
  }

  /** Waits for flushes in progress, syncs (unless fsync: never) and closes the file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.syncing || this.flushing > 0) await new Promise((r) => setTimeout(r, 5));
    if (this.policy !== 'never') this.attempt(() => fs.fdatasyncSync(this.fd));
    fs.closeSync(this.fd);
  }

  private flushAndClose(fd: number): void {
    this.flushing++;
    fs.fdatasync(fd, (err) => {
      if (err) report(this.t, 'publish', 'buffer_fsync_failed', { error: err.message }, 'error');
      fs.close(fd, () => this.flushing--);
    });
  }

  private syncNow(): Promise<void> {
    this.dirty = false;
    this.syncing = true;
    return new Promise((resolve) => {
      fs.fdatasync(this.fd, (err) => {
        this.syncing = false;
        for (const fd of this.retired.splice(0)) this.flushAndClose(fd); // written to since this sync began
        if (err) report(this.t, 'publish', 'buffer_fsync_failed', { error: err.message }, 'error');
        resolve();
      });
    });
  }

  private backgroundSync(): void {
    if (this.dirty && !this.syncing) void this.syncNow();
  }

  /** Runs a file operation whose failure is reported, not thrown. */
  /**
   * Deletes a finished segment on the thread pool: an unlink of a few MiB took up to 8.5 ms on
   * the event loop (the latency benchmark's tail). A crash before it is done leaves the file,
   * which recovery deletes (it lies before the saved position); close() waits for it.
   */
  removeLater(file: string): void {
    this.flushing++;
    fs.rm(file, { force: true }, (err) => {
      this.flushing--;
      if (err) report(this.t, 'publish', 'buffer_io_failed', { error: err.message }, 'error');
    });
  }

  attempt(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      report(this.t, 'publish', 'buffer_io_failed', { error: (err as Error).message }, 'error');
      return false;
    }
  }
}
