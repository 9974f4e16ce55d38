/**
 * A record damaged while the buffer is open (its file changed under it): the records behind it
 * are kept, in the segment being appended to and in an older one, as recovery keeps them.
 */
import t from 'tap';
import * as fs from 'node:fs';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer, type Cursor } from '../../agent/publish/disk-buffer.js';
import { segmentName } from '../../agent/publish/disk-buffer-format.js';
import { payload, range, seqOf } from './helpers/numbered.js';
import { tempDir } from './helpers/tmp.js';


async function readAll(b: DiskBuffer, from: Cursor): Promise<number[]> {
  const seqs: number[] = [];
  for (let cur = from; ;) {
    const recs = b.read(cur, 7);
    if (recs.length === 0) return seqs;
    for (const r of recs) seqs.push(seqOf(r.payload));
    cur = recs[recs.length - 1]!.next;
  }
}

// Left open by the last session: a damaged record found while running cut its segment there,
// and every record behind it was lost (counted, but lost): 59 here in one segment.
for (const [what, segmentBytes] of [['the segment being appended to', 1 << 20], ['an older segment', 1080]] as const) {
  t.test(`a record damaged in ${what} while running: only it is lost`, async (t) => {
    const dir = tempDir(t);
    const open = (): Promise<DiskBuffer> => DiskBuffer.open({ dir, telemetry: createTelemetry(), maxBytes: 8 << 20, fsync: 'never', fsyncIntervalMs: 1000, overflow: 'drop-newest', segmentBytes });
    let b = await open();
    t.equal(payload(0).length, 100);
    await b.append(range(0, 100).map((n) => payload(n)));
    // Ten records read and in flight, five of them acknowledged.
    const inFlight = b.read(b.start, 10);
    b.ack(inFlight[4]!.next);
    const damaged = 40;
    const bases = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).map((f) => Number(f.slice(0, 16))).sort((x, y) => x - y);
    const base = bases.findLast((x) => x <= damaged)!;
    t.equal(bases.length > 1, segmentBytes < 1 << 20, 'segments as intended');
    const fd = fs.openSync(`${dir}/${segmentName(base)}`, 'r+');
    fs.writeSync(fd, Buffer.from('Z'), 0, 1, (damaged - base) * 108 + 30);
    fs.closeSync(fd);
    t.same(await readAll(b, inFlight[9]!.next), [...range(10, damaged), ...range(damaged + 1, 100)], 'every record but the damaged one');
    t.equal(b.stats().dropped.corrupt, 1);
    t.equal(b.size, 94, 'five acknowledged, one lost');
    await b.append([payload(100)]);
    t.same((await readAll(b, inFlight[4]!.next)).slice(-3), [98, 99, 100], 'appends go on after them');
    await b.close();
    b = await open();
    t.equal(b.stats().dropped.corrupt, 0, 'a second start finds nothing damaged');
    t.same(await readAll(b, b.start), [...range(5, damaged), ...range(damaged + 1, 101)], 'and the same records');
    await b.close();
  });
}
