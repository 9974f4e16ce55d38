/**
 * Recovery on open: find the segments, drop those wholly acknowledged before the last run
 * ended, verify every remaining record and cut a torn or corrupt tail (counted), and find
 * where the consumer stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { report, type Telemetry } from '../events.js';
import { decodeFrame, HEADER_BYTES, parseSegmentName, segmentName } from './disk-buffer-format.js';
import { checkBufferFiles, cutInBuffer, readGaps, readInBuffer, readPosition, scanSegment, writeGaps, writeInBuffer, writePosition } from './disk-buffer-files.js';

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
   * corrupt one, kept (in the last segment after its good records, in another in a segment's own file).
   */
  readonly torn: ReadonlyArray<Torn>;
}

/** `missing`: no file held them, where the numbers of two segments leave a gap not cut by damage (readGaps). */
export interface Torn { readonly file: string; readonly cutBytes: number; readonly last: boolean; readonly records: number; readonly salvaged: number; readonly missing?: boolean }

/**
 * The whole records (their framed bytes) in buf after a corrupt one: each offset is tried, and a
 * frame is taken only when its checksum, which covers its length, matches (a random match: one
 * chance in 2^32 per offset). Why: one flipped byte in a segment cut every record after
 * it, and the log said 1 record (found by review: 81 of 100 lost).
 */
export function salvageFrames(buf: Buffer): Buffer[] {
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
  checkBufferFiles(dir, (name) => parseSegmentName(name) !== undefined || /^(position|gaps)(\.tmp)?$/.test(name));
  const bases = fs.readdirSync(dir).map(parseSegmentName).filter((b): b is number => b !== undefined).sort((a, b) => a - b);
  const pos = readPosition(dir);
  if (pos === 'corrupt') report(telemetry, 'publish', 'buffer_position_corrupt', { dir, effect: 'unacknowledged records are resent from the oldest segment' });
  let acked = typeof pos === 'number' ? pos : -1;
  const segments: RecoveredSegment[] = [];
  const torn: Torn[] = [];
  const known = readGaps(dir);
  const gaps: Array<[number, number]> = [];
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
    const damaged = validBytes < scan.fileBytes;
    let behind: RecoveredSegment | undefined;
    if (damaged) {
      const found = salvageFrames(readInBuffer(file).subarray(validBytes));
      const kept = found.reduce((n, f) => n + f.length, 0);
      // The records behind the damage are numbered back from the next segment's base, which says
      // where this segment's numbers end; in the last segment they follow the good records.
      const keptFrom = last ? base + count : bases[i + 1]! - found.length;
      const usable = found.length > 0 && keptFrom >= base + count; // more found than it held: a false match, keep none
      const salvaged = usable ? found.length : 0;
      // Found by review: a corrupt record early in a segment cut dozens, counted as 1.
      const records = last ? 1 : Math.max(0, (usable ? keptFrom : bases[i + 1]!) - Math.max(base + count, acked));
      torn.push({ file, cutBytes: scan.fileBytes - validBytes - (usable ? kept : 0), last, records, salvaged });
      // Which of them were acknowledged is not known (numbered anew, and a second damage would
      // shift their numbers), so none is: sent again, never lost. Saved before the files change,
      // or the next start would read the old position against the new numbers.
      if (usable && acked > keptFrom) {
        acked = keptFrom;
        writePosition(dir, acked);
      }
      cutInBuffer(file, validBytes);
      if (usable) {
        if (keptFrom === base + count) {
          writeInBuffer(file, Buffer.concat(found), 'a');
          count += found.length;
          validBytes += kept;
        } else {
          // A segment of their own, its name their first number: the lost records leave a gap in
          // the numbers between the two files, which the cursors step over (Segments.normalize).
          const own = path.join(dir, segmentName(keptFrom));
          writeInBuffer(own, Buffer.concat(found));
          behind = { base: keptFrom, file: own, count: found.length, bytes: kept };
        }
      }
    }
    if (count === 0 && !last) {
      fs.rmSync(file, { force: true });
    } else {
      const target = acked === base + scan.count && count > scan.count ? scan.validBytes : scan.targetOffset;
      if (target !== undefined && acked < base + count) ackedAt = { seg: base, off: target };
      segments.push({ base, file, count, bytes: validBytes });
    }
    if (behind) segments.push(behind);
    // The numbers between this segment's end and the next: cut with damage (counted above), known, or a file gone.
    const end = base + count;
    const next = last ? end : behind ? behind.base : bases[i + 1]!;
    if (end < next) {
      gaps.push([end, next]);
      const lost = next - Math.max(end, acked);
      if (!damaged && !known.some(([from, to]) => from <= end && to >= next) && lost > 0) {
        torn.push({ file: path.join(dir, segmentName(end)), cutBytes: 0, last: false, records: lost, salvaged: 0, missing: true });
      }
    }
  }
  if (JSON.stringify(gaps) !== JSON.stringify(known)) writeGaps(dir, gaps);
  return { segments, acked, ackedAt, torn };
}
