/**
 * A bounded, durable FIFO of opaque records on disk: the queue between the pipeline and a
 * broker that may be slow or away. Records are appended to segment files (layout in
 * disk-buffer-format.ts), read by a consumer that keeps its own cursor, and removed only when
 * the consumer acknowledges them (ack). Whole segments are deleted once acknowledged.
 *
 * Guarantees:
 * - Order: read() returns records in append order.
 * - Crash safety: append() writes to the file before it resolves, so a killed process (even
 *   kill -9) loses nothing appended; what power loss can lose depends on `fsync` (below).
 *   On open, segments are scanned: a torn tail is cut off, a corrupt record dropped (the
 *   records behind it are kept), each counted; a record found corrupt while running too.
 * - Bounds: the framed size of unacknowledged records never exceeds maxBytes; a record that
 *   does not fit is dropped by the overflow policy and counted. Disk use may exceed maxBytes by
 *   a segment (acknowledged records in one still written), more while no new file can be made.
 * - Acknowledgement persists lazily (position file, at most once a second and on close), so
 *   after a crash up to about a second of acknowledged records are read again: duplicates,
 *   never losses.
 *
 * fsync trade-off: `always` syncs before append() resolves (survives power loss, costs a disk
 * flush per batch); `interval` syncs every fsyncIntervalMs (power loss may lose that window);
 * `never` leaves it to the kernel's writeback (~30 s on Linux). A process crash loses nothing
 * under any policy: written data is in the kernel's page cache. Writing and syncing: disk-buffer-
 * writer.ts; segments and cursors: disk-buffer-segments.ts; decoding records: disk-buffer-reader.ts;
 * recovery: disk-buffer-recover.ts; here: bounds, overflow, acks.
 *
 * Not thread-safe and not for concurrent appends: one writer, one reader, one event loop.
 */
import * as fs from 'node:fs';
import { report } from '../events.js';
import { makeDirSync } from '../lib/make-dir.js';
import { HEADER_BYTES, MAX_RECORD_BYTES, writeHeader } from './disk-buffer-format.js';
import { lockDir, unlockDir, unusable, writePosition } from './disk-buffer-files.js';
import { readRecords } from './disk-buffer-reader.js';
import { InFlightDrops } from './disk-buffer-limbo.js';
import { recoverDir } from './disk-buffer-recover.js';
import { salvageAt } from './disk-buffer-salvage.js';
import { Segments, type Cursor, type Segment } from './disk-buffer-segments.js';
import type { BufferedRecord, DiskBufferOptions, DiskBufferStats, DropReason } from './disk-buffer-types.js';
import { SegmentWriter } from './disk-buffer-writer.js';

export type { Cursor } from './disk-buffer-segments.js';
export type { BufferedRecord, DiskBufferOptions, DiskBufferStats, DropReason, FsyncPolicy, OverflowPolicy } from './disk-buffer-types.js';

const POSITION_INTERVAL_MS = 1000;

export class DiskBuffer {
  /** Called after every append that stored at least one record (the consumer's wake-up). */
  onAppend: (() => void) | undefined;

  private readonly writer: SegmentWriter;
  private readonly segs: Segments;
  private head: Cursor = { seq: 0, seg: 0, off: 0 };
  private liveRecords = 0;
  private liveBytes = 0;
  private savedHead = -1;
  private positionTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** A write failed (disk full?) since the active segment began: see releaseDelivered. */
  private writeFailed = false;
  private readonly segmentBytes: number;
  private readonly dropped: Record<DropReason, number> = { overflow: 0, too_large: 0, io_error: 0, torn_tail: 0, corrupt: 0 };

  private constructor(private readonly opts: DiskBufferOptions) {
    this.segmentBytes = opts.segmentBytes ?? Math.min(16 << 20, Math.max(64 << 10, Math.floor(opts.maxBytes / 16)));
    this.writer = new SegmentWriter(opts.fsync, opts.dir, opts.telemetry, opts.fsyncIntervalMs);
    this.segs = new Segments(opts.dir, this.writer);
  }

  /** Opens (creating the directory if needed) and recovers. Throws StartupError if the directory is unusable or in use. */
  static async open(opts: DiskBufferOptions): Promise<DiskBuffer> {
    const b = new DiskBuffer(opts);
    try {
      makeDirSync(opts.dir, 0o700); // records hold addresses and server names (its files are 0600)
      fs.accessSync(opts.dir, fs.constants.W_OK | fs.constants.R_OK);
    } catch (err) {
      throw unusable(opts.dir, err);
    }
    lockDir(opts.dir);
    try {
      b.recover();
    } catch (err) {
      unlockDir(opts.dir);
      throw unusable(opts.dir, err);
    }
    b.positionTimer = setInterval(() => b.savePosition(), POSITION_INTERVAL_MS).unref();
    return b;
  }

  /** Cursor of the oldest unacknowledged record (where a consumer restarts after a reconnect). */
  get start(): Cursor {
    return this.head;
  }

  /** The consumer's records in flight, for drop-oldest's count (disk-buffer-limbo.ts): it says what it sent. */
  readonly inFlight = new InFlightDrops();

  /** The consumer took back what it had in flight (its connection closed): what drop-oldest dropped of it is lost. */
  takenBack(): void {
    const lost = this.inFlight.takenBack(this.head.seq);
    if (lost > 0) this.drop('overflow', lost, { in_flight: true });
  }

  /** Unacknowledged records. */
  get size(): number {
    return this.liveRecords;
  }

  stats(): DiskBufferStats {
    return { records: this.liveRecords, bytes: this.liveBytes, segments: this.segs.length, dropped: { ...this.dropped } };
  }

  /**
   * Stores records in order. Never throws: records that cannot be stored are dropped and
   * counted by reason (overflow per policy, too_large, io_error). Resolves once they are
   * written (and synced, with fsync: always).
   */
  async append(payloads: readonly Uint8Array[]): Promise<void> {
    if (this.closed) throw new Error('disk buffer is closed');
    const parts: Buffer[] = [];
    let pendingBytes = 0;
    const flush = (): void => {
      if (parts.length === 0) return;
      this.writeOut(parts, pendingBytes);
      parts.length = 0;
      pendingBytes = 0;
    };
    if (this.opts.overflow === 'drop-oldest') this.makeRoom(payloads);
    for (const p of payloads) {
      const frame = HEADER_BYTES + p.length;
      if (!this.storable(p)) {
        this.drop('too_large', 1, { bytes: p.length });
        continue;
      }
      if (this.liveBytes + pendingBytes + frame > this.opts.maxBytes) {
        if (this.opts.overflow === 'drop-newest') {
          this.drop('overflow', 1);
          continue;
        }
        flush();
        this.dropOldest(this.liveBytes + frame - this.opts.maxBytes);
      }
      const active = this.segs.active();
      if (active.bytes + pendingBytes > 0 && active.bytes + pendingBytes + frame > this.segmentBytes) {
        flush();
        // When the next segment file cannot be made, the current one takes this record (past its
        // size; drop-oldest cannot free it while it is the last) and the next record tries again.
        this.writer.attempt(() => this.segs.roll());
      }
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      writeHeader(header, 0, p);
      parts.push(header, Buffer.from(p.buffer, p.byteOffset, p.length));
      pendingBytes += frame;
    }
    flush();
    await this.writer.syncIfAlways();
    if (this.liveRecords > 0) this.onAppend?.();
  }

  /**
   * Up to maxRecords records (and about maxBytes of payload, at least one record) from
   * `from` on; a cursor before the start (records dropped meanwhile) reads from the start.
   */
  read(from: Cursor, maxRecords: number, maxBytes = Infinity): BufferedRecord[] {
    const start = this.segs.normalize(from.seq < this.head.seq || !this.segs.find(from.seg) ? this.head : from);
    return readRecords(this.segs, start, maxRecords, maxBytes, (seg, at) => this.skipCorrupt(seg, at));
  }

  /** Everything before `to` was delivered: forget it. Cursors at or before the start are ignored. */
  ack(to: Cursor): void {
    this.inFlight.acknowledged(to.seq);
    if (to.seq <= this.head.seq || !this.segs.find(to.seg)) return;
    this.advanceHead(to);
  }

  /** Stops timers, syncs (unless fsync: never), saves the position and releases the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.positionTimer);
    this.takenBack(); // never acknowledged now
    await this.writer.close();
    this.savePosition();
    this.segs.closeReaders();
    unlockDir(this.opts.dir);
  }

  // ---- recovery ----

  private recover(): void {
    const r = recoverDir(this.opts.dir, this.opts.telemetry);
    for (const t of r.torn) {
      // Records found after the damage mean it was not a crash's torn tail, but a corrupt record.
      const reason = t.last && t.salvaged === 0 ? 'torn_tail' : 'corrupt';
      this.drop(reason, t.records, { file: t.file, ...(t.missing ? { missing_file: true } : { cut_bytes: t.cutBytes }), ...(t.salvaged > 0 ? { records_kept_after: t.salvaged } : {}) }, 'warn');
    }
    for (const s of r.segments) this.segs.adopt(s);
    const last = this.segs.list[this.segs.length - 1];
    const end = last ? last.base + last.count : 0;
    if (!last || r.acked > end || (r.acked === end && last.bytes > 0)) {
      // No segment, or the position is past what survived (power loss): start a new segment
      // so new sequence numbers never fall at or before the saved position. Also when all was
      // acknowledged: the delivered one is deleted, not appended to (found by review: a disk
      // that had filled up never got that space back, and every record was dropped).
      this.segs.create(Math.max(end, r.acked, 0));
    } else {
      this.writer.reopen(last.file);
    }
    this.head = this.segs.firstUnacked(r.acked, r.ackedAt);
    const all = this.segs.between(this.head, this.segs.tail());
    this.liveRecords = all.records;
    this.liveBytes = all.bytes;
    this.savedHead = this.head.seq;
  }

  // ---- writing ----

  private writeOut(parts: Buffer[], bytes: number): void {
    const seg = this.segs.active();
    const w = this.writer.writeRecords(parts, bytes, seg.bytes);
    seg.bytes += w.bytes;
    seg.count += w.records;
    this.liveBytes += w.bytes;
    this.liveRecords += w.records;
    if (w.err === undefined) return;
    // Disk full or failing: the records that did not fit are lost, counted.
    if (w.records < parts.length / 2) {
      this.drop('io_error', parts.length / 2 - w.records, { error: w.err.message, dir: this.opts.dir, fix: 'free space on the disk of publish.buffer.dir, or lower publish.buffer.max_size to what it holds' }, 'error');
    }
    this.writeFailed = true;
    this.releaseDelivered();
  }

  // ---- consuming ----

  private advanceHead(to: Cursor): void {
    const d = this.segs.between(this.head, to);
    this.liveRecords -= d.records;
    this.liveBytes -= d.bytes;
    this.segs.removeBefore(to);
    this.head = this.segs.normalize(to, true);
    if (this.writeFailed) this.releaseDelivered();
  }

  /**
   * After a failed write (disk full): delivered records at the start of the active segment hold
   * their space until the segment ends, which it never does while every write fails. End it, so
   * that the space comes back once the rest of it is acknowledged (at once when it all was).
   */
  private releaseDelivered(): void {
    const active = this.segs.active();
    if (this.head.seg !== active.base || this.head.off === 0) return;
    if (!this.writer.attempt(() => this.segs.roll())) return;
    this.writeFailed = false;
    this.head = this.segs.normalize(this.head, true);
  }

  /**
   * drop-oldest: room for one append's records, made before they are written (found by review: made
   * record by record, a full buffer wrote each alone and read 256 records, each checksummed, to drop
   * one: 300 µs of the main thread a record, and live capture lost packets). The same records fit.
   */
  private makeRoom(payloads: readonly Uint8Array[]): void {
    let bytes = 0;
    for (const p of payloads) if (this.storable(p)) bytes += HEADER_BYTES + p.length;
    const need = this.liveBytes + Math.min(bytes, this.opts.maxBytes) - this.opts.maxBytes;
    if (need > 0) this.dropOldest(need);
  }

  /** Whether a record can be stored at all (append drops the others as too_large). */
  private storable(p: Uint8Array): boolean {
    return p.length > 0 && p.length <= MAX_RECORD_BYTES && HEADER_BYTES + p.length <= this.opts.maxBytes;
  }

  /** Drops the oldest records until `need` bytes are free, reading about as many as that takes. */
  private dropOldest(need: number): void {
    let freed = 0;
    let n = 0;
    while (freed < need && this.liveRecords > 0) {
      const perRecord = this.liveBytes / this.liveRecords;
      const recs = this.read(this.head, Math.min(256, 1 + Math.ceil((need - freed) / perRecord)));
      if (recs.length === 0) break;
      let last: Cursor = this.head;
      for (const r of recs) {
        freed += HEADER_BYTES + r.payload.length;
        // A record in flight is counted once its fate is known (disk-buffer-limbo.ts).
        if (this.inFlight.inFlight(r.next.seq - 1)) this.inFlight.hold(r.next.seq - 1);
        else n++;
        last = r.next;
        if (freed >= need) break;
      }
      this.advanceHead(last);
    }
    if (n > 0) this.drop('overflow', n);
  }

  /** A record failed its checksum after recovery (disk corruption): drop it, keep what is behind it (disk-buffer-salvage.ts). */
  private skipCorrupt(seg: Segment, at: Cursor): Cursor {
    const s = salvageAt(this.segs, this.writer, seg, at);
    this.liveRecords -= s.lost;
    this.liveBytes -= s.lostBytes;
    this.drop('corrupt', s.lost, { file: seg.file, offset: at.off, ...(s.kept > 0 ? { records_kept_after: s.kept } : {}) }, 'error');
    return this.segs.normalize(at);
  }

  private savePosition(): void {
    if (this.head.seq === this.savedHead) return;
    // Saved only once written: a failed save (disk full) is tried again, at the latest by close(),
    // or a restart resent everything since the last good one (found by review).
    if (this.writer.attempt(() => writePosition(this.opts.dir, this.head.seq))) this.savedHead = this.head.seq;
  }

  private drop(reason: DropReason, n: number, detail?: Record<string, unknown>, level: 'warn' | 'error' = 'warn'): void {
    this.dropped[reason] += n;
    report(this.opts.telemetry, 'publish', `buffer_dropped_${reason}`, { records: n, ...detail }, level);
  }
}
