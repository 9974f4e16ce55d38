/** Opening inputs: a named pipe is read in the event loop, waits for its writer and stops when asked. */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openForReading } from '../../agent/lib/input-file.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-input-file-'));

async function text(stream: Readable): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += (chunk as Buffer).toString();
  return s;
}

t.test('a regular file opens as a file', async (t) => {
  const f = join(dir, 'plain.csv');
  writeFileSync(f, 'a\n1\n');
  const input = await openForReading(f);
  t.equal(input.kind, 'file');
  if (input.kind !== 'file') return;
  t.equal(await input.fh.readFile('utf8'), 'a\n1\n');
  await input.fh.close();
});

t.test('a named pipe opens at once, before any writer; the stream waits for one and ends when it leaves', async (t) => {
  const fifo = join(dir, 'later.fifo');
  execFileSync('mkfifo', [fifo]);
  const input = await openForReading(fifo);
  t.equal(input.kind, 'pipe');
  if (input.kind !== 'pipe') return;
  const reading = text(input.stream);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(timer);
  t.ok(ticks >= 10, `the process stayed responsive while no writer came (${ticks} ticks)`);
  await new Promise<void>((resolve, reject) => {
    const w = createWriteStream(fifo);
    w.on('error', reject);
    w.end('hello\n', resolve);
  });
  t.equal(await reading, 'hello\n', 'the data, then the end when the writer left');
});

t.test('a writer that came and left before the reader read: every byte, then the end', async (t) => {
  // The race that hung CSV replay under load: a second, non-blocking open after the writer had gone
  // never saw the end. The pipe is now opened once, before the writer.
  const fifo = join(dir, 'quick.fifo');
  execFileSync('mkfifo', [fifo]);
  const input = await openForReading(fifo);
  if (input.kind !== 'pipe') throw new Error('not opened as a pipe');
  await new Promise<void>((resolve, reject) => {
    const w = createWriteStream(fifo);
    w.on('error', reject);
    w.end('a,b\n1,2\n', resolve);
  });
  await new Promise((r) => setTimeout(r, 200));
  t.equal(await text(input.stream), 'a,b\n1,2\n');
});

t.test('a named pipe whose writer sends nothing: destroying the stream ends the wait', async (t) => {
  const fifo = join(dir, 'idle.fifo');
  execFileSync('mkfifo', [fifo]);
  const input = await openForReading(fifo);
  if (input.kind !== 'pipe') throw new Error('not opened as a pipe');
  const closed = new Promise((r) => input.stream.on('close', r));
  setTimeout(() => input.stream.destroy(), 200);
  await closed;
  t.pass('closed');
});
