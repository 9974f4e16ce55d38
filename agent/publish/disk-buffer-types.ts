/** The disk buffer's options, records and statistics (disk-buffer.ts). */
import type { Telemetry } from '../events.js';
import type { Cursor } from './disk-buffer-segments.js';

export type OverflowPolicy = 'drop-oldest' | 'drop-newest';
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface DiskBufferOptions {
  readonly dir: string;
  /** Upper bound on the framed bytes (8 + payload each) of unacknowledged records. */
  readonly maxBytes: number;
  readonly overflow: OverflowPolicy;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  /** Segment size; defaults to maxBytes/16 clamped to [64 KiB, 16 MiB]. */
  readonly segmentBytes?: number;
  readonly telemetry: Telemetry;
}

export interface BufferedRecord {
  readonly payload: Buffer;
  /** Cursor just after this record: pass it to ack() once the record is delivered. */
  readonly next: Cursor;
}

export type DropReason = 'overflow' | 'too_large' | 'io_error' | 'torn_tail' | 'corrupt';

export interface DiskBufferStats {
  readonly records: number;
  readonly bytes: number;
  readonly segments: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
}
