/** Test records shaped like the real schema; `seq` tells order and loss. */
import type { PublishRecord } from '../../../agent/publish/types.js';

export function record(seq: number, sensor = 'test', padTo = 0): PublishRecord {
  const r = {
    v: 1, sensor,
    flow: { seq, src: '10.0.0.1', dst: '10.0.0.2', sport: 40000 + (seq % 20000), dport: 443, proto: 6, end: 'idle' },
    tls: { sni: 'example.org', ja3: 'e7d705a3286e19ea42f587b344ee6865' },
    app: { label: 'web', p: 0.93 }, attribution: { usage: 'browsing', p: 0.81 },
    pad: '',
  };
  const len = JSON.stringify(r).length;
  if (padTo > len) r.pad = 'x'.repeat(padTo - len);
  return r;
}

export function records(from: number, count: number, sensor = 'test', padTo = 0): PublishRecord[] {
  return Array.from({ length: count }, (_, i) => record(from + i, sensor, padTo));
}

/** The seq of every record in a flows message (one record or a JSON array of them). */
export function seqsOf(payload: Buffer | string): number[] {
  const v = JSON.parse(payload.toString()) as unknown;
  const list = Array.isArray(v) ? v : [v];
  return list.map((r) => (r as { flow: { seq: number } }).flow.seq);
}

/** Missing seqs in [0, n) and whether the first occurrences are in increasing order. */
export function audit(seqs: readonly number[], n: number): { missing: number[]; duplicates: number; firstSeenInOrder: boolean } {
  const seen = new Set<number>();
  let duplicates = 0;
  let lastNew = -1;
  let inOrder = true;
  for (const s of seqs) {
    if (seen.has(s)) { duplicates++; continue; }
    seen.add(s);
    if (s < lastNew) inOrder = false;
    lastNew = s;
  }
  const missing: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) missing.push(i);
  return { missing, duplicates, firstSeenInOrder: inOrder };
}
