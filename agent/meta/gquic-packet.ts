/**
 * Google QUIC packet headers before Q050, whose handshake packets are not encrypted but
 * "null-encrypted": a 12-byte message hash, then the frames in the clear.
 *
 * Q024-Q043, public header (QUIC wire layout doc; Wireshark's packet-gquic.c):
 *   flags | connection ID (8 bytes when 0x08) | version "Q0nn" (when 0x01) | packet number
 *   flags: 0x01 version present, 0x02 public reset, 0x08 8-byte connection ID (Q024-Q032
 *   encode the ID length in 0x0c; clients send 0x0c = 8 bytes), 0x04 diversification
 *   nonce (Q033+, server to client only), 0x30 packet-number length 1/2/4/6, 0x80 unused.
 * Q046, the IETF-invariant long header with gQUIC inside:
 *   0xc0 | type << 4 | (pn length - 1) | "Q046" | DCIL << 4 | SCIL (each + 3 when not 0)
 *   | DCID | SCID | packet number (no token, no length field)
 *
 * The message hash is FNV-1a 128 over the header, the plaintext after the hash and, from
 * Q036, the sender's perspective "Client" or "Server"; its low 96 bits are sent
 * little-endian. Checking it tells a client's null-encrypted packet from an encrypted one
 * (or from anything else) before a single frame is trusted. Integers in frames and packet
 * numbers are little-endian before Q039, big-endian from Q039.
 */

/** Public-header versions read here (nDPI's range; older ones differ in frame layouts). */
const MIN_PUBLIC = 24;
const MAX_PUBLIC = 43;
/** The one long-header version that is still null-encrypted. */
export const Q046 = 46;
/** Bytes of the null-encryption message hash that precedes the frames. */
export const HASH_LEN = 12;
const PN_LENGTHS = [1, 2, 4, 6] as const;

/** The version number nn of "Q0nn" at p[i, i + 4), or -1. */
export function gquicVersionAt(p: Uint8Array, i: number): number {
  if (p[i] !== 0x51 || p[i + 1] !== 0x30) return -1;
  const d1 = p[i + 2]! - 0x30;
  const d2 = p[i + 3]! - 0x30;
  return d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9 ? d1 * 10 + d2 : -1;
}

/**
 * Whether p[off, end) opens with a client's gQUIC packet of a version we read: a public
 * header with the version and 8-byte connection ID flags and "Q024".."Q043" at bytes 9-12,
 * or a Q046 Initial long header. Reads at most 13 bytes, allocates nothing.
 */
export function looksLikeGquic(p: Uint8Array, off = 0, end = p.length): boolean {
  if (end - off < 13 + HASH_LEN) return false;
  const b0 = p[off]!;
  if ((b0 & 0x8b) === 0x09) {
    const v = gquicVersionAt(p, off + 9);
    return v >= MIN_PUBLIC && v <= MAX_PUBLIC;
  }
  return (b0 & 0xf0) === 0xc0 && gquicVersionAt(p, off + 1) === Q046;
}

/** One packet's layout, filled in place. */
export interface GquicHeader {
  /** nn of "Q0nn". */
  version: number;
  /** Packet-number length (STOP_WAITING frames use it). */
  pnLen: number;
  /** Offset of the message hash (= header length). */
  hashOff: number;
}

/**
 * Read the header of datagram p into h. `known` is the flow's version from an earlier
 * packet (-1 if none): later client packets may omit it. False when the packet is not one
 * we read (server packets, resets, encrypted Q046 types, short headers, unknown versions).
 */
export function readGquicHeader(p: Uint8Array, known: number, h: GquicHeader): boolean {
  if (p.length < 1 + HASH_LEN) return false;
  const b0 = p[0]!;
  let pos: number;
  let version: number;
  let pnLen: number;
  if ((b0 & 0x80) === 0) {
    if ((b0 & 0x02) !== 0) return false; // public reset
    pos = (b0 & 0x08) !== 0 ? 9 : 1;
    if ((b0 & 0x01) !== 0) {
      if (pos + 4 > p.length) return false;
      version = gquicVersionAt(p, pos);
      pos += 4;
    } else {
      version = known;
    }
    if (version < MIN_PUBLIC || version > MAX_PUBLIC) return false;
    pnLen = PN_LENGTHS[(b0 >> 4) & 3]!;
  } else {
    // Only Initials: the other long-header types of Q046 are encrypted.
    if ((b0 & 0xf0) !== 0xc0 || p.length < 6 || gquicVersionAt(p, 1) !== Q046) return false;
    version = Q046;
    const dcil = p[5]! >> 4;
    const scil = p[5]! & 0x0f;
    pos = 6 + (dcil === 0 ? 0 : dcil + 3) + (scil === 0 ? 0 : scil + 3);
    pnLen = (b0 & 3) + 1;
  }
  pos += pnLen;
  if (pos + HASH_LEN > p.length) return false;
  h.version = version;
  h.pnLen = pnLen;
  h.hashOff = pos;
  return true;
}

// FNV-1a 128 with eight 16-bit limbs, least significant first, so that every step is an
// int32 operation (~10 us for a 1350-byte packet). The prime is 2^88 + 0x13b, so
// h * prime = h * 0x13b + (h << 88), and h << 88 moves limbs 0-2 up five limbs and 8 bits.
const BASIS = [0xc58d, 0x6295, 0x2175, 0x62b8, 0x0142, 0x07bb, 0x272e, 0x6c62];
// A Buffer, as the packets are (payload views of the capture's buffers): fnvUpdate then sees one
// kind of array. A plain Uint8Array here deoptimized it at the first gQUIC flow's hash, and V8
// compiled it four times in a 4M-packet extract.
const CLIENT = Buffer.from([0x43, 0x6c, 0x69, 0x65, 0x6e, 0x74]); // "Client"

/** The hash state, reused: the data path is single-threaded and never re-enters here. */
const state = [0, 0, 0, 0, 0, 0, 0, 0];

function fnvUpdate(h: number[], b: Uint8Array, s: number, e: number): void {
  let l0 = h[0]!, l1 = h[1]!, l2 = h[2]!, l3 = h[3]!, l4 = h[4]!, l5 = h[5]!, l6 = h[6]!, l7 = h[7]!;
  for (let i = s; i < e; i++) {
    l0 ^= b[i]!;
    const s5 = (l0 << 8) & 0xffff;
    const s6 = ((l1 << 8) | (l0 >>> 8)) & 0xffff;
    const s7 = ((l2 << 8) | (l1 >>> 8)) & 0xffff;
    let t = l0 * 0x13b;
    l0 = t & 0xffff;
    t = l1 * 0x13b + (t >>> 16);
    l1 = t & 0xffff;
    t = l2 * 0x13b + (t >>> 16);
    l2 = t & 0xffff;
    t = l3 * 0x13b + (t >>> 16);
    l3 = t & 0xffff;
    t = l4 * 0x13b + (t >>> 16);
    l4 = t & 0xffff;
    t = l5 * 0x13b + (t >>> 16) + s5;
    l5 = t & 0xffff;
    t = l6 * 0x13b + (t >>> 16) + s6;
    l6 = t & 0xffff;
    t = l7 * 0x13b + (t >>> 16) + s7;
    l7 = t & 0xffff;
  }
  h[0] = l0; h[1] = l1; h[2] = l2; h[3] = l3; h[4] = l4; h[5] = l5; h[6] = l6; h[7] = l7;
}

function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}

/** Whether the message hash at h.hashOff is the client's null-encryption hash of packet p. */
export function clientHashMatches(p: Uint8Array, h: GquicHeader): boolean {
  for (let k = 0; k < 8; k++) state[k] = BASIS[k]!;
  fnvUpdate(state, p, 0, h.hashOff);
  fnvUpdate(state, p, h.hashOff + HASH_LEN, p.length);
  if (h.version > 35) fnvUpdate(state, CLIENT, 0, CLIENT.length);
  for (let k = 0; k < 6; k++) if (u16le(p, h.hashOff + 2 * k) !== state[k]) return false;
  return true;
}
