/**
 * Opening an input file the user named, for streaming. The file is opened before the stream
 * exists, so a missing file, a directory or a permission problem is a StartupError naming the
 * file and the fix, never an unhandled 'error' event (a stack trace) or, worse, a stream that
 * simply ends (replay of a missing CSV used to exit 0 with no output).
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { detectFormat } from '../capture/file-source.js';
import { StartupError } from '../errors.js';

/** Why a file could not be opened, in words: "no such file", "permission denied", "is a directory". */
export function openErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}

/**
 * A read stream on `path`; throws StartupError ("cannot read <what> <path>: <why>", `fix`) if it
 * cannot be opened, or if it is a packet capture where a CSV is expected (a common slip that the
 * CSV parser would report as a malformed quote in binary garbage).
 */
export function openInputStream(path: string, what: string, fix: string): fs.ReadStream {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: ${openErrorReason(e)}`, fix);
  }
  const st = fs.fstatSync(fd);
  if (st.isDirectory()) {
    fs.closeSync(fd);
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: is a directory`, fix);
  }
  // Only a regular file can be peeked at without consuming it (a pipe or FIFO cannot seek).
  const head = Buffer.alloc(4);
  if (st.isFile() && fs.readSync(fd, head, 0, 4, 0) === 4 && detectFormat(head) !== undefined) {
    fs.closeSync(fd);
    throw new StartupError('E_INPUT', `${path} is a packet capture, not a ${what}`,
      `turn it into flow rows first: eta-sensor extract ${path} -o flows.csv`);
  }
  return fs.createReadStream('', { fd });
}

/**
 * `source.pipe(dest)`, with a read error (a failing disk, mid-file) passed on to `dest` so that
 * whoever iterates `dest` sees it; pipe() alone leaves it unhandled on `source`.
 */
export function pipeInto<T extends NodeJS.WritableStream & Readable>(source: Readable, dest: T): T {
  source.on('error', (e) => dest.destroy(e));
  return source.pipe(dest);
}
