/**
 * The disk buffer's segment files in order, oldest first, and the cursor arithmetic over
 * them: where a cursor at a segment's end continues, how many records and bytes lie between
 * two cursors, and which files to delete once a cursor has passed them. No policy lives here
 * (bounds, overflow, acknowledgement are disk-buffer.ts's); only the list and its files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openInBuffer, writeInBuffer } from './disk-buffer-files.js';
import { segmentName } from './disk-buffer-format.js';
import type { SegmentWriter } from './disk-buffer-writer.js';

/** A position in the buffer: `seq` is the record's sequence number, `seg`/`off` where it starts. */
export interface Cursor {
  readonly seq: number;
  readonly seg: number;
  readonly off: number;
}

export interface Segment {
  /** Sequence number of its first record; also its file name. */
  readonly base: number;
  readonly file: string;
  count: number;
  bytes: number;
  /** Read descriptor, opened on first read. */
  rfd: number | null;
}

export class Segments {
  readonly list: Segment[] = [];

  constructor(private readonly dir: string, private readonly writer: SegmentWriter) {}

  get length(): number {
    return this.list.length;
  }

  /** The segment being appended to (there is always one after recovery). */
  active(): Segment {
    return this.list[this.list.length - 1]!;
  }

  /** The cursor just after the last record. */
  tail(): Cursor {
    const a = this.active();
    return { seq: a.base + a.count, seg: a.base, off: a.bytes };
  }

  find(base: number): Segment | undefined {
    // Few segments (maxBytes / segmentBytes ~ 16), so a scan from the front is cheap.
    for (const s of this.list) if (s.base === base) return s;
    return undefined;
  }

  /** Adds a segment found on disk by recovery. */
  adopt(s: Omit<Segment, 'rfd'>): void {
    this.list.push({ ...s, rfd: null });
  }

  /** Starts a new file for records from `base` on (at recovery). */
  create(base: number): void {
    const file = path.join(this.dir, segmentName(base));
    this.writer.create(file);
    this.list.push({ base, file, count: 0, bytes: 0, rfd: null });
  }

  /** Ends the active segment and continues in a new one; throws, changing nothing, when its file cannot be made (SegmentWriter.roll). */
  roll(): void {
    const a = this.active();
    const base = a.base + a.count;
    const file = path.join(this.dir, segmentName(base));
    this.writer.roll(file);
    this.list.push({ base, file, count: 0, bytes: 0, rfd: null });
  }

  /** A segment after `seg`, its file written from `data` (disk-buffer-salvage.ts); throws, changing nothing, when it cannot be. */
  addAfter(seg: Segment, base: number, count: number, data: Buffer): void {
    const file = path.join(this.dir, segmentName(base));
    writeInBuffer(file, data);
    this.list.splice(this.list.indexOf(seg) + 1, 0, { base, file, count, bytes: data.length, rfd: null });
  }

  readFd(seg: Segment): number {
    seg.rfd ??= openInBuffer(seg.file, 'r');
    return seg.rfd;
  }

  closeReaders(): void {
    for (const s of this.list) closeReader(s);
  }

  /** Forgets a segment and deletes its file (in the background). */
  remove(seg: Segment): void {
    closeReader(seg);
    this.list.splice(this.list.indexOf(seg), 1);
    this.writer.removeLater(seg.file);
  }

  /** Removes the segments wholly before `c` (never the active one). */
  removeBefore(c: Cursor): void {
    while (this.list.length > 1 && this.list[0]!.base < c.seg) this.remove(this.list[0]!);
  }

  /** Moves a cursor sitting at the end of a finished segment to the start of the next (deleting the finished one if asked). */
  normalize(c: Cursor, deleting = false): Cursor {
    let cur = c;
    for (;;) {
      const i = this.list.findIndex((s) => s.base === cur.seg);
      const seg = this.list[i]!;
      if (i === this.list.length - 1 || cur.off < seg.bytes) return cur;
      const next = this.list[i + 1]!;
      if (deleting) this.remove(seg);
      cur = { seq: next.base, seg: next.base, off: 0 };
    }
  }

  /**
   * After recovery: the cursor of the first record not acknowledged (the saved position `acked`,
   * at `ackedAt` when that falls inside a segment), the segments before it removed.
   */
  firstUnacked(acked: number, ackedAt: { readonly seg: number; readonly off: number } | undefined): Cursor {
    const first = this.list.find((s) => s.base + s.count > acked && s.count > 0);
    const active = this.active();
    const head = ackedAt ? { seq: acked, ...ackedAt }
      : first ? { seq: first.base, seg: first.base, off: 0 }
      : { seq: active.base + active.count, seg: active.base, off: active.bytes };
    this.removeBefore(head);
    return this.normalize(head, true);
  }

  /** Records and bytes from cursor `a` up to `b` (b at or after a). */
  between(a: Cursor, b: Cursor): { records: number; bytes: number } {
    let records = 0;
    let bytes = 0;
    let i = this.list.findIndex((s) => s.base === a.seg);
    for (; i >= 0 && i < this.list.length; i++) {
      const s = this.list[i]!;
      const from = s.base === a.seg ? a : { seq: s.base, off: 0 };
      const until = s.base === b.seg ? b : { seq: s.base + s.count, off: s.bytes };
      records += until.seq - from.seq;
      bytes += until.off - from.off;
      if (s.base === b.seg) break;
    }
    return { records, bytes };
  }
}

function closeReader(seg: Segment): void {
  if (seg.rfd !== null) fs.closeSync(seg.rfd);
  seg.rfd = null;
}
