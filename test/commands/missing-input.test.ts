/**
 * Every command that reads or writes a file the user names answers a missing file, a directory,
 * a capture where a CSV belongs or an unwritable output with one line naming it and a fix, and status 1: no stack trace, and never a silent success
 * (replay of a missing .csv used to print nothing and exit 0).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, mkdtempSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import t from 'tap';
import { BIN, cliEnv, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-missing-'));
const rules = join(dir, 'rules.yaml');
writeFileSync(rules, 'rules:\n  - app: Example\n    sni: .example.org\n');
const missing = join(dir, 'nope.csv');
mkdirSync(join(dir, 'd.csv'));
// A tiny labeled flow CSV: enough for train to reach the point of writing its output.
writeFileSync(join(dir, 'rows.csv'), ['src2dst_packets,dst2src_packets,app',
  ...Array.from({ length: 40 }, (_, i) => `${i % 7},${i % 5},${i % 2 ? 'a' : 'b'}`)].join('\n') + '\n');

const cases: Array<[string, string[], RegExp, number?]> = [
  ['replay of a missing CSV', ['replay', missing], /cannot read feature CSV .*nope\.csv: no such file/],
  ['replay of a directory named .csv', ['replay', join(dir, 'd.csv')], /cannot read feature CSV .*d\.csv: is a directory/],
  ['extract of a missing capture', ['extract', join(dir, 'nope.pcap')], /cannot open capture .*nope\.pcap: no such file/],
  ['label of a missing flow CSV', ['label', missing, '--sni-rules', rules], /cannot read flow CSV .*nope\.csv: no such file/],
  ['label with a missing labels file', ['label', missing, '--labels', join(dir, 'labels.csv')], /cannot read labels file .*labels\.csv: no such file/],
  ['train on a missing CSV', ['train', '--data', missing, '--label', 'app', '--out', join(dir, 'm.onnx')], /cannot read flow CSV .*nope\.csv: no such file/],
  ['evaluate on a missing CSV', ['evaluate', '--model', 'models/app.onnx', '--data', missing], /cannot read flow CSV .*nope\.csv: no such file/],
  ['train on a capture instead of a CSV', ['train', '--data', 'samples/lo-sessions.pcap', '--label', 'app', '--out', join(dir, 'm.onnx')],
    /lo-sessions\.pcap is a packet capture, not a flow CSV\n {2}fix: turn it into flow rows first: eta-sensor extract/],
  ['replay -o into a missing directory', ['replay', 'samples/lo-sessions.pcap', '-o', join(dir, 'no', 'x.jsonl')],
    /cannot write .*x\.jsonl: its directory .*no does not exist \(ENOENT\)\n {2}fix: create it first \(mkdir -p .*no\)/],
  ['extract -o into a missing directory', ['extract', 'samples/lo-sessions.pcap', '-o', join(dir, 'no', 'x.csv')],
    /cannot write .*x\.csv: its directory .*no does not exist \(ENOENT\)\n {2}fix: create it first \(mkdir -p .*no\)/],
  // As label, train and evaluate say it (lib/output-file.ts), since extract writes beside the file too.
  ['extract -o a directory', ['extract', 'samples/lo-sessions.pcap', '-o', dir], /cannot write .*: it is a directory\n {2}fix: name a file, e\.g\. a path inside that directory/],
  // The capture is open by then: it must be closed, or the process lives on doing nothing (systemd never restarts it).
  ['run with its output file in a missing directory', ['run', '--set', 'capture.interfaces=lo', '--set', 'publish.sink=file', '--set', `publish.file.path=${join(dir, 'no', 'x.jsonl')}`],
    /cannot open publish\.file\.path .*x\.jsonl.*: its directory .*no does not exist \(ENOENT\)/],
  ['extract to a full disk', ['extract', 'samples/lo-sessions.pcap', '-o', '/dev/full', '--summary', 'none'], /cannot write \/dev\/full: ENOSPC/],
  ['train --out where nothing can be written', ['train', '--data', join(dir, 'rows.csv'), '--label', 'app', '--out', '/proc/eta-m.onnx'], /cannot write \/proc\/eta-m\.onnx: /],
];

// Found by review: a gzip'd capture said only "unknown magic number", a gzip'd CSV showed its
// compressed bytes as column names.
const gz = (name: string, from: string): string => {
  const p = join(dir, name);
  writeFileSync(p, gzipSync(readFileSync(from)));
  return p;
};
writeFileSync(join(dir, 'plain.csv'), 'a,b,app\n1,2,x\n');
cases.push(
  ['extract of a gzip\'d capture', ['extract', gz('s.pcap.gz', 'samples/lo-sessions.pcap')],
    /s\.pcap\.gz is compressed with gzip\n {2}fix: decompress it first, or stream it: zcat .*s\.pcap\.gz \| eta-sensor extract -/],
  ['replay of a gzip\'d CSV', ['replay', gz('r.csv.gz', join(dir, 'plain.csv'))],
    /r\.csv\.gz is compressed with gzip\n {2}fix: decompress it first \(gunzip -k .*r\.csv\.gz\) and give .*r\.csv\n/],
  ['train on a gzip\'d CSV', ['train', '--data', gz('t.csv.gz', join(dir, 'plain.csv')), '--label', 'app', '--out', join(dir, 'g.onnx')],
    /t\.csv\.gz is compressed with gzip, not a flow CSV\n {2}fix: decompress it first/],
);

// Found by review: label -o /dev/full said only "ENOSPC: no space left on device, write".
writeFileSync(join(dir, 'flows.csv'), 'src_ip,src_port,dst_ip,dst_port,proto,sni\n10.0.0.1,5000,10.0.0.2,443,6,www.example.org\n');
cases.push(['label -o to a full disk', ['label', join(dir, 'flows.csv'), '--sni-rules', rules, '-o', '/dev/full'],
  /cannot write \/dev\/full: no space left on its disk \(ENOSPC\)\n {2}fix: free space on that disk or choose another output/]);

// A configuration that cannot be read is a configuration mistake: status 2, as for an invalid one.
cases.push(['check-config -c a missing file', ['check-config', '-c', join(dir, 'nope.yaml')],
  /cannot read configuration .*nope\.yaml: no such file\n {2}fix: give the path of a YAML file/, 2]);

for (const [what, args, message, code = 1] of cases) {
  t.test(what, async (t) => {
    const r = await runCli(args);
    t.equal(r.code, code, r.stderr);
    t.match(r.stderr, message);
    t.match(r.stderr, /\n {2}fix: /, 'a fix is named');
    t.notMatch(r.stderr, /\n\s+at |node:events|Unhandled/, 'no stack trace');
    // run's log is JSON lines on standard output: there, the one line saying why it stopped.
    const out = args[0] === 'run' ? r.stdout.split('\n').filter((l) => l !== '' && !/^\{"level":60,.*"msg":"eta-sensor stopped on an error"\}$/.test(l)).join('\n') : r.stdout;
    t.equal(out, '', 'nothing on standard output');
  });
}

t.test('a buffer folder that cannot be made under /proc is an error, not a hang', async (t) => {
  // Found by review: Node 20's recursive mkdir never returns there, and ignored SIGTERM meanwhile.
  const r = await runCli(['replay', 'samples/lo-sessions.pcap', '--mqtt', 'mqtt://127.0.0.1:1', '--set', 'publish.buffer.dir=/proc/eta-nope/buf'],
    { timeoutMs: 30_000 });
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, /cannot use publish buffer directory \/proc\/eta-nope\/buf: ENOENT/);
});

t.test('a CSV read from a named pipe still works: only regular files are checked for a capture', async (t) => {
  const fifo = join(dir, 'flows.fifo');
  execFileSync('mkfifo', [fifo]);
  const csv = ['src_ip,src_port,dst_ip,dst_port,proto,sni', '10.0.0.1,5000,10.0.0.2,443,6,www.example.org'].join('\n') + '\n';
  const running = runCli(['label', fifo, '--sni-rules', rules, '--dry-run']);
  createWriteStream(fifo).end(csv); // opens once the command opens the pipe for reading
  const r = await running;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^1 flows read from .*flows\.fifo: 1 labelled/m);
});

t.test('a missing input leaves an existing output file as it was (extract, replay)', async (t) => {
  for (const [cmd, out] of [['extract', 'keep.csv'], ['replay', 'keep.jsonl']] as const) {
    const keep = join(dir, out);
    writeFileSync(keep, 'precious\n');
    const r = await runCli([cmd, join(dir, 'nope.pcap'), '-o', keep]);
    t.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    t.match(r.stderr, /cannot open capture .*nope\.pcap: no such file/);
    t.equal(readFileSync(keep, 'utf8'), 'precious\n', `${cmd} did not touch ${out}`);
  }
});

t.test('an input that is not a capture leaves an existing output file as it was (extract, replay)', async (t) => {
  // Found by review: the format was checked only once the output had been opened (and emptied).
  const junk = join(dir, 'junk.pcap');
  writeFileSync(junk, 'not a capture\n');
  for (const [cmd, out] of [['extract', 'keep2.csv'], ['replay', 'keep2.jsonl']] as const) {
    const keep = join(dir, out);
    writeFileSync(keep, 'precious\n');
    const r = await runCli([cmd, junk, '-o', keep]);
    t.equal(r.code, 1, `${cmd}: ${r.stderr}`);
    t.match(r.stderr, /junk\.pcap is not a pcap or pcapng capture \(unknown magic number\)/);
    t.equal(readFileSync(keep, 'utf8'), 'precious\n', `${cmd} did not touch ${out}`);
  }
});

t.test('a capture read from a named pipe is streamed (positional reads fail there with ESPIPE)', async (t) => {
  const fifo = join(dir, 'capture.pcap');
  execFileSync('mkfifo', [fifo]);
  const running = runCli(['extract', fifo, '--summary', 'none']);
  createWriteStream(fifo).end(readFileSync('samples/lo-sessions.pcap'));
  const r = await running;
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim().split('\n').length, 8, 'the header and the 7 flows of the sample');
});

t.test('the input given as the output is refused, under its own name or another (extract, replay, train, evaluate, label)', async (t) => {
  const capture = join(dir, 'same.pcap');
  copyFileSync('samples/lo-sessions.pcap', capture);
  symlinkSync(capture, join(dir, 'alias.pcap'));
  const csv = join(dir, 'same.csv');
  t.equal((await runCli(['extract', capture, '-o', csv, '--summary', 'none'])).code, 0);
  const csvBefore = readFileSync(csv);
  const labeled = join(dir, 'rows.csv');
  const labeledBefore = readFileSync(labeled);
  const model = join(dir, 'same.onnx');
  copyFileSync('models/app.onnx', model);
  const categories = join(dir, 'categories.yaml');
  copyFileSync('config/categories.yaml', categories);
  const featureList = join(dir, 'features.txt');
  writeFileSync(featureList, 'src2dst_packets\ndst2src_packets\n');
  const refused = [
    ['extract', capture, '-o', capture], ['extract', capture, '-o', join(dir, 'alias.pcap')], ['replay', csv, '-o', csv],
    // Found by review: these wrote a model, an HTML report or the labelled rows over what they read, and said so with status 0.
    ['train', '--data', labeled, '--label', 'app', '--out', labeled, '--trees', '2'],
    ['evaluate', '--model', model, '--data', labeled, '--report', labeled],
    ['evaluate', '--model', model, '--data', labeled, '--report', model],
    ['label', csv, '--sni-rules', rules, '-o', csv],
    ['label', csv, '--sni-rules', rules, '-o', rules],
    // Found by review: the other files these read, a categories file and a feature list, were written over too.
    ['label', csv, '--sni-rules', rules, '--categories', categories, '-o', categories],
    ['train', '--data', labeled, '--label', 'app', '--features', `@${featureList}`, '--out', featureList, '--trees', '2'],
  ];
  for (const args of refused) {
    const r = await runCli(args);
    t.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.match(r.stderr, /the output .* is the input file: writing it would destroy what is being read\n {2}fix: write to another file/);
  }
  // Standard input redirected from the very file named as the output: `extract - -o X < X` emptied X.
  const viaStdin = spawnSync(process.execPath, [BIN, 'extract', '-', '-o', capture], { stdio: [openSync(capture, 'r'), 'pipe', 'pipe'], env: cliEnv() });
  t.equal(viaStdin.status, 2, viaStdin.stderr.toString());
  t.match(viaStdin.stderr.toString(), /the output .*same\.pcap is the input file/);
  t.same(readFileSync(capture), readFileSync('samples/lo-sessions.pcap'), 'capture intact');
  t.same(readFileSync(csv), csvBefore, 'CSV intact');
  t.same(readFileSync(labeled), labeledBefore, 'labelled CSV intact');
  t.same(readFileSync(model), readFileSync('models/app.onnx'), 'model intact');
  t.match(readFileSync(rules, 'utf8'), /^rules:/, 'rules intact');
  t.same(readFileSync(categories), readFileSync('config/categories.yaml'), 'categories intact');
  t.equal(readFileSync(featureList, 'utf8'), 'src2dst_packets\ndst2src_packets\n', 'feature list intact');
});

t.test('label makes its output folder as train and evaluate do, and names the user\'s path when it cannot', async (t) => {
  const csv = join(dir, 'for-folders.csv');
  t.equal((await runCli(['extract', 'samples/lo-sessions.pcap', '-o', csv, '--summary', 'none'])).code, 0);
  const nested = join(dir, 'new', 'sub', 'labelled.csv');
  const made = await runCli(['label', csv, '--sni-rules', rules, '-o', nested]);
  t.equal(made.code, 0, made.stderr);
  t.match(readFileSync(nested, 'utf8'), /^src_ip,/);
  // A file where a folder should be: the message named "<path>.tmp-<pid>" (found by review).
  const underFile = join(csv, 'labelled.csv');
  const refused = await runCli(['label', csv, '--sni-rules', rules, '-o', underFile]);
  t.equal(refused.code, 1, refused.stderr);
  t.equal(refused.stderr, `eta-sensor label: cannot write ${underFile}: ${csv} is a file, not a folder\n  fix: choose an output path in a writable directory\n`);
});

t.test('a mistake in a configuration file sends the user to check-config on that file', async (t) => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'flows:\n  idle_timeout: -1\n');
  const r = await runCli(['run', '-c', file]);
  t.equal(r.code, 2);
  t.match(r.stderr, `  fix: fix the listed keys; \`eta-sensor check-config -c ${file}\` validates without starting\n`);
  // check-config itself does not send the user to check-config (found by review).
  const c = await runCli(['check-config', '-c', file]);
  t.equal(c.code, 2);
  t.match(c.stderr, /\n {2}fix: fix the listed keys\n$/);
});
