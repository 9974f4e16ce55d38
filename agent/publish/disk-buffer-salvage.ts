/**
 * A record that fails its checksum while the buffer runs (its file changed under it: a failing
 * disk, a stray write): the whole records behind it in its segment are kept, as recovery keeps
 * them at startup (disk-buffer-recover.ts). The segment used to be cut at the damage, every
 * record after it lost (59 of 100 in one segment behind a flipped byte in record 40: the test).
 *
 * In the segment being appended to, the records found follow the good ones in the same file,
 * numbered on from the damaged one: none of them was read yet, so none is in flight or
 * acknowledged. In an older segment, whose numbers end where the next one's begin, they go to a
 * file of their own numbered back from that end; the cursors step over the gap the damaged
 * records leave (Segments.normalize).
 */
import * as path from 'node:path';
import { cutInBuffer, readFully, readGaps, writeGaps } from './disk-buffer-files.js';
import { salvageFrames } from './disk-buffer-recover.js';
import type { Cursor, Segment, Segments } from './disk-buffer-segments.js';
import type { SegmentWriter } from './disk-buffer-writer.js';

export interface Salvaged {
  /** Records gone: the damaged one, and those behind it that could not be told apart. */
  readonly lost: number;
  /** Framed bytes gone. */
  readonly lostBytes: number;
  /** Records found behind the damage and kept. */
  readonly kept: number;
}

/** Cuts `seg` at `at` (the damaged record) and keeps the whole records found behind it. */
export function salvageAt(segs: Segments, writer: SegmentWriter, seg: Segment, at: Cursor): Salvaged {
  const end = seg.base + seg.count;
  const behind = end - at.seq; // the damaged record and the ones after it
  const cutBytes = seg.bytes - at.off;
  let found: Buffer[] = [];
  writer.attempt(() => {
    const buf = Buffer.allocUnsafe(cutBytes);
    found = salvageFrames(buf.subarray(0, readFully(segs.readFd(seg), buf, cutBytes, at.off)));
  });
  // As many whole records as were behind the damage, or more: a chance checksum match. Keep none.
  if (found.length >= behind) found = [];
  const data = Buffer.concat(found);
  const active = seg === segs.active();
  // The active segment's writer appends (O_APPEND): after the cut, at the file's new end.
  writer.attempt(() => cutInBuffer(seg.file, at.off));
  seg.count = at.seq - seg.base;
  seg.bytes = at.off;
  let kept = 0;
  if (found.length > 0) {
    if (active) {
      // A failure (disk full) is reported, and the records found are lost with the damaged one.
      if (writer.attempt(() => writer.write(data, seg.bytes))) {
        seg.count += found.length;
        seg.bytes += data.length;
        kept = found.length;
      }
    } else if (writer.attempt(() => segs.addAfter(seg, end - found.length, found.length, data))) {
      kept = found.length;
    }
  }
  // An older segment now ends before the next one's numbers begin: the gap is these records, counted here.
  if (!active && at.seq < end - kept) {
    const dir = path.dirname(seg.file);
    writer.attempt(() => writeGaps(dir, [...readGaps(dir), [at.seq, end - kept]]));
  }
  return { lost: behind - kept, lostBytes: cutBytes - (kept > 0 ? data.length : 0), kept };
}
