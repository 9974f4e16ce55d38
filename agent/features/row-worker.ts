/**
 * The row-writer thread of `extract`: formats flow records as CSV or JSON
 * lines and writes them to the output file descriptor. Formatting ~200
 * numbers per flow costs about as much as assembling the flows, so it runs
 * beside the flow meter on the second core instead of after it.
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { AsciiBuffer } from '../lib/ascii-buffer.js';
import { detachEarly } from '../lib/detach-early.js';
import { describeError } from '../errors.js';
import { csvRow, jsonLine, rowFormat } from './format.js';
import { scratchRecord } from './record.js';
import { unpack, type RowBatch } from './row-batch.js';

detachEarly(); // every batch's numbers go back transferred (lib/detach-early.ts)

export type ToWriter =
  | { kind: 'start'; fd: number; format: 'csv' | 'jsonl'; header: string }
  | { kind: 'rows'; batch: RowBatch }
  | { kind: 'end' };

export type FromWriter = { kind: 'done'; rows: number; nums: Float64Array } | { kind: 'ended' } | { kind: 'error'; message: string; code?: string };

let fd = 1;
let format: 'csv' | 'jsonl' = 'csv';
const out = new AsciiBuffer(1 << 18);
const rec = scratchRecord();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `data`, waiting out a full pipe (EAGAIN): stdout may be non-blocking. */
function writeAll(data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleeper, 0, 0, 2);
    }
  }
}

function flush(): void {
  if (out.pos > 0) writeAll(out.take());
}

parentPort!.on('message', (m: ToWriter) => {
  try {
    if (m.kind === 'start') {
      fd = m.fd;
      format = m.format;
      // Now, not at the first row: a missing build stops the run as it starts.
      if (format === 'csv') rowFormat();
      out.str(m.header);
    } else if (m.kind === 'rows') {
      const b = m.batch;
      for (let i = 0; i < b.n; i++) {
        const r = unpack(b, i, rec);
        if (format === 'csv') csvRow(out, r);
        else out.str(jsonLine(r));
        if (out.pos > 1 << 17) flush();
      }
      flush();
      // The numbers go back to be filled again (see row-writer.ts).
      parentPort!.postMessage({ kind: 'done', rows: b.n, nums: b.nums } satisfies FromWriter, [b.nums.buffer as ArrayBuffer]);
    } else {
      flush();
      parentPort!.postMessage({ kind: 'ended' } satisfies FromWriter);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // describeError: a StartupError's fix goes along (only the message crosses the thread).
    parentPort!.postMessage({ kind: 'error', message: describeError(e), ...(code ? { code } : {}) } satisfies FromWriter);
  }
});
