/**
 * mkdir -p, by hand. Why: Node 20's `mkdirSync(path, { recursive: true })` never returns for a
 * path under /proc (it retries forever on the main thread, so even SIGTERM is not handled: a
 * replay with publish.buffer.dir=/proc/x ran at full CPU until killed, found by review). Here
 * each missing folder is made in turn, and the first refusal is thrown.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * The nearest part of `path` that exists, whether it is a folder, and the missing folders below
 * it, outermost first. Throws what stat throws other than ENOENT and ENOTDIR (EACCES...).
 */
function nearestExisting(path: string): { at: string; isDir: boolean; missing: string[] } {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      return { at: p, isDir: statSync(p).isDirectory(), missing: missing.reverse() };
    } catch (e) {
      if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') throw e;
    }
    const parent = dirname(p);
    if (parent === p) return { at: p, isDir: true, missing: missing.reverse() };
    missing.push(p);
    p = parent;
  }
}

/** Why `path` cannot be or become a folder (the nearest existing part is a file), or undefined. */
export function folderProblem(path: string): string | undefined {
  let found;
  try {
    found = nearestExisting(path);
  } catch (e) {
    return `${path}: ${code(e) ?? String(e)}`;
  }
  if (found.isDir) return undefined;
  return found.missing.length === 0 ? `${path} is a file, not a folder` : `${found.at}, in the path of ${path}, is a file, not a folder`;
}

/** Make `path` and the folders above it that are missing; throws the first error (ENOENT under /proc, ENOTDIR, EACCES...). */
export function makeDirSync(path: string): void {
  for (const d of nearestExisting(path).missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
  }
}
