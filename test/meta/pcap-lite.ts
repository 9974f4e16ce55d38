/**
 * A throwaway capture reader for the nDPI cross-check only (the real packet sources live
 * in agent/capture): pcap and pcapng, the link types of the nDPI corpus, IPv4/IPv6 (no
 * fragment reassembly), TCP and UDP. Yields one record per packet with its 5-tuple.
 */
import { readFileSync } from 'node:fs';

export interface L4Packet {
  proto: 6 | 17;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  payload: Uint8Array;
}

function* frames(buf: Buffer): Generator<[linkType: number, frame: Uint8Array]> {
  const magic = buf.readUInt32LE(0);
  if (magic === 0x0a0d0d0a) {
    yield* pcapngFrames(buf);
    return;
  }
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) return;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const link = u32(20) & 0xffff;
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    const start = off + 16;
    if (start + incl > buf.length) return;
    yield [link, buf.subarray(start, start + incl)];
    off = start + incl;
  }
}

function* pcapngFrames(buf: Buffer): Generator<[number, Uint8Array]> {
  let off = 0;
  let le = true;
  const links: number[] = [];
  while (off + 12 <= buf.length) {
    const type = buf.readUInt32LE(off);
    if (type === 0x0a0d0d0a) le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
    const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const len = u32(off + 4);
    if (len < 12 || off + len > buf.length) return;
    const t = type === 0x0a0d0d0a ? type : u32(off);
    if (t === 1) links.push(le ? buf.readUInt16LE(off + 8) : buf.readUInt16BE(off + 8));
    else if (t === 6) {
      const iface = u32(off + 8);
      const cap = u32(off + 20);
      yield [links[iface] ?? 1, buf.subarray(off + 28, off + 28 + cap)];
    } else if (t === 3) {
      yield [links[0] ?? 1, buf.subarray(off + 12, off + len - 4)];
    }
    off += len;
  }
}

/** Offset of the IP header in a frame and its version, or null. */
function ipStart(link: number, f: Uint8Array): number | null {
  const etherType = (o: number): number | null => {
    let et = (f[o]! << 8) | f[o + 1]!;
    let p = o + 2;
    while (et === 0x8100 || et === 0x88a8) {
      et = (f[p + 2]! << 8) | f[p + 3]!;
      p += 4;
    }
    return et === 0x0800 || et === 0x86dd ? p : null;
  };
  switch (link) {
    case 1: return f.length >= 14 ? etherType(12) : null;
    case 101: case 12: case 14: case 228: case 229: return 0;
    case 113: return f.length >= 16 ? etherType(14) : null;
    case 276: return f.length >= 20 ? ((f[0]! << 8) | f[1]!) === 0x0800 || ((f[0]! << 8) | f[1]!) === 0x86dd ? 20 : null : null;
    case 0: return 4;
    case 9: case 104: return ((f[2]! << 8) | f[3]!) === 0x0021 || ((f[2]! << 8) | f[3]!) === 0x0057 || ((f[2]! << 8) | f[3]!) === 0x0800 || ((f[2]! << 8) | f[3]!) === 0x86dd ? 4 : null;
    case 192: {
      const hdr = f[2]! | (f[3]! << 8);
      const dlt = f[4]! | (f[5]! << 8) | (f[6]! << 16) | (f[7]! << 24);
      return dlt === 1 ? (() => { const s = ipStart(1, f.subarray(hdr)); return s === null ? null : s + hdr; })() : null;
    }
    default: return null;
  }
}

function ip6(b: Uint8Array, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((b[o + i]! << 8) | b[o + i + 1]!).toString(16));
  return parts.join(':');
}

export function* packets(path: string): Generator<L4Packet> {
  const buf = readFileSync(path);
  if (buf.length < 24) return;
  for (const [link, f] of frames(buf)) {
    const s = ipStart(link, f);
    if (s === null || s >= f.length) continue;
    const v = f[s]! >> 4;
    let proto: number;
    let l4: number;
    let src: string;
    let dst: string;
    let end: number;
    if (v === 4) {
      if (s + 20 > f.length) continue;
      const ihl = (f[s]! & 0x0f) * 4;
      if ((((f[s + 6]! << 8) | f[s + 7]!) & 0x1fff) !== 0) continue; // later fragment
      proto = f[s + 9]!;
      l4 = s + ihl;
      end = Math.min(f.length, s + ((f[s + 2]! << 8) | f[s + 3]!));
      src = `${f[s + 12]}.${f[s + 13]}.${f[s + 14]}.${f[s + 15]}`;
      dst = `${f[s + 16]}.${f[s + 17]}.${f[s + 18]}.${f[s + 19]}`;
    } else if (v === 6) {
      if (s + 40 > f.length) continue;
      proto = f[s + 6]!;
      l4 = s + 40;
      end = Math.min(f.length, l4 + ((f[s + 4]! << 8) | f[s + 5]!));
      src = ip6(f, s + 8);
      dst = ip6(f, s + 24);
      while ((proto === 0 || proto === 43 || proto === 60) && l4 + 8 <= end) {
        proto = f[l4]!;
        l4 += 8 + f[l4 + 1]! * 8;
      }
    } else continue;
    if (proto === 6 && l4 + 20 <= end) {
      const doff = (f[l4 + 12]! >> 4) * 4;
      yield {
        proto: 6, src, dst, sport: (f[l4]! << 8) | f[l4 + 1]!, dport: (f[l4 + 2]! << 8) | f[l4 + 3]!,
        seq: ((f[l4 + 4]! << 24) | (f[l4 + 5]! << 16) | (f[l4 + 6]! << 8) | f[l4 + 7]!) >>> 0,
        flags: f[l4 + 13]!, payload: f.subarray(Math.min(end, l4 + doff), end),
      };
    } else if (proto === 17 && l4 + 8 <= end) {
      yield {
        proto: 17, src, dst, sport: (f[l4]! << 8) | f[l4 + 1]!, dport: (f[l4 + 2]! << 8) | f[l4 + 3]!,
        seq: 0, flags: 0, payload: f.subarray(l4 + 8, end),
      };
    }
  }
}

/** A direction-independent flow key ("proto a:port-b:port", endpoints sorted). */
export function flowKey(proto: number, a: string, ap: number, b: string, bp: number): string {
  const x = `${a}#${ap}`;
  const y = `${b}#${bp}`;
  return `${proto} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

/** An address as nDPI prints it, in the form `packets` yields (IPv6 brackets dropped, zeros expanded). */
export function normAddr(addr: string): string {
  const a = addr.replace(/^\[|\]$/g, '');
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]`).hostname.slice(1, -1);
  } catch {
    return a; // nDPI sometimes prints an IPv6 address that is not one
  }
}
