/**
 * A full buffer under drop-oldest reads about as many records as it drops. Found by review: it
 * read 256 records (each checksummed) to drop one, for every record appended, which cost the main
 * thread 300 µs a record and live capture its packets. Counted in records read, not timed.
 */
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer } from '../../agent/publish/disk-buffer.js';
import { tempDir } from './helpers/tmp.js';

for (const batch of [1, 25]) {
  t.test(`appends of ${batch} record(s) to a full buffer: the records read to drop the oldest are about those dropped`, async (t) => {
    const b = await DiskBuffer.open({ dir: tempDir(t), maxBytes: 1 << 20, overflow: 'drop-oldest', fsync: 'never', fsyncIntervalMs: 1000, telemetry: createTelemetry() });
    t.teardown(() => b.close());
    let reads = 0;
    const read = b.read.bind(b);
    b.read = (...args) => {
      const got = read(...args);
      reads += got.length;
      return got;
    };
    const rec = Array.from({ length: batch }, (_, i) => Buffer.from(`{"n":${i},"pad":"${'x'.repeat(480)}"}`));
    for (let i = 0; i < 4000; i += batch) await b.append(rec); // fills 1 MiB: drops begin
    const dropped = b.stats().dropped.overflow;
    t.ok(dropped > 1000, `${dropped} dropped`);
    t.ok(reads <= 2 * dropped + 64, `${reads} records read for ${dropped} dropped`);
    t.equal(b.size + dropped, 4000, 'every record kept or counted');
  });
}
