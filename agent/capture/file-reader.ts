/**
 * Streams a capture file through a record parser in fixed-size chunks, so a
 * capture larger than memory works and memory stays flat. The parser sees
 * whole records only; a record split across two reads is carried over by
 * moving the unread tail to the front of the buffer (one copy per chunk, not
 * per record).
 */
import { readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import type { SourceEnd } from './types.js';

export interface RecordParser {
  /**
   * Parse the complete records in buf[start, end); `base` is the file offset of buf[0].
   * Returns the offset just after the last record consumed. When the record at the
   * returned offset is incomplete, sets `need` to the bytes it needs from there.
   * On damage sets `error` and returns the offset of the damaged record.
   * `eof` says no more bytes will come: a parser may then deliver a final record that
   * was cut short (what is there is kept) before reporting the truncation.
   */
  parse(buf: Buffer, start: number, end: number, base: number, eof: boolean): number;
  need: number;
  error: string | null;
}

const CHUNK = 1 << 22; // 4 MiB: large enough that per-read overhead vanishes, small enough to stay cache-friendly
/** A block larger than this cannot be a sane capture record: treat it as damage rather than buffer it. */
export const MAX_RECORD = 1 << 24;

export interface ReadProgress {
  position: number;
  size: number;
}

/** Sequential bytes from a file or a stream. */
export interface ByteInput {
  /** Bytes in the file, 0 when unknown (a pipe). */
  readonly size: number;
  /** Fill buf[off, off + len); resolves 0 at the end. */
  read(buf: Buffer, off: number, len: number): Promise<number> | number;
  close(): Promise<void>;
}

class FileInput implements ByteInput {
  private pos = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  // Regular files are read synchronously: a 4 MiB read takes a few ms, and an async read would leave the
  // CPU idle while it waits (reads are not overlapped with parsing). The caller still yields to the event
  // loop once per chunk.
  read(buf: Buffer, off: number, len: number): number {
    const n = readSync(this.fh.fd, buf, off, len, this.pos);
    this.pos += n;
    return n;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** A pipe (standard input): may block indefinitely, so it is read asynchronously. */
class StreamInput implements ByteInput {
  readonly size = 0;
  private readonly it: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;

  constructor(stream: NodeJS.ReadableStream) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (!this.pending || this.pending.length === 0) {
      const next = await this.it.next();
      if (next.done) return 0;
      this.pending = next.value;
    }
    const n = Math.min(len, this.pending.length);
    this.pending.copy(buf, off, 0, n);
    this.pending = this.pending.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

export async function openCapture(path: string): Promise<ByteInput> {
  if (path === '-') return new StreamInput(process.stdin);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(e);
    throw new StartupError('E_INPUT', `cannot open capture ${path}: ${why}`, 'give the path of a pcap or pcapng file');
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new StartupError('E_INPUT', `cannot open capture ${path}: is a directory`, 'give the path of a pcap or pcapng file');
  }
  return new FileInput(fh, st.size);
}

/** Read up to `n` bytes from the start (for format detection); they are handed back to pump() as its prefix. */
export async function readHead(input: ByteInput, n: number): Promise<Buffer> {
  const b = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const k = await input.read(b, got, n - got);
    if (k === 0) break;
    got += k;
  }
  return b.subarray(0, got);
}

export async function pump(
  input: ByteInput,
  parser: RecordParser,
  isStopped: () => boolean,
  progress: ReadProgress,
  between: (() => Promise<void> | void) | undefined,
  prefix?: Buffer,
): Promise<SourceEnd> {
  let buf = Buffer.allocUnsafe(CHUNK);
  let cursor = 0;
  let end = 0;
  let base = 0;
  let eof = false;
  if (prefix) {
    prefix.copy(buf, 0);
    end = prefix.length;
  }
  let filePos = end;
  for (;;) {
    if (isStopped()) return { reason: 'stopped' };
    parser.need = 0;
    cursor = parser.parse(buf, cursor, end, base, eof);
    progress.position = base + cursor;
    if (parser.error !== null) return { reason: 'error', message: parser.error, offset: base + cursor };
    if (eof) {
      if (cursor < end) {
        const need = parser.need > 0 ? `; the record needs ${parser.need} bytes` : '';
        return {
          reason: 'error',
          offset: base + cursor,
          message: `truncated capture: ${end - cursor} bytes left at the end of the file${need}`,
        };
      }
      return { reason: 'eof' };
    }
    if (parser.need > MAX_RECORD) {
      return { reason: 'error', offset: base + cursor, message: `record of ${parser.need} bytes is larger than any capture record (corrupt length field)` };
    }
    // Carry the incomplete tail to the front, growing the buffer only for a record larger than a chunk.
    const tail = end - cursor;
    if (parser.need > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(parser.need, buf.length * 2));
      buf.copy(bigger, 0, cursor, end);
      buf = bigger;
    } else if (cursor > 0) {
      buf.copy(buf, 0, cursor, end);
    }
    base += cursor;
    cursor = 0;
    end = tail;
    if (between) await between();
    if (isStopped()) return { reason: 'stopped' };
    const bytesRead = await input.read(buf, end, buf.length - end);
    filePos += bytesRead;
    // Knowing the end early lets the parser keep a final record that was cut short.
    if (bytesRead === 0 || (progress.size > 0 && filePos >= progress.size)) eof = true;
    end += bytesRead;
  }
}
