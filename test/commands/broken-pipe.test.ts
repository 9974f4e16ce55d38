/**
 * `eta-sensor extract ... | head` and `eta-sensor replay ... | head`: when the reader goes away,
 * the command stops early, quietly, with status 0, as a Unix filter does (no EPIPE message, no
 * error log, no summary claiming records it could not write).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import t from 'tap';
import { BIN, cliEnv } from '../helpers/cli.js';
import { manyFlows } from '../helpers/flood.js';
import { tempDir } from '../publish/helpers/tmp.js';

const FLOWS = 40_000;

/** Runs the command, reads the first line of its output, then closes the pipe. */
function firstLineThenClose(args: readonly string[]): Promise<{ code: number | null; line: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let line = '';
    child.stdout.on('data', (d: Buffer) => {
      if (line) return;
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        line = out.slice(0, nl);
        child.stdout.destroy(); // the reader goes away, as head does
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, line, stderr, ms: Date.now() - started });
    });
  });
}

t.test('extract and replay stop quietly when the reader closes the pipe', async (t) => {
  const pcap = join(tempDir(t), 'many.pcap');
  manyFlows(pcap, FLOWS);
  // 40,000 records are far more than a pipe holds: the reader's close is met by a write.
  const full = await firstLineThenClose(['replay', pcap, '-q']);
  t.ok(full.line.startsWith('{"v":1'), 'replay wrote its first record');
  t.equal(full.code, 0, 'replay exits with status 0');
  t.equal(full.stderr, '', 'replay says nothing on standard error');

  const ex = await firstLineThenClose(['extract', pcap]);
  t.ok(ex.line.startsWith('src_ip,src_port'), 'extract wrote its header');
  t.equal(ex.code, 0, 'extract exits with status 0');
  t.equal(ex.stderr, '', 'extract says nothing on standard error (no EPIPE, no summary)');
});

/** Runs the command with its standard output already closed by the reader: the first write meets EPIPE. */
function closedFromStart(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

t.test('every one-shot command ends quietly on a closed standard output', async (t) => {
  const dir = tempDir(t);
  const csv = join(dir, 'flows.csv');
  const sample = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;
  t.equal((await runCli(['extract', sample, '-o', csv])).code, 0);
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, 'rules:\n  - app: Example\n    sni: .sample.eta-sensor.test\n');
  const cases: Array<readonly string[]> = [
    ['features', '--format', 'csv'], ['features'], ['--help'], ['extract', sample], ['replay', sample],
    ['label', csv, '--sni-rules', rules, '--unlabeled', 'unknown'],
  ];
  for (const args of cases) {
    const r = await closedFromStart(args);
    t.equal(r.code, 0, `${args.join(' ')}: status 0`);
    t.notMatch(r.stderr, /EPIPE|\n\s+at |Unhandled/, `${args.join(' ')}: no EPIPE message or stack trace`);
  }
});
