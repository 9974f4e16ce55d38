/**
 * The gQUIC client hello (CHLO) of Google's QUIC Crypto handshake, the message that stands
 * where a TLS ClientHello would in Q0xx versions (QUIC Crypto design doc, "Handshake
 * message format"):
 *
 *   "CHLO" | entries u16 | 2 bytes padding | entries x (tag 4 bytes, end offset u32) | values
 *
 * Integers are little-endian in every version. Tags are sorted; value i spans
 * [end(i-1), end(i)) from the start of the values, so the message is 8 + 8 * entries +
 * end(last) bytes long. The SNI is the value of tag "SNI\0" (a host name, no length
 * prefix). The CHLO has no ALPN: the "ALPN" tag of Chromium's crypto_protocol.h names a
 * message, not a CHLO entry.
 *
 * The message travels in STREAM frames of stream 1 (Q024-Q046) or CRYPTO frames (Q050),
 * one packet in practice but not necessarily; ChloStream reassembles it, bounded.
 */
import { asciiName } from './hello.js';
import { Reassembly } from './reassembly.js';

/** What a CHLO tells the metadata. */
export interface Chlo {
  readonly sni: string | null;
}

const HEADER = 8;
/** Chromium's CryptoFramer refuses more entries than this. */
const MAX_ENTRIES = 128;
const TAG_CHLO = 0x4f4c4843; // "CHLO" read little-endian
const TAG_SNI = 0x00494e53; // "SNI\0" read little-endian

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Whether b[s, e) starts with the CHLO tag. */
export function opensChlo(b: Uint8Array, s: number, e: number): boolean {
  return e - s >= 4 && u32le(b, s) === TAG_CHLO;
}

/** chloLength results besides a length. */
export const NEED_MORE = -1;
export const NOT_CHLO = -2;

/**
 * The length of the CHLO at b[s, s + avail): NEED_MORE until its tag table is all there,
 * NOT_CHLO when the bytes are not a CHLO or its table is inconsistent.
 */
export function chloLength(b: Uint8Array, s: number, avail: number): number {
  if (avail < HEADER) return avail >= 4 && !opensChlo(b, s, s + 4) ? NOT_CHLO : NEED_MORE;
  if (!opensChlo(b, s, s + 4)) return NOT_CHLO;
  const entries = b[s + 4]! | (b[s + 5]! << 8);
  if (entries > MAX_ENTRIES) return NOT_CHLO;
  const table = HEADER + 8 * entries;
  if (avail < table) return NEED_MORE;
  let prev = 0;
  for (let k = 0; k < entries; k++) {
    const end = u32le(b, s + HEADER + 8 * k + 4);
    if (end < prev) return NOT_CHLO;
    prev = end;
  }
  return table + prev;
}

/** Parse a complete CHLO at b[s, e) (e - s = chloLength); null when it does not add up. */
export function parseChlo(b: Uint8Array, s: number, e: number): Chlo | null {
  const len = chloLength(b, s, e - s);
  if (len < 0 || len > e - s) return null;
  const entries = b[s + 4]! | (b[s + 5]! << 8);
  const values = s + HEADER + 8 * entries;
  let sni: string | null = null;
  let prev = 0;
  for (let k = 0; k < entries; k++) {
    const at = s + HEADER + 8 * k;
    const end = u32le(b, at + 4);
    if (u32le(b, at) === TAG_SNI) sni = asciiName(b, values + prev, values + end);
    prev = end;
  }
  return { sni };
}

/** ChloStream.add results. */
export const PENDING = 0;
export const DONE = 1;
export const OVERFLOW = 2;
export const MALFORMED = 3;

/**
 * Bounded reassembly of the client's handshake stream up to its first complete CHLO.
 * The CHLO starts the stream (offset 0), except when the capture begins after the first
 * one: then the first piece that opens with "CHLO" fixes where the message starts. A CHLO
 * that arrives whole in one piece is parsed in place, without a copy.
 */
export class ChloStream {
  /** The first complete CHLO, once add() returned DONE. */
  chlo: Chlo | null = null;
  private data: Reassembly | null = null;
  /** Stream offset of the CHLO's first byte; -1 until known. */
  private base = -1;

  constructor(private readonly limit: number) {}

  /** Bytes held for reassembly. */
  get retained(): number {
    return this.data?.retained ?? 0;
  }

  /** Part of a CHLO is buffered. */
  get partial(): boolean {
    return this.chlo === null && this.data !== null && !this.data.empty;
  }

  /** Free the buffer (the CHLO was read, or the flow gave up). */
  release(): void {
    this.data = null;
  }

  /** Stream bytes b[s, e) at stream `offset`: PENDING, DONE (see `chlo`), OVERFLOW or MALFORMED. */
  add(offset: number, b: Uint8Array, s: number, e: number): number {
    if (this.chlo !== null || s >= e) return this.chlo !== null ? DONE : PENDING;
    const opens = opensChlo(b, s, e);
    if (opens && (this.base < 0 || (offset !== this.base && (this.data?.contiguous ?? 0) === 0))) {
      // A CHLO starts here: parse it in place when it is all in this piece.
      const len = chloLength(b, s, e - s);
      if (len === NOT_CHLO) return MALFORMED;
      if (len > this.limit) return OVERFLOW;
      if (len >= 0 && len <= e - s) return this.parsed(parseChlo(b, s, s + len));
      if (this.base !== offset) this.data = null;
      this.base = offset;
    } else if (this.base < 0) {
      this.base = 0; // a later piece of a CHLO at the stream's start
    }
    if (offset < this.base) return PENDING;
    const data = (this.data ??= new Reassembly(this.limit));
    if (!data.insert(offset - this.base, b, s, e)) return OVERFLOW;
    const m = data.bytes();
    const len = chloLength(m, 0, data.contiguous);
    if (len === NOT_CHLO) return MALFORMED;
    if (len > this.limit) return OVERFLOW;
    if (len < 0 || len > data.contiguous) return PENDING;
    return this.parsed(parseChlo(m, 0, len));
  }

  private parsed(c: Chlo | null): number {
    if (c === null) return MALFORMED;
    this.chlo = c;
    this.data = null;
    return DONE;
  }
}
