import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { pcapHeader, pcapRecord } from '../../agent/capture/pcap-writer.js';
import { FileSource } from '../../agent/capture/file-source.js';
import { csvRow } from '../../agent/features/format.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { AsciiBuffer } from '../../agent/lib/ascii-buffer.js';
import { eth, F, ipv4, tcp, udp } from '../helpers/packets.js';
import { clientHello, ext, records } from '../meta/builder.js';

/** A TLS record carrying a ClientHello for `name`. */
function hello(name: string): Buffer {
  const hs = clientHello({ ciphers: [0x1301, 0x1302], extensions: [ext.sni(name), ext.alpn(['h2'])] });
  return records(hs);
}

/** Over 4 MiB of records (more than one read chunk, so records straddle chunk ends), with handshakes the inspector watches. */
function capture(path: string, opts: { bigEndian?: boolean; nanoseconds?: boolean } = {}): number {
  const parts: Buffer[] = [pcapHeader(opts)];
  let n = 0;
  let ts = 1.7e15;
  for (let i = 0; n < 24_000; i++) {
    const a = `10.1.${(i >> 8) & 255}.${i & 255}`;
    const sport = 1024 + (i % 50_000);
    const up = (flags: number, payload: Buffer = Buffer.alloc(0), seq = 1001): Buffer => eth(ipv4({ src: a, dst: '192.0.2.7', proto: 6 }, tcp({ sport, dport: 443, flags, seq }, payload)));
    const down = (flags: number, payload: Buffer = Buffer.alloc(0)): Buffer => eth(ipv4({ src: '192.0.2.7', dst: a, proto: 6 }, tcp({ sport: 443, dport: sport, flags }, payload)));
    const frames = [up(F.SYN, Buffer.alloc(0), 1000), down(F.SYN | F.ACK), up(F.ACK), up(F.ACK | F.PSH, hello(`host${i}.example`)), down(F.ACK, Buffer.alloc(1200, 1)),
      up(F.ACK), eth(ipv4({ src: a, dst: '192.0.2.53', proto: 17 }, udp(sport, 53, Buffer.alloc(40 + (i % 200))))), up(F.FIN | F.ACK), down(F.FIN | F.ACK)];
    for (const data of frames) {
      ts += 137.5 + (i % 7);
      parts.push(pcapRecord({ ts, data }, opts));
      n++;
    }
  }
  writeFileSync(path, Buffer.concat(parts));
  return n;
}

async function rows(path: string, bulk: boolean): Promise<{ text: string; frames: number; bytes: number; packets: number }> {
  const out = new AsciiBuffer(1 << 20);
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 1000 }, (r: FlowRecord) => csvRow(out, r));
  const source = new FileSource(path);
  await source.run((f) => meter.frame(f), bulk ? { pcapBulk: meter } : {});
  meter.flush();
  const st = source.stats();
  return { text: out.take().toString('utf8'), frames: st.frames, bytes: st.bytes, packets: meter.stats().packets };
}

t.test('pcap records read in bulk by the C path give the same flows, counts and metadata as frame by frame', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'eta-bulk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const opts of [{}, { bigEndian: true, nanoseconds: true }]) {
    const path = join(dir, 'c.pcap');
    const n = capture(path, opts);
    const bulk = await rows(path, true);
    const each = await rows(path, false);
    t.equal(bulk.frames, n, `${JSON.stringify(opts)}: every frame counted`);
    t.equal(bulk.packets, each.packets);
    t.equal(bulk.bytes, each.bytes);
    t.ok(bulk.text.includes('host2345.example'), 'the hellos were read');
    t.equal(bulk.text, each.text, 'identical rows');
  }
});

t.test('bytes are counted on the wire, in bulk and frame by frame, as live capture counts them', async (t) => {
  // Found by review: a file counted captured bytes and live capture wire bytes, so the stats of a
  // capture cut by its snap length read less than the same traffic seen live.
  const dir = mkdtempSync(join(tmpdir(), 'eta-bulk-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'snap.pcap');
  const full = eth(ipv4({ src: '10.2.0.1', dst: '10.2.0.2', proto: 17 }, udp(5000, 6000, Buffer.alloc(1400))));
  const cut = full.subarray(0, 96);
  const records = Array.from({ length: 50 }, (_, i) => pcapRecord({ ts: 1.7e15 + i * 1000, data: cut, wireLength: full.length }));
  writeFileSync(path, Buffer.concat([pcapHeader({ snapLen: 96 }), ...records]));
  for (const bulk of [true, false]) t.equal((await rows(path, bulk)).bytes, 50 * full.length, bulk ? 'in bulk (C)' : 'frame by frame');
});
