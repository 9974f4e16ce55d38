/**
 * The contract every `eta-sensor <command>` implements. Options are declared
 * once (node:util parseArgs) and the help text is generated from them, so
 * `--help` can never disagree with what is parsed.
 */
import type { Writable } from 'node:stream';
import { usageError } from '../errors.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for --help; mention the default. */
  doc: string;
  /** Placeholder shown in help, e.g. FILE. */
  arg?: string;
}

export interface CommandIO {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM; long commands stop reading, flush what they have and return. */
  readonly signal: AbortSignal;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  readonly positionals: string[];
}

export interface Command {
  readonly name: string;
  /** One line, for `eta-sensor --help`. */
  readonly summary: string;
  /** e.g. "eta-sensor extract <capture> [-o FILE] [--format csv|jsonl]" */
  readonly usage: string;
  /** Paragraphs after the usage line: what it does, examples. */
  readonly description: string;
  readonly options: Record<string, OptionSpec>;
  /** Positional arguments: [min, max]. */
  readonly positionals: readonly [number, number];
  /** Returns the exit code. Startup problems throw StartupError; everything else is reported and counted. */
  run(args: ParsedArgs, io: CommandIO): Promise<number>;
}

/** Typed accessors: parseArgs values are loosely typed. */
export function optString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** -o FILE, where "-" is standard output (as "-" is standard input for the commands that read one). */
export function optOutput(args: ParsedArgs): string | undefined {
  const v = optString(args, 'output');
  return v === '-' ? undefined : v;
}

export function optStrings(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}

export function optBool(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/**
 * Decimal digits only: Number() also took "0x10" (16 trees), "1e1" and "" (--seed= was seed 0),
 * and a seed past 2^32 - 1 was reduced modulo 2^32 by the generator while the model recorded it
 * as given (found by review).
 */
export function intOpt(args: ParsedArgs, name: string, def: number, min: number, cmd: string, max = 2 ** 32 - 1): number {
  const s = optString(args, name);
  if (s === undefined) return def;
  const v = /^\s*\d+\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw usageError(`--${name} must be an integer >= ${min}${max === 2 ** 32 - 1 ? ' (below 2^32)' : ` and <= ${max}`} (got "${s}")`, cmd);
  }
  return v;
}

export function numOpt(args: ParsedArgs, name: string, def: number, min: number, max: number, cmd: string): number {
  const s = optString(args, name);
  if (s === undefined) return def;
  const v = /^\s*(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v) || v < min || v > max) {
    throw usageError(`--${name} must be a number between ${min} and ${max} (got "${s}")`, cmd);
  }
  return v;
}
