/**
 * Recovery on open: find the segments, drop those wholly acknowledged before the last run
 * ended, verify every remaining record and cut a torn or corrupt tail (counted), and find
 * where the consumer stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { report, type Telemetry } from '../events.js';
import { parseSegmentName, segmentName } from './disk-buffer-format.js';
import { readPosition, scanSegment } from './disk-buffer-files.js';

export interface RecoveredSegment {
  readonly base: number;
  readonly file: string;
  readonly count: number;
  readonly bytes: number;
}

export interface Recovered {
  /** Surviving segments in order (possibly none). */
  readonly segments: RecoveredSegment[];
  /** First unacknowledged sequence number per the position file; -1 if none. */
  readonly acked: number;
  /** Byte offset of `acked` within its segment, when it falls inside one. */
  readonly ackedAt: { readonly seg: number; readonly off: number } | undefined;
  /**
   * Tails cut, with the records lost in them: exact for a segment followed by another (its next
   * base says how many it held; those already acknowledged are not lost), 1 for the last one,
   * whose torn tail is the record a crash interrupted.
   */
  readonly torn: ReadonlyArray<{ readonly file: string; readonly cutBytes: number; readonly last: boolean; readonly records: number }>;
}

export function recoverDir(dir: string, telemetry: Telemetry): Recovered {
  const bases = fs.readdirSync(dir).map(parseSegmentName).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
  const pos = readPosition(dir);
  if (pos === 'corrupt') report(telemetry, 'publish', 'buffer_position_corrupt', { dir, effect: 'unacknowledged records are resent from the oldest segment' });
  const acked = typeof pos === 'number' ? pos : -1;
  const segments: RecoveredSegment[] = [];
  const torn: Array<{ file: string; cutBytes: number; last: boolean; records: number }> = [];
  let ackedAt: { seg: number; off: number } | undefined;
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!;
    const file = path.join(dir, segmentName(base));
    const last = i === bases.length - 1;
    if (!last && bases[i + 1]! <= acked) {
      fs.rmSync(file, { force: true }); // wholly acknowledged before the process ended
      continue;
    }
    const scan = scanSegment(file, acked >= base ? acked - base : undefined);
    if (scan.validBytes < scan.fileBytes) {
      // Found by review: a corrupt record early in a segment cut dozens, counted as 1.
      const records = last ? 1 : Math.max(0, bases[i + 1]! - Math.max(base + scan.count, acked));
      torn.push({ file, cutBytes: scan.fileBytes - scan.validBytes, last, records });
      fs.truncateSync(file, scan.validBytes);
    }
    if (scan.count === 0 && !last) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (scan.targetOffset !== undefined && acked < base + scan.count) ackedAt = { seg: base, off: scan.targetOffset };
    segments.push({ base, file, count: scan.count, bytes: scan.validBytes });
  }
  return { segments, acked, ackedAt, torn };
}
