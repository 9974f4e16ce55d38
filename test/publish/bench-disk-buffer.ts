/**
 * Disk buffer throughput (not a test: run `node dist/test/publish/bench-disk-buffer.js`).
 * Appends flow-sized JSON records (~420 bytes) in pipeline-sized batches under each fsync
 * policy, then drains them the way the MQTT pump does (read a window, ack). The target is
 * >= 50k records/s appended. Belongs under bench/ once that folder takes stage benchmarks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTelemetry } from '../../agent/events.js';
import { DiskBuffer, type FsyncPolicy } from '../../agent/publish/disk-buffer.js';
import { encodeRecords } from '../../agent/publish/serialize.js';
import { records } from './helpers/records.js';

const N = Number(process.env['BENCH_RECORDS'] ?? 200_000);

async function run(fsync: FsyncPolicy, batch: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eta-bench-'));
  const t = createTelemetry();
  const b = await DiskBuffer.open({ dir, maxBytes: 512 << 20, overflow: 'drop-oldest', fsync, fsyncIntervalMs: 1000, telemetry: t });
  const recs = records(0, batch, 'bench', 420);
  const payloads = encodeRecords(recs, t).payloads;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += batch) await b.append(payloads);
  const t1 = process.hrtime.bigint();
  let n = 0;
  for (;;) {
    const got = b.read(b.start, 64);
    if (got.length === 0) break;
    n += got.length;
    b.ack(got[got.length - 1]!.next);
  }
  const t2 = process.hrtime.bigint();
  const ser0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += batch) encodeRecords(recs, t);
  const ser1 = process.hrtime.bigint();
  await b.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const rate = (count: number, a: bigint, z: bigint): string => `${Math.round(count / (Number(z - a) / 1e9)).toLocaleString('en')}/s`;
  console.log(`fsync=${fsync.padEnd(8)} batch=${String(batch).padEnd(5)} append ${rate(N, t0, t1).padStart(12)}  `
    + `read+ack ${rate(n, t1, t2).padStart(12)}  (JSON.stringify alone ${rate(N, ser0, ser1)})  ${(payloads[0]!.length)} B/record`);
}

for (const [fsync, batch] of [['never', 100], ['interval', 1], ['interval', 100], ['interval', 1000], ['always', 100], ['always', 1000]] as const) {
  await run(fsync, batch);
}
