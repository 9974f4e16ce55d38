/**
 * Opening an input file the user named, for streaming. The file is opened before the stream
 * exists, so a missing file, a directory or a permission problem is a StartupError naming the
 * file and the fix, never an unhandled 'error' event (a stack trace) or, worse, a stream that
 * simply ends (replay of a missing CSV used to exit 0 with no output).
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { detectFormat } from '../capture/file-source.js';
import { OpenInterrupted, StartupError } from '../errors.js';

/** Why a file could not be opened, in words: "no such file", "permission denied", "is a directory". */
export function openErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}

/**
 * Opens `path` for reading without blocking the process: opening a named pipe waits until a writer
 * opens it, so it waits on libuv's thread pool. When `signal` aborts meanwhile (Ctrl-C), this
 * process opens the pipe for writing itself, which ends that wait, and closes both: the open
 * rejects with OpenInterrupted instead of holding the process until a writer comes.
 */
export async function openForReading(path: string, signal?: AbortSignal): Promise<fs.promises.FileHandle> {
  if (signal?.aborted) throw new OpenInterrupted(path);
  const release = (): void => {
    try {
      // Non-blocking: succeeds only while a reader waits (ours), so it never blocks here.
      fs.closeSync(fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      // Not a pipe, or the open has finished: nothing waits.
    }
  };
  signal?.addEventListener('abort', release, { once: true });
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } finally {
    signal?.removeEventListener('abort', release);
  }
  if (signal?.aborted) {
    await fh.close();
    throw new OpenInterrupted(path);
  }
  return fh;
}

/**
 * A read stream on `path`; throws StartupError ("cannot read <what> <path>: <why>", `fix`) if it
 * cannot be opened, or if it is a packet capture where a CSV is expected (a common slip that the
 * CSV parser would report as a malformed quote in binary garbage). Opened asynchronously: a FIFO
 * with no writer yet blocks its open, and a synchronous open held the whole process (Ctrl-C too)
 * until one came; `signal` stops that wait (OpenInterrupted).
 */
export async function openInputStream(path: string, what: string, fix: string, signal?: AbortSignal): Promise<fs.ReadStream> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await openForReading(path, signal);
  } catch (e) {
    if (e instanceof OpenInterrupted) throw e;
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: ${openErrorReason(e)}`, fix);
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: is a directory`, fix);
  }
  // Only a regular file can be peeked at without consuming it (a pipe or FIFO cannot seek).
  const head = Buffer.alloc(4);
  if (st.isFile() && (await fh.read(head, 0, 4, 0)).bytesRead === 4 && detectFormat(head) !== undefined) {
    await fh.close();
    throw new StartupError('E_INPUT', `${path} is a packet capture, not a ${what}`,
      `turn it into flow rows first: eta-sensor extract ${path} -o flows.csv`);
  }
  return fh.createReadStream();
}

/**
 * `source.pipe(dest)`, with a read error (a failing disk, mid-file) passed on to `dest` so that
 * whoever iterates `dest` sees it; pipe() alone leaves it unhandled on `source`.
 */
export function pipeInto<T extends NodeJS.WritableStream & Readable>(source: Readable, dest: T): T {
  source.on('error', (e) => dest.destroy(e));
  return source.pipe(dest);
}
