/**
 * A model file damaged where its numbers are: onnxruntime opens it, and its NaN weights made
 * every flow "unknown" with confidence 0 and no top 3, with no word anywhere (found by review:
 * 2,000 bytes of 0xff in the middle of the shipped app model). Startup, check-config and a
 * replay must stop naming the file and what is wrong.
 */
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { badModelNumber, modelDamage } from '../../agent/infer/model-numbers.js';
import { runCli } from '../helpers/cli.js';

const SAMPLE = new URL('../../../samples/lo-sessions.pcap', import.meta.url).pathname;
const MODELS = new URL('../../../models/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'eta-damaged-'));

/** The shipped model with `n` bytes of 0xff from the middle of the file on (the review's damage). */
function damaged(kind: 'app' | 'attribution', n = 2000): string {
  const bytes = readFileSync(join(MODELS, `${kind}.onnx`));
  const at = bytes.length >> 1;
  bytes.fill(0xff, at, at + n);
  const out = join(dir, `damaged-${kind}-${n}.onnx`);
  writeFileSync(out, bytes);
  return out;
}

t.test('the shipped models and the trainer\'s hold numbers only', async (t) => {
  for (const kind of ['app', 'attribution']) t.equal(badModelNumber(readFileSync(join(MODELS, `${kind}.onnx`))), undefined, kind);
});

t.test('NaN in the leaf table is found and named', async (t) => {
  const what = modelDamage(readFileSync(damaged('app')));
  t.match(what, /^initializer leaf_table holds NaN at index \d+$/);
});

t.test('replay and check-config stop on the damaged app model, naming it', async (t) => {
  const bad = damaged('app');
  const message = new RegExp(`${bad.replaceAll('.', '\\.')} is damaged: initializer.* holds NaN at index \\d+\\n {2}fix: restore the file or retrain it`);
  const r = await runCli(['replay', SAMPLE, '--set', `infer.app.path=${bad}`]);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, message);
  t.equal(r.stdout, '', 'no record published with labels from NaN');
  const c = await runCli(['check-config', '--set', `infer.app.path=${bad}`]);
  t.equal(c.code, 2, c.stdout + c.stderr);
  t.match(c.stderr, new RegExp(`${bad.replaceAll('.', '\\.')} is damaged: initializer leaf_table holds NaN at index \\d+ \\(fix: restore the file or retrain it`));
});

t.test('a damaged forest is refused too, by onnxruntime or by the check', async (t) => {
  for (const n of [8, 2000]) {
    const bad = damaged('attribution', n);
    const r = await runCli(['replay', SAMPLE, '--set', `infer.attribution.path=${bad}`]);
    t.equal(r.code, 1, `${n} bytes: ${r.stderr}`);
    t.match(r.stderr, new RegExp(`${bad.replaceAll('.', '\\.')}`));
    t.equal(r.stdout, '');
  }
});
