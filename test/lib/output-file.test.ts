/**
 * Output files: regular files are replaced whole (through a temporary file renamed into place),
 * anything else a user may name as output (a named pipe, /dev/null, /dev/stdout) is written
 * to directly and stays what it was, a directory is refused, and no temporary file is left.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { StartupError } from '../../agent/errors.js';
import { checkOutput, openTemp, outputMode, writeOutput, type AtomicOutput } from '../../agent/lib/output-file.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-output-'));

t.test('a new file and an existing regular file are written whole, with nothing left beside them', async (t) => {
  const sub = join(dir, 'a');
  mkdirSync(sub);
  const p = join(sub, 'model.onnx');
  t.equal(outputMode(p).kind, 'atomic');
  await writeOutput(p, 'first');
  await writeOutput(p, 'second');
  t.equal(readFileSync(p, 'utf8'), 'second');
  t.same(readdirSync(sub), ['model.onnx'], 'no temporary file left');
});

t.test('a directory is refused with a fix', async (t) => {
  const e = await writeOutput(dir, 'x').then(() => null, (err: unknown) => err);
  t.ok(e instanceof StartupError);
  t.match((e as StartupError).message, /cannot write .*: it is a directory/);
  t.match((e as StartupError).hint, /name a file/);
});

t.test('a failed write names the path and leaves no temporary file', async (t) => {
  // /proc takes no new files, whoever runs the test (root included).
  await t.rejects(writeOutput('/proc/eta-output-test.html', 'x'), /cannot write \/proc\/eta-output-test\.html: /);
  t.notOk(readdirSync('/proc').some((f) => f.startsWith('eta-output-test')));
});

t.test('a character device is written to, not replaced', async (t) => {
  // Only asked, never written: were this to regress, writing would replace the machine's /dev/null (CI runs as root).
  t.equal(outputMode('/dev/null').kind, 'direct');
  t.equal(outputMode('/dev/stdout').kind, 'direct');
});

t.test('a named pipe stays a pipe and its reader gets the data (label -o FIFO)', async (t) => {
  const fifo = join(dir, 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, 'rules:\n  - app: Example\n    sni: .example.org\n');
  const csv = join(dir, 'flows.csv');
  writeFileSync(csv, 'src_ip,src_port,dst_ip,dst_port,proto,sni\n10.0.0.1,5000,10.0.0.2,443,6,www.example.org\n');
  const reader = spawn('cat', [fifo]);
  let got = '';
  reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
  const readerDone = new Promise((res) => reader.on('close', res));
  const r = await runCli(['label', csv, '--sni-rules', rules, '-o', fifo]);
  // Had the pipe been renamed over, its reader would wait forever: give it a moment, then stop it.
  const timer = setTimeout(() => reader.kill(), 3000);
  await readerDone;
  clearTimeout(timer);
  t.equal(r.code, 0, r.stderr);
  t.match(got, /^src_ip,src_port,dst_ip,dst_port,proto,sni,app,category\n10\.0\.0\.1,5000,10\.0\.0\.2,443,6,www\.example\.org,Example,/);
  t.ok(statSync(fifo).isFIFO(), 'still a named pipe');
  t.notOk(readdirSync(dir).some((f) => f.includes('.tmp-')), 'no temporary file');
});

t.test('a symbolic link is followed, and a replaced file keeps its mode and group', { skip: process.getuid?.() !== 0 && 'giving a file to another group needs root' }, async (t) => {
  // Found by review: the rename replaced the link with a plain file (the file it named kept the old
  // content), and a file of mode 640, group daemon, became 644 root:root.
  const sub = join(dir, 'links');
  mkdirSync(sub);
  const real = join(sub, 'real.onnx');
  writeFileSync(real, 'OLD');
  chmodSync(real, 0o640);
  chownSync(real, 0, 1); // group 1 (daemon on Debian); the tests run as root
  const link = join(sub, 'link.onnx');
  symlinkSync(real, link);
  await writeOutput(link, 'NEW');
  t.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  t.equal(readFileSync(real, 'utf8'), 'NEW', 'the file it names was replaced');
  t.equal(statSync(real).mode & 0o777, 0o640);
  t.equal(statSync(real).gid, 1);
  t.same(readdirSync(sub).sort(), ['link.onnx', 'real.onnx'], 'no temporary file left');
});

t.test('an output that cannot be written is refused before any work (checkOutput)', async (t) => {
  t.throws(() => checkOutput('/proc/eta/m.onnx'), { message: 'cannot write /proc/eta/m.onnx: /proc is on a kernel file system (proc, sysfs...), where nothing can be written: /proc/eta cannot be made there' });
  t.throws(() => checkOutput(dir), { message: /it is a directory/ });
  t.doesNotThrow(() => checkOutput(join(dir, 'new', 'sub', 'm.onnx')), 'missing folders are made when written');
  // train refuses before it reads its data: a missing --data would be reported first otherwise.
  const r = await runCli(['train', '--data', join(dir, 'nope.csv'), '--label', 'app', '--out', '/proc/eta/m.onnx']);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot write \/proc\/eta\/m\.onnx: \/proc is on a kernel file system/);
});

t.test('the temporary file is made by this run alone: a link planted under its name is refused, not written through', async (t) => {
  // Found by review: the name was the target's and the pid, opened with 'w' and chmod/chown by
  // path, so as root -o into a folder another user can write overwrote any file a link named
  // there (/etc/shadow) and gave it to that user.
  const sub = join(dir, 'planted');
  mkdirSync(sub);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'secret');
  chmodSync(victim, 0o600);
  const target = join(sub, 'flows.csv');
  writeFileSync(target, 'old');
  chmodSync(target, 0o666);
  const a = outputMode(target) as AtomicOutput;
  const b = outputMode(target) as AtomicOutput;
  t.not(a.tmp, b.tmp, 'a name no one can guess ahead');
  symlinkSync(victim, a.tmp);
  t.throws(() => openTemp(a), { code: 'EEXIST' });
  t.equal(readFileSync(victim, 'utf8'), 'secret', 'the linked file is untouched');
  t.equal(statSync(victim).mode & 0o777, 0o600, 'and keeps its mode');
  await writeOutput(target, 'new');
  t.equal(readFileSync(target, 'utf8'), 'new');
  t.equal(statSync(target).mode & 0o777, 0o666, 'the replaced file keeps its mode');
});
