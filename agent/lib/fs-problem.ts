/**
 * Why a file the user named could not be opened, in words, with the fix that fits the cause.
 * Why one place: each command used to print the bare errno (`cannot write x.csv: ENOENT`) with
 * one fix for every cause ("check that the directory exists" for a permission problem, "give the
 * path of a pcap file" for an unreadable one). The code stays in parentheses, for searching.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { StartupError } from '../errors.js';

export interface FsProblem {
  readonly why: string;
  readonly fix: string;
}

function codeOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** This process's user, as messages name it (its uid where no name is known). */
export function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** Writing (creating) `path` failed with `e`; `fix` is the fix for causes not known here. */
export function writeProblem(path: string, e: unknown, fix = 'choose an output path in a writable directory'): FsProblem {
  const code = codeOf(e);
  const dir = dirname(path);
  switch (code) {
    case 'ENOENT':
      return existsSync(dir)
        ? { why: `no file can be made in ${dir} (ENOENT)`, fix }
        : { why: `its directory ${dir} does not exist (ENOENT)`, fix: `create it first (mkdir -p ${dir}) or choose another output` };
    case 'ENOTDIR':
      return { why: `a part of ${dir} is not a directory (ENOTDIR)`, fix };
    case 'EACCES':
    case 'EPERM':
      return { why: `permission denied (${code})`, fix: `choose a directory that ${userName()} may write to, or change the permissions of ${dir}` };
    case 'EISDIR':
      return { why: 'it is a directory (EISDIR)', fix: `name a file inside it, e.g. ${join(path, 'out')}` };
    case 'EROFS':
      return { why: 'its file system is read-only (EROFS)', fix };
    case 'ENOSPC':
    case 'EDQUOT':
      return { why: `no space left on its disk (${code})`, fix: 'free space on that disk or choose another output' };
    default:
      return { why: code ?? (e instanceof Error ? e.message : String(e)), fix };
  }
}

/** The error for an output that could not be written: "cannot write <path>: <why>", with the fix. */
export function cannotWrite(path: string, e: unknown, fix?: string): StartupError {
  const p = writeProblem(path, e, fix);
  return new StartupError('E_INPUT', `cannot write ${path}: ${p.why}`, p.fix, { cause: e });
}

/** Reading `path` failed with `e`; `fix` is the fix for a missing or wrong file. */
export function readProblem(path: string, e: unknown, fix: string): FsProblem {
  const code = codeOf(e);
  switch (code) {
    case 'ENOENT':
      return { why: 'no such file', fix };
    case 'EACCES':
    case 'EPERM':
      return { why: 'permission denied', fix: `run as a user that may read it, or let ${userName()} read it (chmod o+r ${path})` };
    case 'EISDIR':
      return { why: 'is a directory', fix };
    default:
      return { why: code ?? (e instanceof Error ? e.message : String(e)), fix };
  }
}
