/**
 * The buffer's folder may be writable by the service's user while root runs the daemon or a
 * replay on it: its files are never opened through a link, and a link among them stops the
 * start, naming it. Found by review (security): a link planted under a segment's name to a root
 * file was cut and written with flow records.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer } from '../../agent/publish/disk-buffer.js';
import { segmentName } from '../../agent/publish/disk-buffer-format.js';
import { payload, range } from './helpers/numbered.js';
import { tempDir } from './helpers/tmp.js';

const open = (dir: string): Promise<DiskBuffer> =>
  DiskBuffer.open({ dir, telemetry: createTelemetry(), maxBytes: 8 << 20, fsync: 'never', overflow: 'drop-oldest', fsyncIntervalMs: 1000 });

for (const name of [segmentName(0), 'position', 'gaps']) {
  t.test(`a link named ${name} in the folder: the start is refused, the linked file untouched`, async (t) => {
    const dir = tempDir(t);
    const victim = path.join(tempDir(t), 'victim');
    fs.writeFileSync(victim, 'root:secret\n');
    fs.symlinkSync(victim, path.join(dir, name));
    await t.rejects(open(dir), { code: 'E_PUBLISH', message: new RegExp(`${name} there is not a regular file \\(a symbolic link\\?\\).*remove it`) });
    t.equal(fs.readFileSync(victim, 'utf8'), 'root:secret\n');
  });
}

t.test('a link planted under the next segment\'s name while running is not written through', async (t) => {
  const dir = tempDir(t);
  const b = await open(dir);
  t.teardown(() => b.close());
  const victim = path.join(tempDir(t), 'victim');
  fs.writeFileSync(victim, 'root:secret\n');
  for (const base of range(1, 2000)) fs.symlinkSync(victim, path.join(dir, segmentName(base)));
  await b.append(range(0, 200).map((i) => payload(i, 40_000))); // more than a segment's size: a roll is due
  t.equal(fs.readFileSync(victim, 'utf8'), 'root:secret\n', 'the linked file is untouched');
});

t.test('the buffer\'s files are made readable by their owner only (records hold addresses and server names)', async (t) => {
  const dir = tempDir(t);
  const b = await open(dir);
  await b.append([payload(1)]);
  await b.close();
  for (const f of fs.readdirSync(dir).filter((n) => n !== 'lock')) t.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, f);
  const made = path.join(tempDir(t), 'a', 'buffer');
  await (await open(made)).close();
  t.equal(fs.statSync(made).mode & 0o777, 0o700, 'a folder it makes is its owner\'s alone');
});

t.test('a named pipe planted under the next segment\'s name while running does not block the daemon', async (t) => {
  // Found by review: O_NOFOLLOW refuses links only, and opening a FIFO with no reader for writing blocks for ever.
  const dir = tempDir(t);
  const b = await open(dir);
  t.teardown(() => b.close());
  const { execFileSync } = await import('node:child_process');
  for (const base of range(1, 300)) execFileSync('mkfifo', [path.join(dir, segmentName(base))]);
  let beats = 0;
  const heart = setInterval(() => beats++, 20);
  await b.append(range(0, 200).map((i) => payload(i, 40_000))); // a roll is due
  await new Promise((r) => setTimeout(r, 100));
  clearInterval(heart);
  t.ok(beats > 0, 'the event loop went on');
  t.ok(b.size > 0, 'records are kept in the segment open before');
});
