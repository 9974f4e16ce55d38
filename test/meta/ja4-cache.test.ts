/**
 * ja4.c keeps the hashes of the lists it hashed last (ja4_cache.c: per thread, keyed by the
 * filtered values before sorting, matched byte for byte): a repeated list, the same values in
 * another order, extensions and signature algorithms split differently, a list that lands in a
 * slot another took, a list too long to keep and one in a worker thread must all fingerprint as
 * the JavaScript reference does, which hashes every list.
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { parseClientHello } from '../../agent/meta/hello.js';
import { helloSummary } from '../../agent/meta/hello-native.js';
import { ja4 } from '../../agent/meta/ja4.js';
import { rng } from '../helpers/fuzz.js';
import { clientHelloBody, ext } from './builder.js';

/** A hello whose lists depend on `seed` alone; `ciphers` values long. */
function hello(seed: number, ciphers = 1 + (seed % 40)): Buffer {
  const r = rng(seed);
  return clientHelloBody({
    ciphers: Array.from({ length: ciphers }, () => 1 + Math.floor(r() * 0xfff0)),
    extensions: [ext.sni('c.example'), ext.raw(0x0100 + (seed % 300)), ext.sigAlgs([0x0403, 0x0804 + (seed % 7)])],
  });
}

function mismatches(bodies: Buffer[]): string[] {
  const out: string[] = [];
  for (const b of bodies) {
    const want = ja4('t', parseClientHello(b, 0, b.length, false)!);
    const got = helloSummary(b, 0, b.length, false, 't')?.ja4;
    if (got !== want && out.length < 10) out.push(`${got} != ${want}`);
  }
  return out;
}

t.test('repeated lists, lists displaced by others and lists too long to keep hash as the reference does', async (t) => {
  const few = Array.from({ length: 8 }, (_, i) => hello(i));
  const many = Array.from({ length: 3000 }, (_, i) => hello(1000 + i)); // far more distinct lists than the 256 slots
  const long = [hello(7, 150), hello(8, 300), hello(9, 400)]; // kept; over the 255 values a key holds
  const order: Buffer[] = [];
  for (let round = 0; round < 5; round++) order.push(...few, ...many.slice(round * 600, round * 600 + 600), ...long, ...few);
  t.same(mismatches(order), [], `${order.length} hellos, each of the first 8 lists seen 10 times among 3,000 others`);
  t.same(mismatches(many), [], 'and every one of the 3,000 again, after the others displaced them');
});

t.test('the same values in another order, and the same values split between the two lists, hash as the reference does', async (t) => {
  const body = (ciphers: number[], exts: number[], sigs: number[]): Buffer =>
    // signature_algorithms first: the values after it in the extension list run on into its own values.
    clientHelloBody({ ciphers, extensions: [ext.sigAlgs(sigs), ...exts.map((x) => ext.raw(x))] });
  const bodies = [
    body([1, 2, 3], [0x17, 0x23], [0x0403]), body([3, 2, 1], [0x23, 0x17], [0x0403]), // another order: the same parts b and c
    body([1, 2, 3], [0x17, 0x23], [0x0403, 0x0804]), body([1, 2, 3], [0x17], [0x23, 0x0403, 0x0804]), // one value moved across the boundary
    body([1, 2, 3], [0x17, 0x23, 0x0403], [0x0804]),
  ];
  for (let round = 0; round < 3; round++) t.same(mismatches(bodies), [], `round ${round}`);
  const ja4s = bodies.map((b) => helloSummary(b, 0, b.length, false, 't')!.ja4.split('_'));
  t.equal(ja4s[0]![2], ja4s[1]![2], 'order does not change part c');
  t.equal(new Set(ja4s.slice(2).map((j) => j[2])).size, 3, 'moving a value between the lists changes part c');
});

t.test('a worker thread fingerprints with its own cache, as the reference does', async (t) => {
  const src = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(new URL('../../agent/meta/hello-native.js', import.meta.url).href)}).then(({ helloSummary }) => {
      parentPort.on('message', (bodies) => parentPort.postMessage(bodies.map((b) => helloSummary(b, 0, b.length, false, 't').ja4)));
    });`;
  const bodies = Array.from({ length: 600 }, (_, i) => hello(i % 300));
  const w = new Worker(src, { eval: true });
  try {
    w.postMessage(bodies);
    const fromWorker = await new Promise<string[]>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    t.same(fromWorker, bodies.map((b) => ja4('t', parseClientHello(b, 0, b.length, false)!)));
    t.same(mismatches(bodies), [], 'and the main thread, meanwhile');
  } finally {
    await w.terminate();
  }
});
