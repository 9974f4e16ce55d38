#!/usr/bin/env node
/**
 * eta-sensor command line: `eta-sensor <command> [options]`.
 *
 * Commands are loaded lazily so that `--help` and `extract` start fast and do
 * not load onnxruntime or mqtt when they do not need them.
 */
import './infer/ort-quiet.js';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeError, OpenInterrupted, StartupError, usageError } from './errors.js';
import { catchEarlyHup } from './lib/early-hup.js';
import { keepFreedMemory } from './lib/heap-tune.js';
import { handleStopSignals } from './lib/stop-signals.js';
import type { Command, CommandIO, OptionSpec } from './commands/command.js';

/** Order here is the order of `eta-sensor --help`: the pipeline's, then the tools'. */
export const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['run', 'capture live, classify every flow and publish the labels (the daemon)'],
  ['replay', 'run the same pipeline on a pcap, pcapng or feature CSV file'],
  ['extract', 'turn a capture into one row of features per flow (CSV or JSONL)'],
  ['features', 'list the flow features: name, unit, basis, description'],
  ['label', 'join extracted flows with labels (5-tuple CSV or SNI rules)'],
  ['train', 'train a tree-ensemble classifier on a labeled CSV and export ONNX'],
  ['evaluate', 'measure a model on labeled flows; HTML report with confusion matrix'],
  ['check-config', 'validate a configuration file without starting anything'],
];

async function load(name: string): Promise<Command> {
  return ((await import(`./commands/${name}.js`)) as { command: Command }).command;
}

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map(([n]) => n.length));
  const lines = COMMANDS.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`);
  return [
    'eta-sensor: flows, features and labels for encrypted traffic',
    '',
    'Usage: eta-sensor <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `eta-sensor <command> --help` (or `eta-sensor help <command>`) for the options of a',
    'command; `eta-sensor --version` prints the version.',
    '',
  ].join('\n');
}

export function commandHelp(cmd: Command): string {
  const rows: Array<[string, string]> = Object.entries(cmd.options).map(([name, o]: [string, OptionSpec]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    return [flag, o.doc + (o.multiple ? ' (repeatable)' : '')];
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `Usage: ${cmd.usage}`,
    '',
    cmd.description.trim(),
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [first, ...args] = argv;
  // `help replay` is `replay --help` (it printed the overview: found by review).
  const [name, rest] = first === 'help' && args.length > 0 ? [args[0], [...args.slice(1), '--help']] : [first, args];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    io.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS.find(([n]) => n === name);
  try {
    if (!entry) throw usageError(`unknown command "${name}"`);
    const cmd = await load(entry[0]);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(commandHelp(cmd));
      return 0;
    }
    let parsed;
    try {
      const options = Object.fromEntries(
        Object.entries(cmd.options).map(([k, o]) => [k, { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}) }]),
      );
      parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
    } catch (e) {
      throw usageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''), name);
    }
    const [min, max] = cmd.positionals;
    if (parsed.positionals.length < min) throw usageError(`missing argument: ${cmd.usage}`, name);
    if (parsed.positionals.length > max) {
      throw usageError(`unexpected argument "${parsed.positionals[max]}"`, name);
    }
    return await cmd.run(parsed, io);
  } catch (err) {
    // The reader of our output went away (`| head`): a Unix filter stops quietly.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE' && name !== 'run') return 0;
    // Ctrl-C while the input, a named pipe, had sent nothing yet: stopped, as asked. `run`
    // stopped so (its output a named pipe no reader had opened) exits 0, as from any stop: a
    // service manager counts 130 as a failure (found by review).
    if (err instanceof OpenInterrupted) return name === 'run' ? 0 : 130;
    io.stderr.write(`eta-sensor${name ? ` ${name}` : ''}: ${describeError(err)}\n`);
    // Stopped by Ctrl-C or SIGTERM on the way ("training interrupted"): 130, as the commands that
    // stop cleanly answer (train and evaluate answered 1, label 130: found by review).
    if (io.signal.aborted) return 130;
    if (err instanceof StartupError) return err.exitCode;
    if (process.env['ETA_DEBUG'] && err instanceof Error) io.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// Run when executed (the bin is a symlink to this file), not when imported by tests.
if (isEntryPoint()) {
  const ac = new AbortController();
  handleStopSignals(ac);
  keepFreedMemory(); // before the commands allocate (lib/heap-tune.ts)
  // The daemon: a reload asked for while its modules load is kept for it (lib/early-hup.ts).
  if (process.argv[2] === 'run') catchEarlyHup();
  // Node ignores SIGPIPE, so a closed pipe on standard output (`eta-sensor features | head`) is an
  // EPIPE 'error' event, a stack trace if nobody listens: the one-shot commands end quietly instead.
  // The daemon is left to its sink (counted, and its logs go there too); replay stops by itself.
  const command = process.argv[2];
  if (command !== 'run' && command !== 'replay') {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      process.stderr.write(`eta-sensor: standard output: ${err.message}\n`);
      process.exit(1);
    });
  }
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: ac.signal })
    .then((code) => {
      process.exitCode = code;
      // The daemon has stopped (its sink closed, within service.shutdown_timeout): whatever still
      // holds the process (a worker stuck in a batch, the capture thread's last poll, up to a
      // second) must not hold it past that time, or until systemd's SIGKILL.
      if (command === 'run') setTimeout(() => process.exit(code), 100).unref();
    })
    .catch((err: unknown) => {
      process.stderr.write(`eta-sensor: ${describeError(err)}\n`);
      process.exitCode = 1;
    });
}
