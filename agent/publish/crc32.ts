/**
 * CRC-32 (IEEE, the zlib/PNG polynomial) for the disk buffer's per-record checksum.
 * Node >= 20.15 has a native zlib.crc32 (about 10x faster than JS); the table-driven
 * fallback keeps older Node 20 releases working, and the two must agree bit for bit
 * because segments written by one may be read by the other after an upgrade.
 */
import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, previous?: number) => number;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Table-driven CRC-32; `previous` continues a running checksum like zlib's. */
export function crc32Portable(data: Uint8Array, previous = 0): number {
  table ??= makeTable();
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const native = (zlib as { crc32?: Crc32 }).crc32;

/** True when node:zlib provides crc32 (Node >= 20.15). */
export const nativeCrc32 = typeof native === 'function';

export const crc32: Crc32 = nativeCrc32 ? (d, p = 0) => native!(d, p) : crc32Portable;
