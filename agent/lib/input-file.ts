/**
 * Opening an input file the user named, for streaming. The file is opened before the stream
 * exists, so a missing file, a directory or a permission problem is a StartupError naming the
 * file and the fix, never an unhandled 'error' event (a stack trace) or, worse, a stream that
 * simply ends (replay of a missing CSV used to exit 0 with no output).
 */
import * as fs from 'node:fs';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { detectFormat, isGzip } from '../capture/file-source.js';
import { StartupError } from '../errors.js';
import { readProblem } from './fs-problem.js';

/** An input opened for reading: a file (or device) by its handle, or a pipe as a stream. */
export type OpenedInput =
  | { readonly kind: 'file'; readonly fh: fs.promises.FileHandle; readonly st: fs.Stats }
  | { readonly kind: 'pipe'; readonly stream: Readable };

/**
 * Opens `path` for reading; throws what open or stat throws, or EISDIR for a directory
 * (readProblem words each). A named pipe (`replay <(zcat x.csv.gz)`, a FIFO) is opened
 * non-blocking and read as a socket, in the event loop: a blocking open waits for the writer,
 * and a file stream's read then blocks a thread-pool thread while the writer sends nothing;
 * neither Ctrl-C nor the process's exit could end those waits. Opened so, before any writer,
 * the pipe reports its end only once a writer has come and gone (Linux), so the stream waits
 * for the writer as a blocking open would.
 */
export async function openForReading(path: string): Promise<OpenedInput> {
  const st = await fs.promises.stat(path);
  if (st.isDirectory()) {
    // Refused before it is opened (Linux opens a directory for reading, and fails its first read).
    throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
  }
  if (st.isFIFO()) {
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    return { kind: 'pipe', stream: new Socket({ fd, readable: true, writable: false }) };
  }
  const fh = await fs.promises.open(path, 'r');
  return { kind: 'file', fh, st: await fh.stat() };
}

/**
 * A read stream on `path`; throws StartupError ("cannot read <what> <path>: <why>", `fix`) if it
 * cannot be opened, or if it is a packet capture where a CSV is expected (a common slip that the
 * CSV parser would report as a malformed quote in binary garbage). A named pipe is read as
 * openForReading says.
 */
export async function openInputStream(path: string, what: string, fix: string): Promise<Readable> {
  let input: OpenedInput;
  try {
    input = await openForReading(path);
  } catch (e) {
    const p = readProblem(path, e, fix);
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: ${p.why}`, p.fix);
  }
  if (input.kind === 'pipe') return input.stream;
  const { fh, st } = input;
  // Only a regular file can be peeked at without consuming it (a pipe cannot seek).
  const head = Buffer.alloc(4);
  if (st.isFile() && (await fh.read(head, 0, 4, 0)).bytesRead === 4 && detectFormat(head) !== undefined) {
    await fh.close();
    throw new StartupError('E_INPUT', `${path} is a packet capture, not a ${what}`,
      `turn it into flow rows first: eta-sensor extract ${path} -o flows.csv`);
  }
  // A gzip'd CSV read as text showed its compressed bytes as column names (found by review).
  if (st.isFile() && isGzip(head)) {
    await fh.close();
    throw new StartupError('E_INPUT', `${path} is compressed with gzip, not a ${what}`, `decompress it first (gunzip -k ${path})`);
  }
  return fh.createReadStream();
}

/**
 * `source.pipe(dest)`, with a read error (a failing disk, mid-file) passed on to `dest` so that
 * whoever iterates `dest` sees it (pipe() alone leaves it unhandled on `source`), and `source`
 * closed with `dest`.
 */
export function pipeInto<T extends NodeJS.WritableStream & Readable>(source: Readable, dest: T): T {
  source.on('error', (e) => dest.destroy(e));
  // Destroying `dest` (a reader that stopped early) closes the file too, not only the parser.
  dest.on('close', () => source.destroy());
  return source.pipe(dest);
}
