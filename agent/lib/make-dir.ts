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

/** Why `path` cannot be or become a folder (the nearest existing part is a file), or undefined. */
export function folderProblem(path: string): string | undefined {
  let p = resolve(path);
  for (;;) {
    try {
      if (statSync(p).isDirectory()) return undefined;
      return p === resolve(path) ? `${path} is a file, not a folder` : `${p}, in the path of ${path}, is a file, not a folder`;
    } catch (e) {
      if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') return `${path}: ${code(e) ?? String(e)}`;
    }
    const parent = dirname(p);
    if (parent === p) return undefined;
    p = parent;
  }
}

/** Make `path` and the folders above it that are missing; throws the first error (ENOENT under /proc, ENOTDIR, EACCES...). */
export function makeDirSync(path: string): void {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      statSync(p);
      break;
    } catch (e) {
      if (code(e) !== 'ENOENT') throw e;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
  }
}
