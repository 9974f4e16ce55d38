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
import { quicCrypto } from './quic-keys.js';

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

/**
 * Whether the message hash at h.hashOff is the client's null-encryption hash of packet p
 * (FNV-1a 128 in C, native/gquic_hash.c: in JavaScript it cost ~10 us a packet once compiled).
 */
export function clientHashMatches(p: Uint8Array, h: GquicHeader): boolean {
  return quicCrypto().gquicClientHash(p, h.hashOff, h.version > 35);
}
