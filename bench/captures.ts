/**
 * Builds the benchmark captures (never committed: they are made from the
 * shared captures or generated):
 * - replicated-<copies>x.pcap: every Ethernet capture of ../shared/data/ndpi, replayed
 *   with shifted timestamps until at least `minPackets` packets;
 * - concurrent.pcap: `flows` distinct TCP flows open at the same time (one
 *   SYN each, all within a few seconds) for memory per concurrent flow;
 * - flood.pcap: a SYN flood of `flows` one-packet flows over a longer time.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FileSource } from '../agent/capture/file-source.js';
import { eth, F, ipv4, tcp } from '../test/helpers/packets.js';
import { pcapHeader, pcapRecord } from '../agent/capture/pcap-writer.js';
import { NDPI_PCAPS } from '../test/helpers/ndpi.js';

export const OUT = new URL('./out/', import.meta.url).pathname;

interface Frame { ts: number; data: Buffer }

async function ethernetFrames(): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const f of readdirSync(NDPI_PCAPS).sort()) {
    if (!/\.pcap(ng)?$/.test(f) || f.startsWith('fuzz')) continue;
    const src = new FileSource(join(NDPI_PCAPS, f));
    const mine: Frame[] = [];
    try {
      await src.run((fr) => {
        if (fr.linkType === 1) mine.push({ ts: fr.ts, data: Buffer.from(fr.buf.subarray(fr.offset, fr.offset + fr.capLength)) });
      });
    } catch {
      continue;
    }
    if (mine.length === 0) continue;
    // Each capture becomes one contiguous time block, so flows of different captures never merge.
    const t0 = mine[0]!.ts;
    // Odd captures jump years; clamp each one's own time to a day so the whole stays within pcap's 32-bit seconds.
    const base = frames.length ? frames[frames.length - 1]!.ts + 600e6 : 1.6e15;
    for (const m of mine) frames.push({ ts: base + Math.min(86400e6, Math.max(0, m.ts - t0)), data: m.data });
  }
  return frames;
}

/** Writes to a temporary name and renames at close, so an interrupted run never leaves a partial capture behind. */
function writer(path: string): { add(ts: number, data: Buffer): void; close(): void } {
  const fd = openSync(`${path}.tmp`, 'w');
  writeSync(fd, pcapHeader({ linkType: 1 }));
  let pending: Buffer[] = [];
  let size = 0;
  const flush = (): void => {
    writeSync(fd, Buffer.concat(pending));
    pending = [];
    size = 0;
  };
  return {
    add(ts, data) {
      const r = pcapRecord({ ts, data });
      pending.push(r);
      size += r.length;
      if (size > 1 << 22) flush();
    },
    close() {
      flush();
      closeSync(fd);
      renameSync(`${path}.tmp`, path);
    },
  };
}

export async function replicatedCapture(minPackets = 1_000_000, name?: string): Promise<{ path: string; packets: number }> {
  mkdirSync(OUT, { recursive: true });
  const frames = await ethernetFrames();
  const copies = Math.ceil(minPackets / frames.length);
  const packets = copies * frames.length;
  // The number of copies is in the default name: a file of another size (a --quick run's) is
  // never taken for this one, whose packet count the rates are computed from.
  const path = join(OUT, name ?? `replicated-${copies}x.pcap`);
  if (existsSync(path) && statSync(path).mtimeMs > Date.now() - 86400e3) return { path, packets };
  const w = writer(path);
  const span = frames[frames.length - 1]!.ts - frames[0]!.ts + 600e6;
  for (let c = 0; c < copies; c++) for (const f of frames) w.add(f.ts + c * span, f.data);
  w.close();
  return { path, packets };
}

function synFlows(name: string, flows: number, spanSeconds: number): string {
  const path = join(OUT, name);
  mkdirSync(OUT, { recursive: true });
  const w = writer(path);
  const t0 = 1.7e15;
  for (let i = 0; i < flows; i++) {
    const src = `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
    const l4 = tcp({ sport: 1024 + (i % 60000), dport: 443, flags: F.SYN, seq: i });
    w.add(t0 + (i / flows) * spanSeconds * 1e6, eth(ipv4({ src, dst: '192.0.2.1', proto: 6, id: i & 0xffff }, l4)));
  }
  w.close();
  return path;
}

/** `flows` distinct flows all alive at once (one SYN each within 10 s). */
export function concurrentCapture(flows = 1_000_000): string {
  return synFlows('concurrent.pcap', flows, 10);
}

/** A SYN flood: `flows` one-packet flows spread over `spanSeconds`. */
export function floodCapture(flows = 5_000_000, spanSeconds = 60): string {
  return synFlows('flood.pcap', flows, spanSeconds);
}
