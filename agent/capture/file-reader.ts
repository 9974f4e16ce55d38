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

export async function openCapture(path: string): Promise<{ fh: FileHandle; size: number; stdin: boolean }> {
  if (path === '-') {
    const fh = await open('/dev/stdin', 'r');
    return { fh, size: 0, stdin: true };
  }
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
  return { fh, size: st.size, stdin: false };
}

/** Read the first bytes (for format detection) without consuming them from the stream. */
export async function readHead(fh: FileHandle, n: number): Promise<Buffer> {
  const b = Buffer.alloc(n);
  const { bytesRead } = await fh.read(b, 0, n, 0);
  return b.subarray(0, bytesRead);
}

export async function pump(
  fh: FileHandle,
  parser: RecordParser,
  stream: boolean,
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
    // Regular files are read synchronously: a 4 MiB read takes a few ms, and an async read would leave the
    // CPU idle while it waits (reads are not overlapped with parsing). The await in `between` above still
    // yields to the event loop once per chunk. Pipes are read asynchronously: they may block indefinitely.
    const bytesRead = stream
      ? (await fh.read(buf, end, buf.length - end, null)).bytesRead
      : readSync(fh.fd, buf, end, buf.length - end, filePos);
    filePos += bytesRead;
    // Knowing the end early lets the parser keep a final record that was cut short.
    if (bytesRead === 0 || (!stream && progress.size > 0 && filePos >= progress.size)) eof = true;
    end += bytesRead;
  }
}
