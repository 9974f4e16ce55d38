/**
 * Streams a capture file through a record parser in fixed-size chunks, so a
 * capture larger than memory works and memory stays flat. The parser sees
 * whole records only; a record split across two reads is carried over by
 * copying the unread tail in front of the next chunk (one small copy per chunk,
 * not per record).
 */
import type { FileHandle } from 'node:fs/promises';
import { StartupError } from '../errors.js';
import { loadAddon } from '../lib/addon.js';
import { openForReading, type OpenedInput } from '../lib/input-file.js';
import { readProblem } from '../lib/fs-problem.js';
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
  /** The link types the input declared so far (its header, its interfaces). */
  readonly linkTypes: readonly number[];
}

const CHUNK = 1 << 22; // 4 MiB: large enough that per-read overhead vanishes, small enough to stay cache-friendly
/**
 * Room before each chunk for the unread tail of the previous one (a record split across two
 * reads): the largest record libpcap writes (256 KiB) plus its header fits, so the tail is copied
 * in front of the bytes already read instead of the bytes being moved.
 */
const HEADROOM = 1 << 19;
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
  /** A regular file: reading its first bytes never waits (a pipe's may, for as long as its writer likes). */
  readonly regular?: boolean;
  /** A read waiting for data that may never come (an idle pipe) resolves 0 now (Ctrl-C, shutdown). */
  interrupt?(): void;
  close(): Promise<void>;
}

class FileInput implements ByteInput {
  readonly regular = true;
  private pos = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  // Asynchronous on purpose: pump() starts the read of the next chunk before parsing the current
  // one, so the copy from the page cache runs on libuv's thread pool (the other core) while this
  // thread parses. Reading synchronously cost 10-15% of `extract`'s time on a cached file.
  async read(buf: Buffer, off: number, len: number): Promise<number> {
    const { bytesRead } = await this.fh.read(buf, off, len, this.pos);
    this.pos += bytesRead;
    return bytesRead;
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

  /** Ends the read waiting now (interrupt); one per read, so nothing outlives it. */
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly stream: NodeJS.ReadableStream) {
    this.it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (!this.pending || this.pending.length === 0) {
      if (this.stopped) return 0;
      // Not Promise.race with one promise for the whole input: each race left a reaction on it,
      // holding that read's chunk, and `extract -` grew by every byte it read (4 GB of RSS for
      // 4 GB of input; 85 MB with a file: found by review).
      const next = await new Promise<IteratorResult<Buffer>>((resolve, reject) => {
        this.wake = () => resolve({ done: true, value: undefined });
        this.it.next().then(resolve, reject);
      });
      this.wake = undefined;
      if (next.done) return 0;
      this.pending = next.value;
    }
    const n = Math.min(len, this.pending.length);
    this.pending.copy(buf, off, 0, n);
    this.pending = this.pending.subarray(n);
    return n;
  }

  interrupt(): void {
    this.stopped = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    // After an interrupt a read may still wait on the pipe: end the stream rather than wait for it
    // (an open standard input keeps the process alive).
    void this.it.return?.();
    (this.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

/** Opens a capture file, a named pipe (read as openForReading says) or standard input (`-`). */
export async function openCapture(path: string): Promise<ByteInput> {
  if (path === '-') return new StreamInput(process.stdin);
  let input: OpenedInput;
  try {
    input = await openForReading(path);
  } catch (e) {
    const p = readProblem(path, e, 'give the path of a pcap or pcapng file');
    throw new StartupError('E_INPUT', `cannot open capture ${path}: ${p.why}`, p.fix);
  }
  if (input.kind === 'pipe') return new StreamInput(input.stream);
  const { fh, st } = input;
  // A character device or /dev/stdin that is not a pipe: read in order, as standard input is
  // (positional reads fail there with ESPIPE). Found by review: `extract <(cat x.pcap)` failed so.
  if (!st.isFile()) return new StreamInput(fh.createReadStream());
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

/**
 * Reads the input through `parser` chunk by chunk. Two buffers alternate: while the parser walks
 * one, the next chunk is being read into the other (after HEADROOM bytes, where the unread tail
 * of the current chunk is then copied). A record too big for the headroom (a pcapng block of
 * several MiB) falls back to a merged buffer grown until the record fits.
 */
/** native/read_buffer.c. */
interface ReadBufferAddon {
  misalignment(buf: Uint8Array, align: number): number;
}

let readBuffer: ReadBufferAddon | undefined;
/** Where reads land: 64-byte aligned (see readBuffers). */
const ALIGN = 64;

/**
 * The reader's two buffers, each starting on a 64-byte boundary (HEADROOM keeps the read
 * destination on one too). Why: the kernel copied into glibc's large blocks, 16 bytes past such
 * a boundary, at a fifth of the aligned speed on this project's AMD machines (read_buffer.c).
 */
function readBuffers(): readonly [Buffer, Buffer] {
  readBuffer ??= loadAddon<ReadBufferAddon>('read_buffer', 'capture reader module');
  const aligned = (): Buffer => {
    const b = Buffer.allocUnsafeSlow(HEADROOM + CHUNK + ALIGN);
    const skip = (ALIGN - readBuffer!.misalignment(b, ALIGN)) % ALIGN;
    return b.subarray(skip, skip + HEADROOM + CHUNK);
  };
  return [aligned(), aligned()];
}

export async function pump(
  input: ByteInput,
  parser: RecordParser,
  isStopped: () => boolean,
  progress: ReadProgress,
  between: (() => Promise<void> | void) | undefined,
  prefix?: Buffer,
): Promise<SourceEnd> {
  const pair = readBuffers();
  let buf: Buffer = pair[0];
  let cursor = HEADROOM;
  let end = HEADROOM;
  let base = -HEADROOM; // file offset of buf[0]
  let eof = false;
  if (prefix) {
    prefix.copy(buf, end);
    end += prefix.length;
  }
  let filePos = end - HEADROOM;
  const noteRead = (n: number): void => {
    filePos += n;
    // Knowing the end early lets the parser keep a final record that was cut short.
    if (n === 0 || (progress.size > 0 && filePos >= progress.size)) eof = true;
  };
  // The first chunk, read before anything can be parsed.
  if (!(progress.size > 0 && filePos >= progress.size)) {
    const n = await input.read(buf, end, CHUNK - (end - HEADROOM));
    end += n;
    noteRead(n);
  } else eof = true;
  for (;;) {
    if (isStopped()) return { reason: 'stopped' };
    const next: Buffer = buf === pair[0] ? pair[1] : pair[0];
    const pending = eof ? undefined : input.read(next, HEADROOM, CHUNK);
    parser.need = 0;
    cursor = parser.parse(buf, cursor, end, base, eof);
    progress.position = base + cursor;
    if (parser.error !== null) return settle(pending, { reason: 'error', message: parser.error, offset: base + cursor });
    if (eof) {
      if (cursor < end) {
        const need = parser.need > 0 ? `; the record needs ${parser.need} bytes` : '';
        return { reason: 'error', offset: base + cursor, message: `truncated capture: ${end - cursor} bytes left at the end of the file${need}` };
      }
      return { reason: 'eof' };
    }
    if (parser.need > MAX_RECORD) {
      return settle(pending, { reason: 'error', offset: base + cursor, message: `record of ${parser.need} bytes is larger than any capture record (corrupt length field)` });
    }
    if (between) await between();
    const n = await pending!;
    noteRead(n);
    const tail = end - cursor;
    if (tail <= HEADROOM && parser.need <= HEADROOM + CHUNK) {
      // The usual case: the tail goes just before the bytes read.
      buf.copy(next, HEADROOM - tail, cursor, end);
      buf = next;
      cursor = HEADROOM - tail;
      end = HEADROOM + n;
      base = progress.position - cursor; // the tail's first byte sits at file offset progress.position
    } else {
      // A record larger than the headroom: merge the tail and the new bytes into a buffer of their own.
      const merged = Buffer.allocUnsafe(Math.max(parser.need, tail + n, HEADROOM + CHUNK));
      buf.copy(merged, 0, cursor, end);
      next.copy(merged, tail, HEADROOM, HEADROOM + n);
      base = progress.position;
      buf = merged;
      cursor = 0;
      end = tail + n;
    }
    if (isStopped()) return { reason: 'stopped' };
  }
}

/** Let a read in flight finish before the caller closes the file under it. */
async function settle(pending: Promise<number> | number | undefined, result: SourceEnd): Promise<SourceEnd> {
  if (pending !== undefined) await Promise.resolve(pending).catch(() => 0);
  return result;
}
