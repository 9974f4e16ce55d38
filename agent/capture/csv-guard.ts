/**
 * Keeps CSV records over a size bound away from csv-parse, whose recovery from its own
 * max_record_size error does not hold: after it, the parser read the rest of the huge cell as
 * new records, reported one bad row 16 times, and lost the good rows behind it (a 2 MB cell
 * in row 3 of 7: 2 published; found by review). Here each record is passed on whole once its
 * end is seen, and one longer than the bound is replaced by a marker record, which
 * readCsvRows reports as one bad row at its line.
 *
 * A quote opened and never closed (a stray `"` at a cell's start) makes the rest of the input one
 * record. csv-parse then reported one bad row at the file's last line, and a replay published
 * the rows before it only (4 of 700, exit 0; found by review). So at the input's end such a
 * record's first line becomes a marker record (UNCLOSED_MARK), and the lines after it are read
 * again as records. When it passed the size bound first, its bytes are gone: its marker spans
 * every line it took, for the reader to count them all as lost.
 *
 * Why by hand: a byte loop over the quoting rule, the one thing this needs, is cheaper than a
 * second parser. A double quote toggles "inside a quoted cell" (an escaped one, "", toggles
 * twice); a line feed outside one ends the record.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const LF = 0x0a;

/** The first cell of a marker record: for a record over the size bound, and for one whose quote never closed. */
export const OVERSIZE_MARK = '\u0000eta-sensor: record over the size bound';
export const UNCLOSED_MARK = '\u0000eta-sensor: quote never closed';

/** A marker record spanning as many lines as the record it replaces, so later line numbers stay right. */
function marker(mark: string, breaks: number): Buffer {
  return Buffer.from(`"${mark}${'\n'.repeat(breaks)}"\n`);
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
  /** Whether the input so far ends with a line feed. */
  private endsLine = false;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.scan(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    // A quote still open at the end, in a record held whole: its first line is the bad row, the rest is read again.
    while (this.inQuotes && !this.skipping && this.breaks > 0) {
      const record = Buffer.concat(this.held);
      this.push(marker(UNCLOSED_MARK, 0));
      this.inQuotes = false;
      this.held = [];
      this.heldLen = 0;
      this.breaks = 0;
      this.scan(record.subarray(record.indexOf(LF) + 1));
    }
    // Unclosed, its last line feed (the input's last byte) ends its last line: the marker adds its own.
    if (this.skipping) this.push(this.inQuotes ? marker(UNCLOSED_MARK, this.breaks - (this.endsLine ? 1 : 0)) : marker(OVERSIZE_MARK, this.breaks));
    else if (this.heldLen > 0) this.push(Buffer.concat(this.held));
    done();
  }

  private scan(chunk: Buffer): void {
    if (chunk.length > 0) this.endsLine = chunk[chunk.length - 1] === LF;
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
            this.push(marker(OVERSIZE_MARK, this.breaks));
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
  }
}
