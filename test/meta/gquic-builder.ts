/**
 * Test helpers for Google QUIC: CHLO messages, Google-encoded frames, null-encrypted
 * Q0xx packets (public header, Q046 long header) with their FNV-1a 128 message hash, and
 * the Q050/T050/T051 version specs for builder.ts's protected Initials. Independent of
 * agent/meta: the hash is computed with BigInt from the FNV definition.
 */
import { clientHello, ext, type QuicVersionSpec } from './builder.js';

/** Google's Initial salts (the labels are RFC 9001's "quic key/iv/hp"). */
export const Q050: QuicVersionSpec = { version: 0x51303530, salt: '504574efd066fe2f9d945cfcdbd3a7f0d3b56b45', prefix: 'quic', initialType: 0 };
export const T050: QuicVersionSpec = { version: 0x54303530, salt: '7ff579e5acd072915580304c43a2367c60488310', prefix: 'quic', initialType: 0 };
export const T051: QuicVersionSpec = { version: 0x54303531, salt: '7a4edef4e7ccee5fa4506c19124fc8ccda6e033d', prefix: 'quic', initialType: 0 };

function u16le(n: number): Buffer {
  return Buffer.from([n & 0xff, n >> 8]);
}
function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A CHLO with the given tag values (tags sorted as the protocol requires), padded with a PAD tag to `padTo` bytes. */
export function chlo(values: Record<string, string | Uint8Array>, padTo = 0): Buffer {
  const tag = (t: string): Buffer => Buffer.from(t.padEnd(4, '\0'), 'latin1');
  const entries = Object.entries(values).map(([k, v]) => [tag(k), typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v)] as const);
  const build = (pad: number): Buffer => {
    const all = pad > 0 ? [...entries, [tag('PAD'), Buffer.alloc(pad, 0x2d)] as const] : entries;
    all.sort((a, b) => a[0].readUInt32LE(0) - b[0].readUInt32LE(0));
    let end = 0;
    const table = all.map(([t, v]) => Buffer.concat([t, u32le((end += v.length))]));
    return Buffer.concat([Buffer.from('CHLO'), u16le(all.length), u16le(0), ...table, ...all.map(([, v]) => v)]);
  };
  const bare = build(0);
  return padTo > bare.length + 8 ? build(padTo - bare.length - 8) : bare;
}

/** Integer of `len` bytes in the version's byte order (big-endian from Q039). */
function uint(v: number, len: number, version: number): Buffer {
  const b = Buffer.alloc(len);
  for (let k = 0; k < len; k++) b[version >= 39 ? len - 1 - k : k] = Math.floor(v / 2 ** (8 * k)) & 0xff;
  return b;
}

/** A STREAM frame: 2-byte data length, `offLen` offset bytes (0, 2-8), 1-byte stream ID unless `idLen`. */
export function streamFrame(version: number, stream: number, offset: number, data: Uint8Array, o: { offLen?: number; idLen?: number; noLength?: boolean } = {}): Buffer {
  const offLen = o.offLen ?? (offset === 0 ? 0 : 2);
  const idLen = o.idLen ?? 1;
  const type = 0x80 | (o.noLength ? 0 : 0x20) | ((offLen === 0 ? 0 : offLen - 1) << 2) | (idLen - 1);
  return Buffer.concat([
    Buffer.from([type]), uint(stream, idLen, version), uint(offset, offLen, version),
    o.noLength ? Buffer.alloc(0) : uint(data.length, 2, version), data,
  ]);
}

/** Google's CRYPTO frame (Q050, T05x): 0x08, varint offset, varint length (two-byte varints). */
export function googleCryptoFrame(offset: number, data: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x08]), Buffer.from([0x40 | (offset >> 8), offset & 0xff, 0x40 | (data.length >> 8), data.length & 0xff]), data]);
}

/** An ACK frame with one-byte fields: `blocks` extra ack blocks (Q034+), or NACK ranges (before Q034). */
export function ackFrame(version: number, blocks = 0): Buffer {
  const more = blocks > 0 ? 0x20 : 0;
  if (version < 34) {
    const ranges = blocks > 0 ? Buffer.concat([Buffer.from([blocks]), Buffer.alloc(blocks * 2, 1), Buffer.from([0])]) : Buffer.alloc(0);
    return Buffer.concat([Buffer.from([0x40 | more, 0, 5]), uint(0, 2, version), Buffer.from([0]), ranges]);
  }
  const extra = blocks > 0 ? Buffer.concat([Buffer.from([blocks]), Buffer.from([1]), Buffer.alloc(blocks * 2, 1)]) : Buffer.from([1]);
  return Buffer.concat([Buffer.from([0x40 | more, 5]), uint(0, 2, version), extra, Buffer.from([0])]);
}

const FNV_PRIME = (1n << 88n) + 0x13bn;
const MASK128 = (1n << 128n) - 1n;

/** FNV-1a 128 over the parts, as Chromium's QuicUtils::FNV1a_128_Hash. */
export function fnv1a128(...parts: Uint8Array[]): bigint {
  let h = 0x6c62272e07bb014262b821756295c58dn;
  for (const p of parts) for (const x of p) h = ((h ^ BigInt(x)) * FNV_PRIME) & MASK128;
  return h;
}

/** The 12-byte null-encryption hash of a client packet: low 96 bits, little-endian ("Client" appended from Q036). */
export function nullHash(version: number, header: Uint8Array, plaintext: Uint8Array, perspective = 'Client'): Buffer {
  const h = version > 35 ? fnv1a128(header, plaintext, Buffer.from(perspective)) : fnv1a128(header, plaintext);
  const out = Buffer.alloc(12);
  for (let k = 0; k < 12; k++) out[k] = Number((h >> BigInt(8 * k)) & 0xffn);
  return out;
}

export interface GquicPacketOptions {
  version: number;
  cid?: Uint8Array;
  pn?: number;
  pnLen?: 1 | 2 | 4 | 6;
  /** Omit the version (later client packets may). */
  noVersion?: boolean;
  /** Private flags byte (before Q034); defaults to 0. */
  privateFlags?: number;
  frames: Uint8Array;
  /** Pad with zero bytes (PADDING) to this length. */
  padTo?: number;
  perspective?: 'Client' | 'Server';
}

const PN_BITS: Record<number, number> = { 1: 0, 2: 1, 4: 2, 6: 3 };

/** A null-encrypted Q024-Q043 packet with a public header. */
export function publicPacket(o: GquicPacketOptions): Buffer {
  const pnLen = o.pnLen ?? 1;
  const flags = (o.noVersion ? 0 : 0x01) | 0x0c | (PN_BITS[pnLen]! << 4);
  const version = o.noVersion ? Buffer.alloc(0) : Buffer.from(`Q0${o.version}`, 'latin1');
  const header = Buffer.concat([Buffer.from([flags]), Buffer.from(o.cid ?? Buffer.from('0123456789abcdef', 'hex')), version, uint(o.pn ?? 1, pnLen, o.version)]);
  return seal(o, header);
}

/** A null-encrypted Q046 Initial (long header, 8-byte DCID, no SCID, 4-byte packet number). */
export function q046Packet(o: Omit<GquicPacketOptions, 'version' | 'noVersion' | 'privateFlags'> & { scid?: Uint8Array }): Buffer {
  const cid = o.cid ?? Buffer.from('0123456789abcdef', 'hex');
  const scid = o.scid ?? Buffer.alloc(0);
  const lens = ((cid.length === 0 ? 0 : cid.length - 3) << 4) | (scid.length === 0 ? 0 : scid.length - 3);
  const header = Buffer.concat([Buffer.from([0xc3]), Buffer.from('Q046', 'latin1'), Buffer.from([lens]), cid, scid, uint(o.pn ?? 1, 4, 46)]);
  return seal({ ...o, version: 46 }, header);
}

function seal(o: GquicPacketOptions, header: Buffer): Buffer {
  let plain = Buffer.concat([o.version < 34 ? Buffer.from([o.privateFlags ?? 0]) : Buffer.alloc(0), o.frames]);
  const fixed = header.length + 12;
  if (o.padTo !== undefined && fixed + plain.length < o.padTo) plain = Buffer.concat([plain, Buffer.alloc(o.padTo - fixed - plain.length)]);
  return Buffer.concat([header, nullHash(o.version, header, plain, o.perspective), plain]);
}

/** A Q050 CHLO as Chrome 83 sent it, padded to fill an Initial. */
export const GOOGLE_CHLO = chlo({ SNI: 'www.example.org', VER: 'Q050', UAID: 'Chrome/83.0' }, 1300);
/** Chrome 85's T050 hello: TLS 1.3 only, ALPN h3-T050, Google's transport parameters. */
export const T050_HELLO = clientHello({
  version: 0x0303,
  sessionId: 0,
  ciphers: [0x1301, 0x1302, 0x1303],
  extensions: [
    ext.sni('fonts.example.com'), ext.alpn(['h3-T050']), ext.raw(0x000a, Buffer.from([0, 2, 0, 0x1d])),
    ext.sigAlgs([0x0403, 0x0804, 0x0401]), ext.raw(0x0033, Buffer.alloc(38, 4)), ext.supportedVersions([0x0304]),
    ext.raw(0xffa5, Buffer.alloc(100, 1)),
  ],
});
