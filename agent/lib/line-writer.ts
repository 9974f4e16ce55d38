/**
 * Writes text lines to a stream and tells the producer when to wait, so a
 * fast source cannot buffer unbounded output in memory (back-pressure).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { StartupError } from '../errors.js';
import { writeProblem } from './fs-problem.js';

export class LineWriter {
  private pending = '';
  private error: Error | undefined;
  lines = 0;

  private constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
  ) {
    out.on('error', (e: Error) => {
      this.error = e;
    });
  }

  static toStream(out: Writable): LineWriter {
    return new LineWriter(out, false);
  }

  static async toFile(path: string): Promise<LineWriter> {
    const out = createWriteStream(path);
    try {
      await once(out, 'open');
    } catch (e) {
      const p = writeProblem(path, e);
      throw new StartupError('E_INPUT', `cannot write ${path}: ${p.why}`, p.fix);
    }
    return new LineWriter(out, true);
  }

  /** Queue one line (with its newline). Small lines are coalesced into ~64 KiB writes. */
  write(line: string): void {
    this.lines++;
    this.pending += line;
    if (this.pending.length >= 65536) this.flushPending();
  }

  /** Queue encoded lines (`count` of them) as bytes; the buffer must not be reused by the caller. */
  writeBytes(bytes: Buffer, count: number): void {
    this.flushPending();
    this.lines += count;
    if (bytes.length > 0) this.out.write(bytes);
  }

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.out.write(this.pending);
    this.pending = '';
  }

  /** Resolves when the consumer has room again; call between chunks of work. */
  async drain(): Promise<void> {
    this.flushPending();
    if (this.error) throw this.error;
    if (this.out.writableNeedDrain) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.flushPending();
    if (this.owned) {
      this.out.end();
      await once(this.out, 'finish');
    } else if (this.out.writableNeedDrain) {
      await once(this.out, 'drain');
    }
    if (this.error) throw this.error;
  }
}
