/** Disk buffer test records that name their number: 100 bytes of payload by default, 108 framed. */
import type { Cursor, DiskBuffer } from '../../../agent/publish/disk-buffer.js';

export const payload = (i: number, size = 100): Buffer => {
  const head = `{"seq":${i},"pad":"`;
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - 2)) + '"}');
};

export const seqOf = (b: Buffer): number => (JSON.parse(b.toString()) as { seq: number }).seq;

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** The numbers of every record from `from` on, read `batch` at a time, and the cursor after the last. */
export async function readAll(b: DiskBuffer, from: Cursor = b.start, batch = 97): Promise<{ seqs: number[]; end: Cursor }> {
  const seqs: number[] = [];
  let cur = from;
  for (;;) {
    const recs = b.read(cur, batch);
    if (recs.length === 0) return { seqs, end: cur };
    for (const r of recs) seqs.push(seqOf(r.payload));
    cur = recs[recs.length - 1]!.next;
  }
}
