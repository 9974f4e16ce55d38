/**
 * Opening an input file the user named, for streaming. The file is opened before the stream
 * exists, so a missing file, a directory or a permission problem is a StartupError naming the
 * file and the fix, never an unhandled 'error' event (a stack trace) or, worse, a stream that
 * simply ends (replay of a missing CSV used to exit 0 with no output).
 */
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { StartupError } from '../errors.js';

function why(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return (e as Error).message;
}

/** A read stream on `path`; throws StartupError ("cannot read <what> <path>: <why>", `fix`) if it cannot be opened. */
export function openInputStream(path: string, what: string, fix: string): fs.ReadStream {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: ${why(e)}`, fix);
  }
  if (fs.fstatSync(fd).isDirectory()) {
    fs.closeSync(fd);
    throw new StartupError('E_INPUT', `cannot read ${what} ${path}: is a directory`, fix);
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
