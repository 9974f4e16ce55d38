// Feature vectors come from chunks that are used again once every vector of them is released.
import t from 'tap';
import { FeatureRows } from '../../agent/features/feature-rows.js';

t.test('a chunk is used again, zeroed, once all its vectors are released, never while one is held', async (t) => {
  const rows = new FeatureRows(3);
  const first = Array.from({ length: 64 }, () => rows.alloc());
  t.ok(first.every((v) => v.length === 3 && v.every((x) => x === 0)), 'zeroed vectors of the width asked');
  t.equal(new Set(first.map((v) => v.buffer)).size, 1, '64 vectors share a chunk');
  for (const v of first) v.fill(7);
  // All but one released: the chunk is not reused while that one is read.
  for (const v of first.slice(1)) rows.release(v);
  const second = Array.from({ length: 64 }, () => rows.alloc());
  t.not(second[0]!.buffer, first[0]!.buffer, 'a chunk with a vector still held is not reused');
  t.same([...first[0]!], [7, 7, 7], 'the held vector keeps its values');
  rows.release(first[0]!);
  for (const v of second) rows.release(v);
  const third = rows.alloc();
  t.ok(third.buffer === first[0]!.buffer || third.buffer === second[0]!.buffer, 'a released chunk is reused');
  t.same([...third], [0, 0, 0], 'zeroed again');
});

t.test('the chunk being handed out is reused only once it is full and all of it is back', async (t) => {
  const rows = new FeatureRows(2);
  const a = rows.alloc();
  rows.release(a); // the chunk is not full yet: its next rows are still handed out
  const b = rows.alloc();
  t.equal(b.buffer, a.buffer);
  t.not(b.byteOffset, a.byteOffset, 'the released row of the current chunk is not handed out twice');
});

t.test('vectors that did not come from the rows are ignored, so are their releases', async (t) => {
  const rows = new FeatureRows(2);
  const held = rows.alloc();
  held.fill(5);
  rows.release(new Float64Array(2));
  rows.release(new Float64Array(128).subarray(0, 2));
  for (let i = 0; i < 200; i++) rows.alloc();
  t.same([...held], [5, 5], 'a foreign release freed nothing');
});

t.test('vectors dropped without release leave their chunks to the collector', async (t) => {
  const rows = new URL('../../agent/features/feature-rows.js', import.meta.url).href;
  const script = `
    const { FeatureRows } = await import(${JSON.stringify(rows)});
    const r = new FeatureRows(196);
    let held = [];
    for (let i = 0; i < 64 * 200; i++) held.push(r.alloc()); // 200 chunks, 20 MB
    const before = process.memoryUsage().arrayBuffers;
    held = null;
    for (let i = 0; i < 3; i++) { gc(); await new Promise((res) => setTimeout(res, 10)); }
    console.log(JSON.stringify([before, process.memoryUsage().arrayBuffers]));
  `;
  const { execFileSync } = await import('node:child_process');
  const [before, after] = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' })) as [number, number];
  t.ok(before > 19e6, `the chunks were allocated: ${before} bytes`);
  t.ok(after < 2e6, `and collected once dropped: ${after} bytes left`);
});
