/**
 * Writes text lines to a stream and tells the producer when to wait, so a
 * fast source cannot buffer unbounded output in memory (back-pressure).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { cannotWrite } from './fs-problem.js';
import { openTemp, type AtomicOutput } from './output-file.js';

export class LineWriter {
  private pending = '';
  private error: Error | undefined;
  lines = 0;

  private constructor(
    private readonly out: Writable,
    private readonly owned: boolean,
    /** The output's name in messages: its path, or "standard output". */
    private readonly name: string,
  ) {
    out.on('error', (e: Error) => {
      this.error ??= this.named(e);
    });
  }

  /**
   * A write error naming the output and its fix (label -o /dev/full said only "ENOSPC: no space
   * left on device, write": found by review). EPIPE stays as it is: the CLI ends quietly on it
   * (`| head`).
   */
  private named(e: Error): Error {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return e;
    return cannotWrite(this.name, e, 'free space on its disk or choose another output (-o)');
  }

  static toStream(out: Writable, name = 'standard output'): LineWriter {
    return new LineWriter(out, false, name);
  }

  /** `temp`: written to its temporary file (lib/output-file.ts), which settleOutput renames onto `path`. */
  static async toFile(path: string, temp?: AtomicOutput): Promise<LineWriter> {
    let out;
    try {
      out = temp === undefined ? createWriteStream(path) : createWriteStream(temp.tmp, { fd: openTemp(temp) });
      if (temp === undefined) await once(out, 'open');
    } catch (e) {
      throw cannotWrite(path, e);
    }
    return new LineWriter(out, true, path);
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
    try {
      if (this.owned) {
        this.out.end();
        await once(this.out, 'finish');
      } else if (this.out.writableNeedDrain) {
        await once(this.out, 'drain');
      }
    } catch (e) {
      this.error ??= this.named(e as Error);
    }
    if (this.error) throw this.error;
  }
}
