import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../agent/capture/file-source.js';
import type { Frame } from '../../agent/capture/types.js';
import { pcapBytes, type RawPacket } from '../../agent/capture/pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'eta-pcap-'));
const packets: RawPacket[] = [
  { ts: 1_700_000_000_123_456, data: Buffer.from('first frame') },
  { ts: 1_700_000_001_000_001, data: Buffer.from('second, a bit longer frame'), wireLength: 1500 },
  { ts: 1_700_000_002_999_999, data: Buffer.alloc(0) },
];

async function readAll(path: string): Promise<{ frames: Array<Omit<Frame, 'buf'> & { data: string }>; end: Awaited<ReturnType<FileSource['run']>> }> {
  const frames: Array<Omit<Frame, 'buf'> & { data: string }> = [];
  const end = await new FileSource(path).run((f) => {
    frames.push({ linkType: f.linkType, offset: 0, capLength: f.capLength, wireLength: f.wireLength, ts: f.ts, iface: f.iface,
      data: f.buf.subarray(f.offset, f.offset + f.capLength).toString() });
  });
  return { frames, end };
}

for (const bigEndian of [false, true]) {
  for (const nanoseconds of [false, true]) {
    t.test(`pcap ${bigEndian ? 'big' : 'little'}-endian, ${nanoseconds ? 'nano' : 'micro'}seconds`, async (t) => {
      const path = join(dir, `${bigEndian}-${nanoseconds}.pcap`);
      writeFileSync(path, pcapBytes(packets, { bigEndian, nanoseconds, linkType: 113 }));
      const { frames, end } = await readAll(path);
      t.equal(end.reason, 'eof');
      t.equal(frames.length, 3);
      t.same(frames.map((f) => f.data), ['first frame', 'second, a bit longer frame', '']);
      t.same(frames.map((f) => f.ts), packets.map((p) => p.ts));
      t.equal(frames[1]!.wireLength, 1500);
      t.ok(frames.every((f) => f.linkType === 113));
    });
  }
}

t.test('nanosecond timestamps keep sub-microsecond precision as fractions', async (t) => {
  const path = join(dir, 'ns.pcap');
  const hdr = pcapBytes([{ ts: 1_700_000_000_000_000, data: Buffer.from('x') }], { nanoseconds: true });
  hdr.writeUInt32LE(123_456_789, 24 + 4); // 0.123456789 s
  writeFileSync(path, hdr);
  const { frames } = await readAll(path);
  t.equal(frames[0]!.ts, 1_700_000_000_123_456.789);
});

t.test('a truncated capture keeps what was read and names the offset', async (t) => {
  const whole = pcapBytes(packets);
  const path = join(dir, 'truncated.pcap');
  // Cut inside the second record's data.
  const cut = 24 + 16 + 11 + 16 + 5;
  writeFileSync(path, whole.subarray(0, cut));
  const { frames, end } = await readAll(path);
  t.equal(end.reason, 'error');
  t.equal(end.offset, 24 + 16 + 11);
  t.match(end.message, /truncated capture/);
  t.same(frames.map((f) => f.data), ['first frame', 'secon'], 'the cut record is kept as far as it goes');
});

t.test('a record header cut short ends with an error after the complete records', async (t) => {
  const whole = pcapBytes(packets);
  const path = join(dir, 'cut-header.pcap');
  writeFileSync(path, whole.subarray(0, 24 + 16 + 11 + 7));
  const { frames, end } = await readAll(path);
  t.equal(end.reason, 'error');
  t.equal(frames.length, 1);
  t.equal(end.offset, 24 + 16 + 11);
});

t.test('a corrupt length field stops reading with an error, not a huge allocation', async (t) => {
  const whole = Buffer.from(pcapBytes(packets));
  whole.writeUInt32LE(0x7fffffff, 24 + 16 + 11 + 8); // second record's captured length
  const path = join(dir, 'corrupt.pcap');
  writeFileSync(path, whole);
  const { frames, end } = await readAll(path);
  t.equal(end.reason, 'error');
  t.equal(frames.length, 1);
  t.match(end.message, /corrupt record|truncated/);
});

t.test('a capture larger than the read chunk streams through', async (t) => {
  const many: RawPacket[] = [];
  for (let i = 0; i < 6000; i++) many.push({ ts: 1.7e15 + i, data: Buffer.alloc(1400, i & 255) });
  const path = join(dir, 'big.pcap');
  writeFileSync(path, pcapBytes(many)); // ~8.5 MB: two 4 MiB chunks and a tail
  let n = 0;
  let ok = true;
  const end = await new FileSource(path).run((f) => {
    if (f.capLength !== 1400 || f.buf[f.offset] !== (n & 255) || f.ts !== 1.7e15 + n) ok = false;
    n++;
  });
  t.equal(end.reason, 'eof');
  t.equal(n, 6000);
  t.ok(ok, 'every frame intact across chunk boundaries');
});

t.test('records larger than the room kept for a split record cross chunk boundaries intact', async (t) => {
  // 1.5 MiB records (a snap length that large is legal): every chunk boundary falls inside one.
  const size = 1.5 * (1 << 20);
  const big: RawPacket[] = [];
  for (let i = 0; i < 9; i++) big.push({ ts: 1.7e15 + i, data: Buffer.alloc(size + i, i + 1) });
  const path = join(dir, 'huge-records.pcap');
  writeFileSync(path, pcapBytes(big, { snapLen: 4 << 20 }));
  const seen: number[] = [];
  let ok = true;
  const end = await new FileSource(path).run((f) => {
    const i = seen.length;
    if (f.capLength !== size + i || f.buf[f.offset] !== i + 1 || f.buf[f.offset + f.capLength - 1] !== i + 1) ok = false;
    seen.push(f.capLength);
  });
  t.equal(end.reason, 'eof');
  t.equal(seen.length, 9);
  t.ok(ok, 'lengths and first and last bytes of every record as written');
});

t.test('not a capture: a clear startup error', async (t) => {
  const path = join(dir, 'text.csv');
  writeFileSync(path, 'a,b,c\n1,2,3\n');
  await t.rejects(new FileSource(path).run(() => {}), { code: 'E_INPUT', message: /not a pcap or pcapng capture/ });
  await t.rejects(new FileSource(join(dir, 'missing.pcap')).run(() => {}), { code: 'E_INPUT', message: /no such file/ });
});
