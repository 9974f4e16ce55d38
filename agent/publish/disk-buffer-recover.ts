/**
 * Recovery on open: find the segments, drop those wholly acknowledged before the last run
 * ended, verify every remaining record and cut a torn or corrupt tail (counted), and find
 * where the consumer stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { report, type Telemetry } from '../events.js';
import { decodeFrame, HEADER_BYTES, parseSegmentName, segmentName } from './disk-buffer-format.js';
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
  /** First unacknowledged sequence number per the position file (or before salvaged records); -1 if none. */
  readonly acked: number;
  /** Byte offset of `acked` within its segment, when it falls inside one. */
  readonly ackedAt: { readonly seg: number; readonly off: number } | undefined;
  /**
   * Tails cut, with the records lost in them: exact for a segment followed by another (its next
   * base says how many it held; those already acknowledged are not lost), 1 for the last one,
   * whose torn tail is the record a crash interrupted. `salvaged`: whole records found after a
   * corrupt one in the last segment, kept.
   */
  readonly torn: ReadonlyArray<{ readonly file: string; readonly cutBytes: number; readonly last: boolean; readonly records: number; readonly salvaged: number }>;
}

/**
 * The whole records (their framed bytes) in buf after a corrupt one: each offset is tried, and a
 * frame is taken only when its checksum, which covers its length, matches (a random match: one
 * chance in 2^32 per offset). Why: one flipped byte in the newest segment cut every record after
 * it, and the log said 1 record (found by review: 81 of 100 lost).
 */
function salvage(buf: Buffer): Buffer[] {
  const found: Buffer[] = [];
  let at = 1; // the corrupt record starts at 0
  while (at + HEADER_BYTES <= buf.length) {
    const f = decodeFrame(buf, at, buf.length);
    if (f.kind !== 'ok') {
      at++;
      continue;
    }
    found.push(buf.subarray(at, at + HEADER_BYTES + f.length));
    at += HEADER_BYTES + f.length;
  }
  return found;
}

export function recoverDir(dir: string, telemetry: Telemetry): Recovered {
  const bases = fs.readdirSync(dir).map(parseSegmentName).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
  const pos = readPosition(dir);
  if (pos === 'corrupt') report(telemetry, 'publish', 'buffer_position_corrupt', { dir, effect: 'unacknowledged records are resent from the oldest segment' });
  let acked = typeof pos === 'number' ? pos : -1;
  const segments: RecoveredSegment[] = [];
  const torn: Array<{ file: string; cutBytes: number; last: boolean; records: number; salvaged: number }> = [];
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
    let { count, validBytes } = scan;
    if (validBytes < scan.fileBytes) {
      // Found by review: a corrupt record early in a segment cut dozens, counted as 1.
      const records = last ? 1 : Math.max(0, bases[i + 1]! - Math.max(base + count, acked));
      // Only the last segment takes records back: the next segment's base fixes the numbering of the others.
      const found = last ? salvage(fs.readFileSync(file).subarray(validBytes)) : [];
      const kept = found.reduce((n, f) => n + f.length, 0);
      torn.push({ file, cutBytes: scan.fileBytes - validBytes - kept, last, records, salvaged: found.length });
      fs.truncateSync(file, validBytes);
      if (found.length > 0) {
        fs.appendFileSync(file, Buffer.concat(found));
        // Numbered anew after the last good record: which of them were acknowledged is not known,
        // so none is (sent again, never lost).
        if (acked > base + count) acked = base + count;
        count += found.length;
        validBytes += kept;
      }
    }
    if (count === 0 && !last) {
      fs.rmSync(file, { force: true });
      continue;
    }
    const target = acked === base + scan.count && count > scan.count ? scan.validBytes : scan.targetOffset;
    if (target !== undefined && acked < base + count) ackedAt = { seg: base, off: target };
    segments.push({ base, file, count, bytes: validBytes });
  }
  return { segments, acked, ackedAt, torn };
}
