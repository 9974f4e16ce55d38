/**
 * A segment file gone between two runs (deleted by hand, lost with a disk): its records are
 * counted as lost, once. Found by review: 7,967 records of a deleted segment were lost without a
 * log line or a count. Apart from disk-buffer-suite.ts: it sets its own segment size.
 */
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer } from '../../agent/publish/disk-buffer.js';
import { segmentName } from '../../agent/publish/disk-buffer-format.js';
import { payload, range, readAll } from './helpers/numbered.js';
import { tempDir } from './helpers/tmp.js';

for (const fsync of ['interval', 'never'] as const) {
  t.test(`fsync ${fsync}: a segment file gone (deleted by hand) is counted with its records, once`, async (t) => {
    const open = (dir: string): Promise<DiskBuffer> => DiskBuffer.open({
      dir, telemetry: createTelemetry(), maxBytes: 8 << 20, fsync, fsyncIntervalMs: 1000, overflow: 'drop-oldest', segmentBytes: 324, // 3 records of 108 bytes each
    });
    for (const ackedTo of [0, 2]) {
      const dir = tempDir(t);
      let b = await open(dir);
      await b.append(range(0, 12).map((n) => payload(n)));
      if (ackedTo > 0) b.ack(b.read(b.start, ackedTo)[ackedTo - 1]!.next);
      await b.close();
      fs.rmSync(path.join(dir, segmentName(3))); // records 3, 4 and 5
      b = await open(dir);
      t.equal(b.stats().dropped.corrupt, 3, `acked to ${ackedTo}: the records of the file gone`);
      t.same((await readAll(b)).seqs, [...range(ackedTo, 3), ...range(6, 12)], `acked to ${ackedTo}: the others`);
      await b.close();
      b = await open(dir);
      t.equal(b.stats().dropped.corrupt, 0, `acked to ${ackedTo}: a second start counts them no more`);
      await b.close();
    }
  });
}
