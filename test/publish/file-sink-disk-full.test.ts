/**
 * The file sink on a disk that fills up mid-batch: the file must stay valid JSON lines (no torn
 * record glued to the next one) and the counts must say what the file holds. (Found by review: a partial
 * write left half a record in the file, the next record was appended to it on the same line, and
 * the whole batch was counted io_error although most of it was in the file.)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import type { PublishRecord } from '../../agent/publish/types.js';
import { tempDir } from './helpers/tmp.js';

t.test('a write cut short by ENOSPC leaves whole lines only, and counts what they hold', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'flows.jsonl');
  let room = 1000; // bytes the "disk" still takes
  const writeSync = ((fd: number, buf: any, ...rest: any[]): number => {
    if (fd < 3 || typeof buf === 'string') return fs.writeSync(fd, buf, ...rest);
    const off = (rest[0] as number | undefined) ?? 0;
    const len = (rest[1] as number | undefined) ?? buf.length - off;
    if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const n = fs.writeSync(fd, buf, off, Math.min(len, room));
    room -= n;
    return n;
  }) as typeof fs.writeSync;
  const { FileSink } = await t.mockImport<typeof import('../../agent/publish/local-sinks.js')>('../../agent/publish/local-sinks.js', {
    'node:fs': { ...fs, writeSync },
  });
  const sink = new FileSink(createTelemetry(), file);
  await sink.open();
  const rec = (i: number): PublishRecord => ({ seq: i, pad: 'x'.repeat(80) }) as unknown as PublishRecord;
  await sink.write(Array.from({ length: 20 }, (_, i) => rec(i))); // about 100 bytes each: 9 whole fit
  room = 1 << 20; // space freed
  await sink.write([rec(100)]);
  await sink.close();
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  const bad = lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
  t.same(bad, [], 'every line is one whole record');
  const seqs = lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
  t.equal(seqs[seqs.length - 1], 100, 'the record after the space came back is whole');
  const s = sink.stats();
  t.equal(s.delivered, seqs.length, 'delivered counts the records in the file');
  t.equal(s.delivered + s.dropped['io_error']!, 21, 'and io_error the others');
});
