/**
 * A disk that filled up during a broker outage: once the broker took every record back, the
 * space the delivered records held must be usable again, without a restart and after one.
 * (Found by review: a segment that never reached its roll size was kept, fully acknowledged, for ever;
 * every later record was dropped as io_error, and a restart reopened the same file.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer } from '../../agent/publish/disk-buffer.js';
import { payload, range, readAll } from './helpers/numbered.js';
import { capturingTelemetry } from './helpers/telemetry.js';
import { tempDir } from './helpers/tmp.js';

const CAPACITY = 5000; // bytes of segment files the simulated file system holds

/** Makes the buffer's writer fail with ENOSPC once the segment files would exceed CAPACITY. */
function smallDisk(b: DiskBuffer, dir: string): void {
  const w = (b as unknown as { writer: { write(data: Buffer, size: number): void } }).writer;
  const write = w.write.bind(w);
  w.write = (data: Buffer, size: number): void => {
    const used = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
    if (used + data.length > CAPACITY) {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    write(data, size);
  };
}

const open = (dir: string, telemetry = createTelemetry()): Promise<DiskBuffer> =>
  DiskBuffer.open({ dir, telemetry, maxBytes: 8 << 20, fsync: 'never', overflow: 'drop-oldest', fsyncIntervalMs: 1000 });

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

t.test('after a disk-full outage, delivered records free their space: new records are stored again', async (t) => {
  const dir = tempDir(t);
  const cap = capturingTelemetry();
  const b = await open(dir, cap.t);
  smallDisk(b, dir);
  for (const i of range(0, 60)) await b.append([payload(i)]);
  const stored = b.size;
  t.ok(stored < 60 && b.stats().dropped.io_error === 60 - stored, `disk full: ${stored} stored, the rest counted io_error`);
  const line = cap.logs().split('\n').find((l) => l.includes('buffer_dropped_io_error'));
  t.match(line, /"dir":"[^"]+".*publish\.buffer\.max_size/, 'the log names the folder and the fix');
  // The broker is back and takes everything.
  const { end } = await readAll(b);
  b.ack(end);
  t.equal(b.size, 0, 'all delivered');
  await settle();
  for (const i of range(100, 110)) {
    await b.append([payload(i)]);
    await settle();
  }
  t.same((await readAll(b)).seqs, range(100, 110), 'records after the outage are stored and read');
  t.equal(b.stats().dropped.io_error, 60 - stored, 'no new io_error drop');
  await b.close();
});

t.test('a restart after everything was delivered does not keep the delivered segment on a full disk', async (t) => {
  const dir = tempDir(t);
  let b = await open(dir);
  smallDisk(b, dir);
  for (const i of range(0, 60)) await b.append([payload(i)]);
  const { end } = await readAll(b);
  b.ack(end);
  await b.close();
  b = await open(dir);
  smallDisk(b, dir);
  await settle();
  await b.append(range(200, 210).map((i) => payload(i)));
  t.same((await readAll(b)).seqs, range(200, 210), 'stored after the restart');
  t.equal(b.stats().dropped.io_error, 0, 'nothing dropped');
  await b.close();
});

t.test('a batch that does not all fit on a full disk keeps the records that do', async (t) => {
  const dir = tempDir(t);
  const b = await open(dir);
  smallDisk(b, dir);
  // 5000 bytes hold 46 framed records of 108 bytes; one append of 60 (a burst of flows ending
  // together) must not lose the 46 with the 14.
  await b.append(range(0, 60).map((i) => payload(i)));
  t.equal(b.size, 46, 'the records that fit are stored');
  t.equal(b.stats().dropped.io_error, 14, 'only the others are counted lost');
  t.same((await readAll(b)).seqs, range(0, 46), 'in order');
  await b.close();
});
