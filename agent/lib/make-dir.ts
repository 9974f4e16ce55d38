/**
 * mkdir -p, by hand. Why: Node 20's `mkdirSync(path, { recursive: true })` never returns for a
 * path under /proc (it retries forever on the main thread, so even SIGTERM is not handled: a
 * replay with publish.buffer.dir=/proc/x ran at full CPU until killed, found by review). Here
 * each missing folder is made in turn, and the first refusal is thrown.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userName } from './fs-problem.js';

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

/**
 * Kernel file systems (statfs magic numbers: proc, sysfs, cgroup, cgroup2, debugfs, tracefs,
 * securityfs): root passes every permission check there, and still no file or folder can be made.
 */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163, 0x73636673]);

/** Why nothing can be written at `path` when it is on a kernel file system, or undefined. */
function kernelFsProblem(path: string): string | undefined {
  try {
    return KERNEL_FS.has(statfsSync(path).type) ? `${path} is on a kernel file system (proc, sysfs...), where nothing can be written` : undefined;
  } catch {
    return undefined;
  }
}

/** Why this process cannot write into the existing folder `dir` (kernel file system, permissions), or undefined. */
function writeIntoProblem(dir: string): string | undefined {
  const kernel = kernelFsProblem(dir);
  if (kernel !== undefined) return kernel;
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (e) {
    return `${dir} is not writable by ${userName()} (${code(e) ?? String(e)})`;
  }
}

/**
 * Why `path` cannot be or become a folder this process writes into (the nearest existing part is
 * a file, on a kernel file system or not writable), or undefined. Checked as the current user:
 * check-config run by root says nothing of the service's user, a reload does.
 */
export function folderProblem(path: string): string | undefined {
  let found;
  try {
    found = nearestExisting(path);
  } catch (e) {
    return `${path}: ${code(e) ?? String(e)}`;
  }
  if (!found.isDir) {
    return found.missing.length === 0 ? `${path} is a file, not a folder` : `${found.at}, in the path of ${path}, is a file, not a folder`;
  }
  const problem = writeIntoProblem(found.at);
  return problem === undefined ? undefined : found.missing.length === 0 ? problem : `${problem}: ${path} cannot be made there`;
}

/** Why `path` cannot be opened for appending (a folder, its folder missing or not writable), or undefined. */
export function fileProblem(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') return `${path}: ${code(e) ?? String(e)}`;
  }
  if (st?.isDirectory()) return `${path} is a folder, not a file`;
  if (st !== undefined) {
    try {
      accessSync(path, constants.W_OK);
      return kernelFsProblem(path);
    } catch (e) {
      return `${path} is not writable (${code(e) ?? String(e)})`;
    }
  }
  let dirSt;
  try {
    dirSt = statSync(dirname(path));
  } catch {
    // missing, or a file in its path (ENOTDIR)
  }
  if (!dirSt?.isDirectory()) return `the folder of ${path} does not exist`;
  return writeIntoProblem(dirname(path));
}

/** Make `path` and the folders above it that are missing; throws the first error (ENOENT under /proc, ENOTDIR, EACCES...). */
/** `mode`: of the folders made here (the umask applies too); existing ones are left as they are. */
export function makeDirSync(path: string, mode = 0o777): void {
  for (const d of nearestExisting(path).missing) {
    try {
      mkdirSync(d, mode);
    } catch (e) {
      if (code(e) !== 'EEXIST') throw e;
    }
  }
}
