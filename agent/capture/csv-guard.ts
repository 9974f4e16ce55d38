/**
 * Keeps CSV records over a size bound away from csv-parse, whose recovery from its own
 * max_record_size error does not hold: after it, the parser read the rest of the huge cell as
 * new records, reported one bad row 16 times, and lost the good rows behind it (a 2 MB cell
 * in row 3 of 7: 2 published; found by review). Here each record is passed on whole once its
 * end is seen, and one longer than the bound is replaced by a marker record, which
 * readCsvRows reports as one bad row at its line.
 *
 * Why by hand: a byte loop over the quoting rule, the one thing this needs, is cheaper than a
 * second parser. A double quote toggles "inside a quoted cell" (an escaped one, "", toggles
 * twice); a line feed outside one ends the record.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;

/** The first cell of a marker record. */
export const OVERSIZE_MARK = '\u0000eta-sensor: record over the size bound';

/** A marker record spanning as many lines as the record it replaces, so later line numbers stay right. */
function marker(breaks: number): Buffer {
  return Buffer.from(`"${OVERSIZE_MARK}${'\n'.repeat(breaks)}"\n`);
}

export class CsvRecordGuard extends Transform {
  private inQuotes = false;
  /** The current record's bytes from earlier chunks, not passed on yet. */
  private held: Buffer[] = [];
  private heldLen = 0;
  /** Inside a record over the bound: dropped until its end. */
  private skipping = false;
  /** Line feeds inside the current record's quoted cells. */
  private breaks = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let from = 0; // the chunk's bytes from here on are not passed on yet
    let recStart = 0; // where the current record starts in the chunk (0: in an earlier chunk)
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === QUOTE) {
        this.inQuotes = !this.inQuotes;
      } else if (b === LF) {
        if (this.inQuotes) {
          this.breaks++;
        } else {
          if (this.skipping) {
            this.push(marker(this.breaks));
            this.skipping = false;
            from = i + 1;
          } else if (this.heldLen > 0) {
            this.push(Buffer.concat([...this.held, chunk.subarray(from, i + 1)]));
            this.held = [];
            this.heldLen = 0;
            from = i + 1;
          }
          this.breaks = 0;
          recStart = i + 1;
          continue;
        }
      }
      if (!this.skipping && this.heldLen + (i + 1 - recStart) > this.limit) {
        if (recStart > from) this.push(chunk.subarray(from, recStart));
        from = recStart;
        this.held = [];
        this.heldLen = 0;
        this.skipping = true;
      }
    }
    if (!this.skipping) {
      if (recStart > from) this.push(chunk.subarray(from, recStart));
      if (recStart < chunk.length) {
        this.held.push(chunk.subarray(recStart));
        this.heldLen += chunk.length - recStart;
      }
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.skipping) this.push(marker(this.breaks));
    else if (this.heldLen > 0) this.push(Buffer.concat(this.held));
    done();
  }
}
