import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../agent/capture/file-source.js';
import { epb, idb, otherBlock, pcapngBytes, shb } from '../../agent/capture/pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-pcapng-'));

async function read(buf: Buffer): Promise<{ frames: Array<{ link: number; iface: number; ts: number; data: string }>; src: FileSource; end: Awaited<ReturnType<FileSource['run']>> }> {
  const path = join(dir, `f${Math.random()}.pcapng`);
  writeFileSync(path, buf);
  const frames: Array<{ link: number; iface: number; ts: number; data: string }> = [];
  const src = new FileSource(path);
  const end = await src.run((f) => frames.push({ link: f.linkType, iface: f.iface, ts: f.ts, data: f.buf.subarray(f.offset, f.offset + f.capLength).toString() }));
  return { frames, src, end };
}

for (const be of [false, true]) {
  t.test(`several interfaces, link types and resolutions (${be ? 'big' : 'little'}-endian)`, async (t) => {
    const buf = pcapngBytes(
      [{ linkType: 1 }, { linkType: 113, tsresol: 9 }, { linkType: 101, tsresol: 0x80 | 20 }],
      [
        { ts: 1_700_000_000_000_001, data: Buffer.from('eth'), iface: 0 },
        { ts: 1_700_000_000_500_000, data: Buffer.from('sll'), iface: 1 },
        { ts: 1_700_000_001_000_000, data: Buffer.from('raw'), iface: 2 },
      ],
      be,
    );
    const { frames, end } = await read(buf);
    t.equal(end.reason, 'eof');
    t.same(frames.map((f) => [f.link, f.iface, f.data]), [[1, 0, 'eth'], [113, 1, 'sll'], [101, 2, 'raw']]);
    t.equal(frames[0]!.ts, 1_700_000_000_000_001);
    t.equal(frames[1]!.ts, 1_700_000_000_500_000);
    t.ok(Math.abs(frames[2]!.ts - 1_700_000_001_000_000) < 1, 'binary (2^-20 s) resolution converted');
  });
}

t.test('blocks in any order: unknown blocks skipped, interface described between packets', async (t) => {
  const buf = Buffer.concat([
    shb(),
    otherBlock(4, Buffer.from('name resolution block body')),
    idb({ linkType: 1 }),
    epb({ ts: 1.7e15, data: Buffer.from('a') }),
    otherBlock(5, Buffer.alloc(20)), // interface statistics
    idb({ linkType: 228 }),
    epb({ ts: 1.7e15 + 10, data: Buffer.from('b'), iface: 1 }),
    otherBlock(0x0bad, Buffer.alloc(8)), // custom
    epb({ ts: 1.7e15 + 20, data: Buffer.from('c'), iface: 0 }),
  ]);
  const { frames, end } = await read(buf);
  t.equal(end.reason, 'eof');
  t.same(frames.map((f) => `${f.link}:${f.data}`), ['1:a', '228:b', '1:c']);
});

t.test('a packet on an undescribed interface is counted and skipped', async (t) => {
  const buf = Buffer.concat([shb(), idb({ linkType: 1 }), epb({ ts: 1.7e15, data: Buffer.from('x'), iface: 7 }), epb({ ts: 1.7e15, data: Buffer.from('y') })]);
  const { frames, src } = await read(buf);
  t.same(frames.map((f) => f.data), ['y']);
  t.same(src.stats().skipped, { 'unknown-interface': 1 });
});

t.test('a second section resets interfaces and may change byte order', async (t) => {
  const buf = Buffer.concat([
    shb(false), idb({ linkType: 1 }, false), epb({ ts: 1.7e15, data: Buffer.from('s1') }, 6, false),
    shb(true), idb({ linkType: 113 }, true), epb({ ts: 1.7e15, data: Buffer.from('s2') }, 6, true),
  ]);
  const { frames } = await read(buf);
  t.same(frames.map((f) => `${f.link}:${f.data}`), ['1:s1', '113:s2']);
});

t.test('damaged blocks end the read with an error and keep earlier packets', async (t) => {
  const good = Buffer.concat([shb(), idb({ linkType: 1 }), epb({ ts: 1.7e15, data: Buffer.from('kept') })]);
  const bad = Buffer.from(epb({ ts: 1.7e15, data: Buffer.from('lost') }));
  bad.writeUInt32LE(bad.readUInt32LE(4) + 4, bad.length - 4); // trailing length disagrees
  const { frames, end } = await read(Buffer.concat([good, bad]));
  t.same(frames.map((f) => f.data), ['kept']);
  t.equal(end.reason, 'error');
  t.equal(end.offset, good.length);
  t.match(end.message, /trailing length/);

  const cut = await read(Buffer.concat([good, bad.subarray(0, 20)]));
  t.equal(cut.end.reason, 'error');
  t.match(cut.end.message, /truncated/);
  t.equal(cut.frames.length, 1);
});

t.test('packet blocks too short for their fixed fields are counted and skipped, the read goes on', async (t) => {
  // Found by review: a 12-byte simple packet block gave a negative captured length, which stopped
  // extract with "frame lies outside the buffer" and lost every flow; a 12-byte enhanced packet
  // block was read as interface 12 (its trailing length).
  const short = (type: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(12, 4);
    b.writeUInt32LE(12, 8);
    return b;
  };
  const buf = Buffer.concat([
    shb(), idb({ linkType: 1 }), epb({ ts: 1.7e15, data: Buffer.from('a') }),
    short(3), short(6), short(2),
    epb({ ts: 1.7e15 + 1, data: Buffer.from('b') }),
  ]);
  const { frames, src, end } = await read(buf);
  t.equal(end.reason, 'eof');
  t.same(frames.map((f) => f.data), ['a', 'b']);
  t.same(src.stats().skipped, { 'bad-packet-block': 3 });
});

t.test('the link types of every section are reported, not only the last one (found by review: a PPI hint for an 802.11 section)', async (t) => {
  const buf = Buffer.concat([
    shb(), idb({ linkType: 105 }), epb({ ts: 1.7e15, data: Buffer.from('wifi') }),
    shb(), idb({ linkType: 1 }), epb({ ts: 1.7e15, data: Buffer.from('eth') }),
  ]);
  const { src } = await read(buf);
  t.same([...(src.stats().linkTypes ?? [])].sort((a, b) => a - b), [1, 105]);
});

t.test('nanosecond resolution keeps a µs-exact time exact, as a ns pcap does (found by review: rounded to 256 ns as one double)', async (t) => {
  const times = [1_764_109_850_580_835, 1_764_109_850_597_168, 1_721_295_319_028_262];
  const ng = Buffer.concat([
    shb(), idb({ linkType: 1, tsresol: 9 }),
    ...times.map((us) => {
      const b = epb({ ts: 0, data: Buffer.from('x') }); // the header, then the exact time in ns written by hand
      const ns = BigInt(us) * 1000n;
      b.writeUInt32LE(Number(ns >> 32n), 12);
      b.writeUInt32LE(Number(ns & 0xffffffffn), 16);
      return b;
    }),
  ]);
  const { frames } = await read(ng);
  t.same(frames.map((f) => f.ts), times);
});

t.test('times past 2^53 units: whole seconds exact and the rest as a pcap\'s fields give it, for ns, 100 ns and binary resolutions', async (t) => {
  let seed = 7;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (const [tsresol, per] of [[9, 1_000_000_000n], [7, 10_000_000n], [0x80 | 30, 1n << 30n]] as const) {
    const units: bigint[] = [];
    for (let i = 0; i < 200; i++) units.push((BigInt(1_600_000_000 + rnd(200_000_000)) * per) + BigInt(rnd(Number(per))));
    units.push(1_700_000_000n * per + per - 1n, 1_700_000_000n * per);
    const ng = Buffer.concat([shb(), idb({ linkType: 1, tsresol }), ...units.map((u) => {
      const b = epb({ ts: 0, data: Buffer.from('x') });
      b.writeUInt32LE(Number(u >> 32n), 12);
      b.writeUInt32LE(Number(u & 0xffffffffn), 16);
      return b;
    })]);
    const { frames } = await read(ng);
    const want = units.map((u) => Number(u / per) * 1e6 + (Number(u % per) * 1e6) / Number(per));
    t.same(frames.map((f) => f.ts), want, `if_tsresol ${tsresol}`);
  }
});
