/** Opening inputs: a named pipe's open waits for its writer without holding the process, and stops when asked. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openForReading } from '../../agent/lib/input-file.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-input-file-'));

t.test('a regular file opens; an already aborted signal opens nothing', async (t) => {
  const f = join(dir, 'plain.csv');
  writeFileSync(f, 'a\n1\n');
  const fh = await openForReading(f, new AbortController().signal);
  t.equal((await fh.readFile('utf8')), 'a\n1\n');
  await fh.close();
  await t.rejects(openForReading(f, AbortSignal.abort()), { name: 'OpenInterrupted' });
});

t.test('a named pipe with no writer: the process stays responsive, and an abort ends the wait', async (t) => {
  const fifo = join(dir, 'nobody.fifo');
  execFileSync('mkfifo', [fifo]);
  const ac = new AbortController();
  const opening = openForReading(fifo, ac.signal);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  await new Promise((r) => setTimeout(r, 300));
  t.ok(ticks >= 10, `timers ran while the open waited (${ticks})`);
  const at = Date.now();
  ac.abort();
  await t.rejects(opening, { name: 'OpenInterrupted' });
  clearInterval(timer);
  t.ok(Date.now() - at < 1000, 'ended at once');
});

t.test('a named pipe whose writer comes: the data arrives', async (t) => {
  const fifo = join(dir, 'writer.fifo');
  execFileSync('mkfifo', [fifo]);
  const opening = openForReading(fifo, new AbortController().signal);
  const w = createWriteStream(fifo);
  w.end('hello\n');
  const fh = await opening;
  t.equal(await fh.readFile('utf8'), 'hello\n');
  await fh.close();
});
