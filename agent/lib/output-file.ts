/**
 * Output files the user names (models, reports, labelled CSVs): written beside their final
 * name and renamed into place when complete, so a reader never sees half a model and a failed
 * run leaves the old file as it was. Only a regular file (or a new one) is replaced that way:
 * renaming over /dev/stdout, a named pipe or a device would swap it for a plain file (as root,
 * /dev/full became one), so those are written to directly, and a directory is refused.
 */
import { fstatSync, statSync } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StartupError } from '../errors.js';
import { writeProblem } from './fs-problem.js';
import { makeDirSync } from './make-dir.js';

/** How to write `path`: through a temporary file renamed into place, or directly. */
export type OutputMode = { kind: 'atomic'; tmp: string } | { kind: 'direct' };

export function outputMode(path: string): OutputMode {
  let isFile = true;
  try {
    const st = statSync(path);
    if (st.isDirectory()) {
      throw new StartupError('E_INPUT', `cannot write ${path}: it is a directory`, 'name a file, e.g. a path inside that directory');
    }
    isFile = st.isFile();
  } catch (e) {
    if (e instanceof StartupError) throw e;
    // Absent (or not visible): a new file, written atomically; a real problem shows when it is written.
  }
  return isFile ? { kind: 'atomic', tmp: `${path}.tmp-${process.pid}` } : { kind: 'direct' };
}

/** After writing to `mode`: rename the temporary file into place when `complete`, else remove it. */
export async function settleOutput(path: string, mode: OutputMode, complete: boolean): Promise<void> {
  if (mode.kind === 'direct') return;
  if (complete) await rename(mode.tmp, path);
  else await unlink(mode.tmp).catch(() => undefined);
}

/** `bytes` as the whole content of `path` (see the module comment). */
export async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  const mode = outputMode(path);
  try {
    if (mode.kind === 'atomic') makeDirSync(dirname(path));
    await writeFile(mode.kind === 'atomic' ? mode.tmp : path, bytes);
    await settleOutput(path, mode, true);
  } catch (e) {
    await settleOutput(path, mode, false);
    const p = writeProblem(path, e);
    throw new StartupError('E_INPUT', `cannot write ${path}: ${p.why}`, p.fix, { cause: e });
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
