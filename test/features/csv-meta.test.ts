/**
 * row_format's csvMeta (meta_cells.c) writes a HeldMeta string's CSV cells exactly as
 * HeldMeta.csvCells writes them in JavaScript, or declines (-1) and leaves them to it.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { META_ROOM, csvText, rowFormat } from '../../agent/features/format.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { HeldMeta, packMeta } from '../../agent/meta/held-meta.js';
import { VERSION_NAMES } from '../../agent/meta/hello.js';
import type { HandshakeTransport } from '../../agent/meta/types.js';

const native = rowFormat();

function inJs(packed: string): string {
  const b = new AsciiBuffer();
  new HeldMeta(packed).csvCells(b, csvText);
  return b.take().toString('latin1');
}

/** What csvMeta writes, or null when it declines. */
function inC(packed: string): string | null {
  const out = new Uint8Array(packed.length + META_ROOM + 7).fill(0xee);
  const end = native.csvMeta(packed, out, 7);
  if (out.subarray(0, 7).some((b) => b !== 0xee)) throw new Error('csvMeta wrote before pos');
  if (end < 0) return null;
  if (out.subarray(end).some((b) => b !== 0xee)) throw new Error('csvMeta wrote past the end it returned');
  return Buffer.from(out.subarray(7, end)).toString('latin1');
}

t.test('the cells are those csvCells writes, for every kind of field; C declines only what needs quoting, starts as a formula or is past ASCII', async (t) => {
  const transports: Array<HandshakeTransport | null> = ['tls', 'quic', 'dtls', null];
  const versions = [null, ...VERSION_NAMES.keys(), 0x7f1c, 0x1234, 0xffff, 0];
  const ja4s = [null, 't13d1516h2_8daaf6152771_b186095e22b6'];
  const snis = [null, '', 'a.example', 'x'.repeat(255), 'q,"u', 'c,d', 'line\nbreak', 'a\rb', 'ünï', 'Łódź', 'tab\there', '~', '\x7f', '=cmd|calc!A1.example', '+1', '-x.example', '@a', '\tx'];
  const alpns: string[][] = [[], [''], ['h2'], ['0x', '0x0001', 'p;q', 'http/1.1'], ['a,b'], ['c"d'], ['r\rs'], ['é'], ['=x'], ['@h2', 'h2'], ['h2', '=x'], Array.from({ length: 16 }, (_, k) => 'v'.repeat(200) + k)];
  let n = 0;
  let byC = 0;
  let plain = 0;
  const bad: string[] = [];
  for (const tr of transports) for (const v of versions) for (const j of ja4s) for (const sni of snis) for (const a of alpns) {
    n++;
    const packed = packMeta(tr, v, 0x6b3343cf, j, sni, a);
    const want = inJs(packed);
    const got = inC(packed);
    // C declines exactly the strings with a cell JavaScript quotes or a character past ASCII.
    const formula = (s: string | undefined): boolean => s !== undefined && /^[=+\-@\t]/.test(s);
    if (!/[",\n\r]|[^\x00-\x7e]/.test([sni ?? '', ...a].join('')) && !formula(sni ?? undefined) && !formula(a[0])) plain++;
    else if (got !== null && bad.length < 5) bad.push(`accepted ${JSON.stringify(packed)}`);
    if (got === null) continue;
    byC++;
    if (got !== want && bad.length < 5) bad.push(`${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  }
  t.same(bad, [], `${n} strings`);
  t.equal(byC, plain, `C wrote ${byC} of ${n}, all that need no quoting`);
});

t.test('csvMeta writes nothing past its room, declines what is not a metadata string, and names wrong arguments', async (t) => {
  const packed = packMeta('tls', 0x0304, 0, null, 'a.example', ['h2']);
  // Less room than the string's length + META_ROOM: declined, the buffer untouched.
  const small = new Uint8Array(packed.length + META_ROOM - 1).fill(0xee);
  t.equal(native.csvMeta(packed, small, 0), -1);
  t.ok(small.every((b) => b === 0xee));
  const exact = new Uint8Array(packed.length + META_ROOM);
  t.equal(native.csvMeta(packed, exact, 0), 'a.example,h2,1.3,'.length);
  t.equal(native.csvMeta('plain text', exact, 0), -1, 'no marker');
  t.equal(native.csvMeta('\x01t0304', exact, 0), -1, 'too short for the layout');
  t.equal(native.csvMeta(packed.replace('0304', '03G4'), exact, 0), -1, 'a version that is not hex');
  t.equal(native.csvMeta(packed, exact, exact.length), -1, 'no room at the end');
  t.throws(() => native.csvMeta(1 as unknown as string, exact, 0), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.csvMeta(packed, [] as unknown as Uint8Array, 0), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.csvMeta(packed, exact, 1.5), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.csvMeta(packed, exact, exact.length + 1), { code: 'E_ROW_FORMAT' });
  // A string longer than C's scratch goes to JavaScript.
  const long = packMeta('tls', null, 0, null, 'a', Array.from({ length: 100 }, () => 'z'.repeat(200)));
  const big = new Uint8Array(long.length + META_ROOM);
  t.equal(native.csvMeta(long, big, 0), -1);
});

t.test('C declines what its byte offsets would misread: a character past ASCII anywhere, a string cut at the scratch', async (t) => {
  const packed = packMeta('tls', 0x0304, 0x6b3343cf, 't13d1516h2_8daaf6152771_b186095e22b6', 'a.example', ['h2']);
  for (const at of [1, 13, 20, 50, 52]) {
    for (const c of ['é', '\u0100', '\ud800', '😀']) {
      const s = packed.slice(0, at) + c + packed.slice(at + 1);
      t.equal(inC(s), null, `${JSON.stringify(c)} at ${at}`);
    }
  }
  // Text after a '0' SNI flag (no reader writes it): csvCells writes no SNI, nor does C.
  const noSni = packMeta('tls', 0x0304, 0, null, null, ['h2']);
  const withText = noSni.slice(0, 51) + 'abc' + noSni.slice(51);
  t.equal(inC(withText), inJs(withText));
  t.equal(inC(withText), ',h2,1.3,');
  // 51 bytes or more without the marker.
  t.equal(inC('\x02' + packed.slice(1)), null);
  // Near the 16 KiB scratch: ASCII is written while it surely fits, a character past ASCII never.
  for (let total = 16374; total <= 16388; total++) {
    const head = packMeta('tls', null, 0, null, '', []);
    const ascii = packMeta('tls', null, 0, null, 'z'.repeat(total - head.length), []);
    const got = inC(ascii);
    if (got !== null) t.equal(got, inJs(ascii), `${total} ASCII bytes`);
    t.equal(got === null, total + 4 >= 16384, `${total} ASCII bytes: ${got === null ? 'declined' : 'written'}`);
    for (const c of ['é', '€', '😀']) {
      const s = packMeta('tls', null, 0, null, 'z'.repeat(Math.max(0, total - head.length - Buffer.byteLength(c))) + c, []);
      t.equal(inC(s), null, `${total} bytes ending in ${c}`);
    }
  }
});

t.test('each thread that loads the addon names the versions for itself', async (t) => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.format).then(async (f) => {
      const { packMeta } = await import(workerData.held);
      const packed = packMeta('tls', 0xfefd, 0, null, 'w.example', []);
      const out = new Uint8Array(packed.length + f.META_ROOM);
      const end = f.rowFormat().csvMeta(packed, out, 0);
      parentPort.postMessage(Buffer.from(out.subarray(0, Math.max(0, end))).toString('latin1'));
    });`;
  const urls = { format: new URL('../../agent/features/format.js', import.meta.url).href, held: new URL('../../agent/meta/held-meta.js', import.meta.url).href };
  const workers = Array.from({ length: 4 }, () => new Worker(code, { eval: true, workerData: urls }));
  const got = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0] as string));
  await Promise.all(workers.map((w) => w.terminate()));
  t.same(got, Array(4).fill('w.example,,dtls1.2,'));
});

t.test('version names are set once: the same again is accepted, a different one refused', async (t) => {
  native.versionName(0x0304, '1.3');
  t.throws(() => native.versionName(0x0304, 'other'), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.versionName(0x10000, 'x'), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.versionName(0x0305, ''), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.versionName(0x0305, 'x'.repeat(16)), { code: 'E_ROW_FORMAT' });
  t.throws(() => native.versionName(0x0306, 'x'.repeat(15) + 'é'), { code: 'E_ROW_FORMAT' }, 'a name cut at a character');
  t.throws(() => native.versionName(0x0307, 'é'), { code: 'E_ROW_FORMAT' }, 'past ASCII');
});

t.test('a cell a spreadsheet would take for a formula is written after a \'', async (t) => {
  // Found by review: an SNI of `=cmd|calc!A1.example` went into extract's CSV as it came.
  const cells = (sni: string, alpn: string[]): string => inJs(packMeta('tls', 0x0304, 0, null, sni, alpn));
  t.equal(cells('=cmd|calc!A1.example', ['@x', 'h2']), "'=cmd|calc!A1.example,'@x;h2,1.3,");
  t.equal(cells('+a,b', ['-1']), `"'+a,b",'-1,1.3,`, 'escaped as well when it holds a comma');
  t.equal(cells('a.example', ['h2', '=x']), 'a.example,h2;=x,1.3,', 'only a cell\'s first character counts');
  t.equal(csvText('-x'), "'-x");
  t.equal(csvText('x-'), 'x-');
});
