/**
 * A whole ClientHello in a TCP flow's first payload is read by the C flow table itself
 * (hello_watch.c read_in_place), kept until the flow ends, and read back through helloOf:
 * JavaScript sees none of those packets, the flow reports what helloMetaInPlace reads, and
 * hellos C cannot read whole still reach JavaScript's reader.
 */
import t from 'tap';
import { WATCH_BEGIN } from '../../agent/flows/table.js';
import { helloMetaInPlace } from '../../agent/meta/fast-tls.js';
import { rng } from '../helpers/fuzz.js';
import { eth, F, ipv4, tcp } from '../helpers/packets.js';
import { clientHello, ext, records, type Ext } from './builder.js';
import { meterWithSpy } from './spy-meter.js';

const CAPACITY = 4096; // meterWithSpy's

/** ClientHellos of every shape the summary covers: SNI or none, ALPN text and bytes, GREASE, version lists, long lists. */
function hellos(): Buffer[] {
  const r = rng(3);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const out: Buffer[] = [];
  for (let i = 0; i < 300; i++) {
    const exts: Ext[] = [];
    if (r() < 0.8) exts.push(ext.sni(pick(['a.example', 'video.example.com', 'x'.repeat(255), 'caf\u00e9.example', 'bad name'])));
    if (r() < 0.7) exts.push(ext.alpn(pick([['h2', 'http/1.1'], ['h3'], [Buffer.from([0, 1, 2])], [''], Array.from({ length: 20 }, (_, k) => `p${k}`)])));
    if (r() < 0.7) exts.push(ext.supportedVersions(pick([[0x0304, 0x0303], [0x7a7a, 0x0304], [0x0303], [0x7f1c]])));
    if (r() < 0.5) exts.push(ext.sigAlgs([0x0403, 0x0804, 0x0401]));
    if (r() < 0.5) exts.push(ext.raw(0x0a0a), ext.raw(0x0033, Buffer.alloc(36, 7)));
    const ciphers = Array.from({ length: 1 + Math.floor(r() * 70) }, () => pick([0x1301, 0x1302, 0xc02f, 0x2a2a, 0x009c, 0xcca8]) + Math.floor(r() * 3));
    out.push(records(clientHello({ version: pick([0x0303, 0x0301]), ciphers, extensions: exts })));
  }
  return out;
}

function tlsFlow(sport: number): (seq: number, flags: number, data?: Buffer) => Buffer {
  return (seq, flags, data) => eth(ipv4({ src: '10.3.0.1', dst: '10.3.0.2', proto: 6 }, tcp({ sport, dport: 443, seq, flags }, data)));
}

t.test('a whole ClientHello in the first payload is read in C, as helloMetaInPlace reads it, and dropped at the flow end', async (t) => {
  const { spy, send, finish, flows } = meterWithSpy();
  const all = hellos();
  all.forEach((hello, i) => {
    const up = tlsFlow(10000 + i);
    send(2 * i, up(99, F.SYN));
    send(2 * i + 1, up(100, F.ACK | F.PSH, hello));
  });
  t.same(spy.seen, [], 'no packet of these flows reached JavaScript');
  const core = spy.table!;
  const out: unknown[] = [];
  let held = 0;
  for (let s = 0; s < CAPACITY; s++) if (core.helloOf(s, out) >= 0) held++;
  t.equal(held, all.length, 'C keeps one hello per flow while the flows live');
  t.throws(() => core.helloOf(CAPACITY, out), RangeError, 'a slot outside the table is refused');
  finish();
  held = 0;
  for (let s = 0; s < CAPACITY; s++) if (core.helloOf(s, out) >= 0) held++;
  t.equal(held, 0, 'every hello is dropped when its flow ends');
  t.equal(flows.length, all.length);
  let same = 0;
  for (const f of flows) {
    const hello = all[f.srcPort - 10000]!;
    if (JSON.stringify(f.meta) === JSON.stringify(helloMetaInPlace(hello, 0, hello.length))) same++;
  }
  t.equal(same, all.length, 'every flow reports exactly the metadata helloMetaInPlace reads');
  t.ok(flows.filter((f) => f.meta?.sni === null).length > 30 && flows.filter((f) => f.meta?.alpn.some((a) => a.startsWith('0x'))).length > 10,
    'the set covers hellos without a readable SNI and ALPN values shown as bytes');
});

t.test('hellos C cannot read whole (split, malformed) still reach JavaScript, which reads them as before', async (t) => {
  const { spy, send, finish, flows } = meterWithSpy();
  const hello = records(clientHello({ ciphers: [0x1301], extensions: [ext.sni('split.example'), ext.alpn(['h2'])] }));
  const split = tlsFlow(20001);
  send(0, split(99, F.SYN));
  send(1, split(100, F.ACK | F.PSH, hello.subarray(0, 40)));
  send(2, split(140, F.ACK | F.PSH, hello.subarray(40)));
  const broken = Buffer.from(hello);
  broken[9 + 2 + 32] = 200; // a session id longer than the hello
  const bad = tlsFlow(20002);
  send(3, bad(99, F.SYN));
  send(4, bad(100, F.ACK | F.PSH, broken));
  t.same(spy.seen.filter((s) => s.action === WATCH_BEGIN).map((s) => s.sport), [20001, 20002], 'both were handed to JavaScript');
  finish();
  const meta = new Map(flows.map((f) => [f.srcPort, f.meta]));
  t.equal(meta.get(20001)?.sni, 'split.example', "the split hello is read by JavaScript's reader");
  t.equal(meta.get(20002) ?? null, null, 'the malformed one yields nothing');
});
