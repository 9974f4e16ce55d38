/**
 * The held-out split by capture: whole captures, as close to the share asked as the capture sizes
 * allow. Found by review: one large capture drawn first was held out whole (241 of 300 rows for a
 * 0.2 share), and the model written was trained on the rest.
 */
import t from 'tap';
import { Rng } from '../../agent/train/rng.js';
import { splitRows } from '../../agent/train/split.js';
import { main } from '../../agent/cli.js';
import { join } from 'node:path';
import { captureIO, tempDir, writeCsv } from './helpers.js';

/** Rows in groups of the given sizes, every row of class 0. */
function groups(sizes: number[]): { rows: Int32Array; y: Int32Array; group: Int32Array } {
  const g: number[] = [];
  sizes.forEach((n, i) => { for (let k = 0; k < n; k++) g.push(i); });
  return { rows: Int32Array.from(g.keys()), y: new Int32Array(g.length), group: Int32Array.from(g) };
}

t.test('one large capture is not held out for a small share, whatever the seed', async (t) => {
  const { rows, y, group } = groups([241, 59]);
  for (let seed = 1; seed <= 20; seed++) {
    const [train, held] = splitRows(rows, y, group, 0.2, new Rng(seed, 0x7e57));
    t.equal(held.length, 59, `seed ${seed}: the small capture held out`);
    t.equal(train.length, 241);
  }
});

t.test('many captures: the held-out share lands near the one asked, whole captures only', async (t) => {
  const sizes = Array.from({ length: 40 }, (_, i) => 5 + ((i * 37) % 90));
  const { rows, y, group } = groups(sizes);
  for (let seed = 1; seed <= 10; seed++) {
    const [train, held] = splitRows(rows, y, group, 0.2, new Rng(seed, 0x7e57));
    t.ok(Math.abs(held.length / rows.length - 0.2) < 0.05, `seed ${seed}: ${held.length} of ${rows.length}`);
    const heldGroups = new Set([...held].map((r) => group[r]));
    t.notOk([...train].some((r) => heldGroups.has(group[r]!)), 'no capture on both sides');
  }
});

t.test('every capture over twice the target: the smallest; one capture: none', async (t) => {
  const two = groups([150, 180]);
  const [, held] = splitRows(two.rows, two.y, two.group, 0.2, new Rng(1, 0x7e57));
  t.equal(held.length, 150);
  const lopsided = groups([100, 40]);
  // 40 rows is within twice 0.2 * 140 = 28: held out.
  t.equal(splitRows(lopsided.rows, lopsided.y, lopsided.group, 0.2, new Rng(1, 0x7e57))[1].length, 40);
  const big = groups([200, 180]);
  t.equal(splitRows(big.rows, big.y, big.group, 0.1, new Rng(3, 0x7e57))[1].length, 180, 'the smaller of two');
  const one = groups([50]);
  t.equal(splitRows(one.rows, one.y, one.group, 0.2, new Rng(1, 0x7e57))[1].length, 0, 'one capture stays for training');
});

t.test('a capture past half as much again as asked is not held out, whatever the seed', async (t) => {
  // Found by review: 95 and 5 rows at share 0.5: seed 1 held out 95 (the model was trained on 5
  // rows), seed 2 held out 5. The 95 comes closer to the target of 50, but is past 75.
  const { rows, y, group } = groups([95, 5]);
  for (let seed = 1; seed <= 20; seed++) {
    const [train, held] = splitRows(rows, y, group, 0.5, new Rng(seed, 0x7e57));
    t.equal(held.length, 5, `seed ${seed}`);
    t.equal(train.length, 95);
  }
  // Within it, closer still wins: 30 of 100 held out for a target of 20 (10 alone is further).
  const near = groups([30, 30, 30, 10]);
  for (let seed = 1; seed <= 10; seed++) {
    const [, held] = splitRows(near.rows, near.y, near.group, 0.2, new Rng(seed, 0x7e57));
    t.ok([10, 30].includes(held.length), `seed ${seed}: ${held.length}`);
  }
});

t.test('train says which classes got no training rows (all held out with their capture)', async (t) => {
  // Found by review: a class whose only capture was held out was kept with 0 training rows, said
  // only in the model's metadata; the model can never predict it.
  const rows: string[][] = [];
  for (const [pcap, app, n, base] of [['A.pcap', 'x', 40, 0], ['B.pcap', 'y', 40, 10], ['C.pcap', 'z', 20, 20]] as const) {
    for (let i = 0; i < n; i++) rows.push([String(base + (i % 5)), String(i % 3), pcap, app]);
  }
  const dir = tempDir();
  const csv = writeCsv(join(dir, 'zc.csv'), ['a', 'b', 'pcap', 'app'], rows);
  const io = captureIO();
  t.equal(await main(['train', '--data', csv, '--label', 'app', '--out', join(dir, 'm.onnx'), '--trees', '3', '--threads', '1', '--min-class-flows', '1'], io), 0, io.err());
  t.match(io.out(), /\nnote: no training rows for z \(all held out with their pcap\): the model never predicts it; --holdout 0 trains on every row\n/);
});
