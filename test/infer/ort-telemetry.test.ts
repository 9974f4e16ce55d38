/**
 * onnxruntime's telemetry stays off (infer/ort-quiet.ts): a replay leaves no device id in HOME,
 * no /tmp/mat-debug-<pid>.log and no session file in its working directory, and where HOME is
 * not writable (the systemd sandbox) it prints no coloured, non-JSON warning. Each of these
 * happened before (found by review), with ORT_DISABLE_TELEMETRY unset as it is on a gateway.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { BIN, cliEnv } from '../helpers/cli.js';

const SAMPLE = resolve('samples/lo-sessions.pcap');

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function replay(home: string, cwd: string): Promise<{ code: number | null; pid: number; stderr: string }> {
  const env = cliEnv({ HOME: home });
  delete env['ORT_DISABLE_TELEMETRY'];
  const child = spawn(process.execPath, [BIN, 'replay', SAMPLE, '-o', '/dev/null', '--summary', 'none'], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('exit', (code) => res({ code, pid: child.pid!, stderr })));
}

t.test('a replay sends no telemetry and leaves nothing of onnxruntime behind', async (t) => {
  const home = tempDir(t, 'eta-home-');
  const cwd = tempDir(t, 'eta-cwd-');
  const r = await replay(home, cwd);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(join(home, '.cache', 'Microsoft')), 'no device id kept in HOME');
  t.notOk(existsSync(`/tmp/mat-debug-${r.pid}.log`), 'no /tmp/mat-debug file');
  t.same(readdirSync(cwd), [], 'nothing written in the working directory');
});

t.test('with HOME not writable, as under the systemd unit, stderr stays quiet', async (t) => {
  const cwd = tempDir(t, 'eta-cwd-');
  const r = await replay('/proc', cwd);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '', 'no onnxruntime warning (it was coloured, not JSON, and went to the journal)');
  t.same(readdirSync(cwd), [], 'no ":memory:.ses" left in the working directory');
});
