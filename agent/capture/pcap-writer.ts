/**
 * Writes pcap and pcapng files: the project's own sample capture, and the
 * captures tests and benchmarks make for themselves (the shared captures are
 * never copied into the project).
 */
import { writeFileSync } from 'node:fs';

export interface RawPacket {
  /** µs since the epoch */
  ts: number;
  data: Buffer;
  /** pcapng interface id */
  iface?: number;
  /** wire length when different from data.length (snapped packets) */
  wireLength?: number;
}

export interface PcapOptions {
  linkType?: number;
  nanoseconds?: boolean;
  bigEndian?: boolean;
  snapLen?: number;
}

export function pcapHeader(o: PcapOptions = {}): Buffer {
  const h = Buffer.alloc(24);
  const w32 = (v: number, at: number): number => (o.bigEndian ? h.writeUInt32BE(v, at) : h.writeUInt32LE(v, at));
  const w16 = (v: number, at: number): number => (o.bigEndian ? h.writeUInt16BE(v, at) : h.writeUInt16LE(v, at));
  w32(o.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(2, 4);
  w16(4, 6);
  w32(o.snapLen ?? 262144, 16);
  w32(o.linkType ?? 1, 20);
  return h;
}

export function pcapRecord(p: RawPacket, o: PcapOptions = {}): Buffer {
  const r = Buffer.alloc(16);
  const sec = Math.floor(p.ts / 1e6);
  const frac = o.nanoseconds ? Math.round((p.ts - sec * 1e6) * 1000) : Math.round(p.ts - sec * 1e6);
  const w32 = (v: number, at: number): number => (o.bigEndian ? r.writeUInt32BE(v, at) : r.writeUInt32LE(v, at));
  w32(sec, 0);
  w32(frac, 4);
  w32(p.data.length, 8);
  w32(p.wireLength ?? p.data.length, 12);
  return Buffer.concat([r, p.data]);
}

export function pcapBytes(packets: readonly RawPacket[], o: PcapOptions = {}): Buffer {
  return Buffer.concat([pcapHeader(o), ...packets.map((p) => pcapRecord(p, o))]);
}

export function writePcap(path: string, packets: readonly RawPacket[], o: PcapOptions = {}): void {
  writeFileSync(path, pcapBytes(packets, o));
}

function pad4(b: Buffer): Buffer {
  return b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
}

function block(type: number, body: Buffer, be: boolean): Buffer {
  const b = pad4(body);
  const len = b.length + 12;
  const head = Buffer.alloc(8);
  const tail = Buffer.alloc(4);
  if (be) { head.writeUInt32BE(type, 0); head.writeUInt32BE(len, 4); tail.writeUInt32BE(len, 0); }
  else { head.writeUInt32LE(type, 0); head.writeUInt32LE(len, 4); tail.writeUInt32LE(len, 0); }
  return Buffer.concat([head, b, tail]);
}

export interface NgInterface {
  linkType: number;
  /** if_tsresol option byte (default 6: microseconds) */
  tsresol?: number;
  snapLen?: number;
}

export function shb(be = false): Buffer {
  const body = Buffer.alloc(16);
  if (be) { body.writeUInt32BE(0x1a2b3c4d, 0); body.writeUInt16BE(1, 4); body.writeUInt16BE(0, 6); }
  else { body.writeUInt32LE(0x1a2b3c4d, 0); body.writeUInt16LE(1, 4); body.writeUInt16LE(0, 6); }
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body, be);
}

export function idb(i: NgInterface, be = false): Buffer {
  const opts: Buffer[] = [];
  if (i.tsresol !== undefined) {
    const o = Buffer.alloc(8);
    if (be) { o.writeUInt16BE(9, 0); o.writeUInt16BE(1, 2); } else { o.writeUInt16LE(9, 0); o.writeUInt16LE(1, 2); }
    o[4] = i.tsresol;
    opts.push(o, Buffer.alloc(4)); // opt_endofopt
  }
  const body = Buffer.alloc(8);
  if (be) { body.writeUInt16BE(i.linkType, 0); body.writeUInt32BE(i.snapLen ?? 262144, 4); }
  else { body.writeUInt16LE(i.linkType, 0); body.writeUInt32LE(i.snapLen ?? 262144, 4); }
  return block(1, Buffer.concat([body, ...opts]), be);
}

export function epb(p: RawPacket, tsresol = 6, be = false): Buffer {
  const units = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
  const t = BigInt(Math.round((p.ts / 1e6) * units));
  const body = Buffer.alloc(20);
  const w = (v: number, at: number): number => (be ? body.writeUInt32BE(v, at) : body.writeUInt32LE(v, at));
  w(p.iface ?? 0, 0);
  w(Number(t >> 32n), 4);
  w(Number(t & 0xffffffffn), 8);
  w(p.data.length, 12);
  w(p.wireLength ?? p.data.length, 16);
  return block(6, Buffer.concat([body, p.data]), be);
}

/** An arbitrary block (e.g. a Name Resolution Block) that readers must skip. */
export function otherBlock(type: number, body: Buffer, be = false): Buffer {
  return block(type, body, be);
}

export function pcapngBytes(ifaces: readonly NgInterface[], packets: readonly RawPacket[], be = false): Buffer {
  return Buffer.concat([
    shb(be),
    ...ifaces.map((i) => idb(i, be)),
    ...packets.map((p) => epb(p, ifaces[p.iface ?? 0]?.tsresol ?? 6, be)),
  ]);
}
