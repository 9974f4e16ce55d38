/**
 * Reading the disk buffer's records: frames decoded from a segment file in chunks sized to what
 * is asked for, across segments, a record larger than a chunk read again whole.
 */
import { decodeFrame, HEADER_BYTES } from './disk-buffer-format.js';
import { readFully } from './disk-buffer-files.js';
import type { Cursor, Segment, Segments } from './disk-buffer-segments.js';
import type { BufferedRecord } from './disk-buffer-types.js';

const READ_CHUNK = 256 * 1024;

/**
 * Up to maxRecords records (and about maxBytes of payload, at least one record) from `from` (a
 * normalized cursor) on. A record failing its checksum is handed to `skipCorrupt`, which says
 * where reading goes on.
 */
export function readRecords(segs: Segments, from: Cursor, maxRecords: number, maxBytes: number, skipCorrupt: (seg: Segment, at: Cursor) => Cursor): BufferedRecord[] {
  let cur = from;
  const out: BufferedRecord[] = [];
  let bytes = 0;
  while (out.length < maxRecords && bytes < maxBytes) {
    const seg = segs.find(cur.seg)!;
    const avail = seg.bytes - cur.off;
    if (avail <= 0) break; // normalize() only leaves us at a segment's end in the last segment
    // Size the read to what is asked for (records are ~1 KiB); a bigger record is re-read whole.
    const want = Math.min(avail, Math.max(4096, Math.min(READ_CHUNK, (maxRecords - out.length) * 1024)));
    let buf = Buffer.allocUnsafe(want);
    let got = readFully(segs.readFd(seg), buf, want, cur.off);
    let at = 0;
    while (out.length < maxRecords && bytes < maxBytes) {
      const f = decodeFrame(buf, at, got);
      if (f.kind === 'ok') {
        const payload = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + f.length);
        at += HEADER_BYTES + f.length;
        bytes += f.length;
        cur = { seq: cur.seq + 1, seg: cur.seg, off: cur.off + HEADER_BYTES + f.length };
        out.push({ payload, next: cur });
        continue;
      }
      if (f.kind === 'partial' && at === 0 && f.need <= avail && f.need > got) {
        buf = Buffer.allocUnsafe(f.need); // one record larger than the chunk
        got = readFully(segs.readFd(seg), buf, f.need, cur.off);
        continue;
      }
      if (f.kind === 'partial' && at > 0) break; // next chunk
      cur = skipCorrupt(seg, cur);
      break;
    }
    cur = segs.normalize(cur);
  }
  return out;
}
