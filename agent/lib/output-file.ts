/**
 * Output files the user names (models, reports, labelled CSVs): written beside their final
 * name and renamed into place when complete, so a reader never sees half a model and a failed
 * run leaves the old file as it was. Only a regular file (or a new one) is replaced that way:
 * renaming over /dev/stdout, a named pipe or a device would swap it for a plain file (as root,
 * /dev/full became one), so those are written to directly, and a directory is refused. A
 * symbolic link is followed (the file it names is replaced, the link stays), and a replaced file
 * keeps its mode and owner: both were lost to the rename (found by review).
 *
 * The temporary file is made by this process alone (O_EXCL, a random name, no link followed) and
 * given that mode and owner through its descriptor: its name was the target's and the pid, opened
 * with 'w' and chmod/chown by path, so as root `-o` into a folder another user can write went
 * through a link planted under that name to any file (/etc/shadow), wrote it, and gave it to that
 * user (found by review).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, openSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OpenInterrupted, StartupError } from '../errors.js';
import { cannotWrite } from './fs-problem.js';
import { folderProblem, makeDirSync } from './make-dir.js';

/** How to write `path`: through a temporary file renamed onto `target` (the file `path` names), or directly. */
export type OutputMode = AtomicOutput | { kind: 'direct' };
export interface AtomicOutput { kind: 'atomic'; tmp: string; target: string; keep?: { mode: number; uid: number; gid: number } }

const tmpName = (target: string): string => `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;

export function outputMode(path: string): OutputMode {
  let st;
  try {
    st = statSync(path);
  } catch {
    // Absent (or not visible): a new file, written atomically; a real problem shows when it is written.
  }
  if (st?.isDirectory()) {
    throw new StartupError('E_INPUT', `cannot write ${path}: it is a directory`, 'name a file, e.g. a path inside that directory');
  }
  if (st === undefined) return { kind: 'atomic', tmp: tmpName(path), target: path };
  if (!st.isFile()) return { kind: 'direct' };
  const target = realpathSync(path);
  return { kind: 'atomic', tmp: tmpName(target), target, keep: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid } };
}

/** Makes the temporary file of `mode` (see the module comment) and returns its descriptor, for writing. */
export function openTemp(mode: AtomicOutput): number {
  const fd = openSync(mode.tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  if (mode.keep) {
    try {
      fchmodSync(fd, mode.keep.mode);
    } catch (e) {
      closeSync(fd);
      rmSync(mode.tmp, { force: true }); // made here: no file is left beside the target
      throw e;
    }
    try {
      fchownSync(fd, mode.keep.uid, mode.keep.gid);
    } catch {
      // Only root may give a file away; another user's file becomes this user's, as a copy would.
    }
  }
  return fd;
}

/**
 * Refuses, before any work, an output that cannot be written: a directory, or a folder that
 * cannot be made or written into. train and evaluate found out only at the end (minutes to hours
 * of training lost to a typo: found by review).
 */
export function checkOutput(path: string): void {
  const mode = outputMode(path);
  if (mode.kind === 'direct') return;
  const problem = folderProblem(dirname(mode.target));
  if (problem !== undefined) throw new StartupError('E_INPUT', `cannot write ${path}: ${problem}`, 'choose an output path in a writable directory');
}

/** After writing to `mode`: rename the temporary file into place when `complete`, else remove it. */
export async function settleOutput(mode: OutputMode, complete: boolean): Promise<void> {
  if (mode.kind === 'direct') return;
  if (!complete) {
    await unlink(mode.tmp).catch(() => undefined);
    return;
  }
  await rename(mode.tmp, mode.target);
}

/** `bytes` as the whole content of `path` (see the module comment). */
export async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  const mode = outputMode(path);
  try {
    if (mode.kind === 'atomic') {
      makeDirSync(dirname(mode.target));
      const fd = openTemp(mode);
      try {
        writeFileSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
    } else {
      await writeFile(path, bytes);
    }
    await settleOutput(mode, true);
  } catch (e) {
    await settleOutput(mode, false);
    throw cannotWrite(path, e);
  }
}

/**
 * Refuses an output that is the input itself (same file under any name, or standard input
 * redirected from it: `extract - -o X < X`): it would be emptied before it is read (extract),
 * grow while it is read (replay's JSON lines into its own CSV), or be replaced by what was made
 * of it (a model or report written over its training data, a labelled CSV over the flows).
 */
export function refuseInputAsOutput(input: string, output: string | undefined): void {
  if (output === undefined || output === '-') return;
  let a, b;
  try {
    a = input === '-' ? fstatSync(0) : statSync(input);
    b = statSync(output);
  } catch {
    return; // either is missing: they cannot be the same file (the missing input is reported when opened)
  }
  if (a.isFile() && a.dev === b.dev && a.ino === b.ino) {
    throw new StartupError('E_USAGE', `the output ${output} is the input file: writing it would destroy what is being read`, 'write to another file');
  }
}

/**
 * For a named pipe: waits, without blocking the event loop, until a reader has it open, and
 * returns a write descriptor held while the real one opens (its close would be the reader's end of
 * input otherwise). Why: open() of a pipe with no reader blocks the whole thread, and neither
 * Ctrl-C nor SIGTERM could end `replay -o fifo` (found by review). Ctrl-C (`signal`) ends the wait.
 */
export async function waitForReader(file: string, signal?: AbortSignal): Promise<number | undefined> {
  let fifo = false;
  try {
    fifo = statSync(file).isFIFO();
  } catch {
    // absent: a file to make
  }
  if (!fifo) return undefined;
  for (;;) {
    try {
      return openSync(file, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') return undefined; // no reader yet is ENXIO; the open below says the rest
    }
    if (signal?.aborted) throw new OpenInterrupted(file, 'reader');
    await new Promise((r) => setTimeout(r, 100));
  }
}
