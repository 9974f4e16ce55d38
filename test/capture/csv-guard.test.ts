// Records over the size bound are replaced by one marker record; every other byte passes as it came.
import t from 'tap';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CsvRecordGuard, OVERSIZE_MARK, UNCLOSED_MARK } from '../../agent/capture/csv-guard.js';
import { runCli } from '../helpers/cli.js';

/** `text` through a guard of `limit` bytes, cut into chunks of `size` bytes. */
async function guard(text: string, limit: number, size: number): Promise<string> {
  const g = new CsvRecordGuard(limit);
  const out: Buffer[] = [];
  g.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise((r) => g.on('end', r));
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) g.write(bytes.subarray(i, i + size));
  g.end();
  await ended;
  return Buffer.concat(out).toString();
}

t.test('records within the bound pass unchanged, however the input is cut', async (t) => {
  const text = 'a,b,c\n1,"x\ny",3\n4,"q""uote",6\n7,8,9';
  for (const size of [1, 2, 3, 7, 64]) t.equal(await guard(text, 100, size), text, `chunks of ${size}`);
});

t.test('a record over the bound becomes one marker record spanning as many lines, the others pass', async (t) => {
  const long = `9,"${'z'.repeat(50)}\n${'z'.repeat(50)}",9`;
  const text = `a,b,c\n1,2,3\n${long}\n4,5,6\n`;
  for (const size of [1, 5, 13, 1000]) {
    const got = await guard(text, 40, size);
    const rows = parse(got, { relax_column_count: true }) as string[][];
    t.same(rows.map((r) => r[0]), ['a', '1', `${OVERSIZE_MARK}\n`, '4'], `chunks of ${size}`);
    t.equal(got.split('\n').length, text.split('\n').length, 'the same number of lines');
  }
  t.match(await guard(`1,2\n${'y'.repeat(100)}`, 40, 7), new RegExp(`^1,2\\n"${OVERSIZE_MARK}"\\n$`), 'one at the end of the input too');
});

t.test('replay of a CSV with a row over 1 MiB: that row is one bad row, every other is published', async (t) => {
  // Found by review: csv-parse's own limit, recovered from, read the rest of the huge cell as
  // rows: one bad row reported 16 times, and the good rows behind it lost (2 of 7 published).
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-guard-'));
  const csv = join(dir, 'flows.csv');
  t.equal((await runCli(['extract', 'samples/lo-sessions.pcap', '-o', csv, '--summary', 'none'])).code, 0);
  const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const sni = lines[0]!.split(',').indexOf('sni');
  const cells = lines[3]!.split(',');
  cells[sni] = 'A'.repeat(2_000_000);
  lines[3] = cells.join(',');
  const huge = join(dir, 'huge.csv');
  writeFileSync(huge, lines.join('\n') + '\n');
  const r = await runCli(['replay', huge, '--summary', 'json', '--set', 'infer.app.path=null', '--set', 'infer.attribution.path=null']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim().split('\n').length, 6, 'the six other rows published');
  const s = JSON.parse(r.stderr.trim().split('\n').pop()!) as { flows: number; bad_rows: number };
  t.same([s.flows, s.bad_rows], [6, 1]);
  t.match(r.stderr, /"line":4,"column":"\(row\)","value":"longer than 1048576 bytes"/);
});

t.test('a quote never closed: its first line becomes a marker record and the lines after it are read again', async (t) => {
  const text = 'a,b\n1,2\n"3,4\n5,6\n7,8\n';
  for (const size of [1, 4, 1000]) {
    const got = await guard(text, 1000, size);
    const rows = parse(got, { relax_column_count: true }) as string[][];
    t.same(rows.map((r) => r[0]), ['a', '1', UNCLOSED_MARK, '5', '7'], `chunks of ${size}`);
    t.equal(got.split('\n').length, text.split('\n').length, 'the same number of lines');
  }
  // Past the size bound its bytes are gone: one marker spans every line to the end.
  for (const end of ['\n', '']) {
    const long = `1,2\n"3,4\n${'5,6\n'.repeat(29)}5,6${end}`;
    const got = await guard(long, 40, 7);
    t.same((parse(got, { relax_column_count: true }) as string[][]).map((r) => r[0]), ['1', `${UNCLOSED_MARK}${'\n'.repeat(30)}`]);
    t.equal(got.trimEnd().split('\n').length, long.trimEnd().split('\n').length, `the same number of lines (${end ? 'a line feed' : 'none'} at the end)`);
  }
});

t.test('replay of a CSV with a stray opening quote: that row is one bad row, at its line, and the rows after it are published', async (t) => {
  // Found by review: csv-parse read the rest of the file as one record; replay published 4 of 700
  // rows, reported one bad row at the file's last line, and exited 0.
  const dir = mkdtempSync(join(tmpdir(), 'eta-csv-quote-'));
  const csv = join(dir, 'flows.csv');
  t.equal((await runCli(['extract', 'samples/lo-sessions.pcap', '-o', csv, '--summary', 'none'])).code, 0);
  const [header, ...rows] = readFileSync(csv, 'utf8').trimEnd().split('\n');
  const withQuote = (copies: number): string[] => {
    const many = Array.from({ length: copies }, () => rows).flat();
    many[4] = many[4]!.replace(',127.0.0.1,', ',"127.0.0.1,');
    writeFileSync(join(dir, 'quote.csv'), [header, ...many].join('\n') + '\n');
    return many;
  };
  const replay = async (): Promise<{ stderr: string; flows: number; bad: number }> => {
    const r = await runCli(['replay', join(dir, 'quote.csv'), '--summary', 'json', '--set', 'infer.app.path=null', '--set', 'infer.attribution.path=null']);
    t.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stderr.trim().split('\n').pop()!) as { flows: number; bad_rows: number };
    return { stderr: r.stderr, flows: s.flows, bad: s.bad_rows };
  };
  const many = withQuote(100);
  const small = await replay();
  t.same([small.flows, small.bad], [many.length - 1, 1], 'every other row published');
  t.match(small.stderr, /"line":6,"column":"\(row\)","value":"a quote opened here is never closed"/);
  // Over 1 MiB after it, the rest is lost (the guard does not keep it): every line counted.
  const more = withQuote(300);
  const big = await replay();
  t.same([big.flows, big.bad], [4, more.length - 4], 'the rows before it published, each line after it counted lost');
  t.match(big.stderr, new RegExp(`"line":6,.*never closed: the ${more.length - 4} lines from here to the end were lost`));
});
