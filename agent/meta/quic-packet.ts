/**
 * QUIC packet layer for Initial packets: long-header layout (RFC 9000 17.2), varints,
 * header protection removal, packet-number decoding (RFC 9000 A.3) and AEAD opening
 * (RFC 9001 5.3-5.4), the last three in C (native/quic_crypto.c). No state beyond the
 * per-direction `Side` the caller owns.
 */
import { quicCrypto, quicVersion, type InitialKeys, type QuicVersion } from './quic-keys.js';

const MAX_CID = 20;
/** Header protection samples 16 bytes starting 4 bytes after the packet number. */
export const SAMPLE = 16;

/** readLongHeader results: a packet to use, one to stop the datagram at, or broken lengths. */
export const OK = 0;
export const STOP = 1;
export const MALFORMED = 2;

/** Keys of one direction and the largest packet number opened with them. */
export interface Side {
  keys: InitialKeys;
  ver: QuicVersion;
  largestPn: number;
}

const ZEROS = Buffer.alloc(65536);

/** Whether b[from, to) is all zero (to - from <= ZEROS.length): one memcmp. */
function zeros(b: Uint8Array, from: number, to: number): boolean {
  return ZEROS.compare(b, from, to, 0, to - from) === 0;
}

/**
 * Where the run of zero bytes (PADDING frames, in QUIC and gQUIC alike) starting at b[i] ends,
 * at most n. Padding usually closes the packet (a client's first packets are padded to 1,200
 * bytes or more), which one memcmp confirms. Else (Chrome puts PADDING between the pieces of its
 * ClientHello) spans twice as long each time are compared while they are zero, then the span
 * holding the run's end is halved, and its last few bytes are walked. Why: skipping it a byte
 * per loop turn made the frame walkers hot enough for V8 to compile them for a few hundred
 * flows, the compilation costing more than the walking; this function's own loop, walking
 * ~11,000 bytes of padding per million packets of the benchmark capture, still was (--trace-opt;
 * a TurboFan compilation of ~8 ms for well under a million instructions of work).
 */
export function paddingEnd(b: Uint8Array, i: number, n: number): number {
  if (n - i <= ZEROS.length && zeros(b, i, n)) return n;
  // b[i, lo) is zero; then the run ends in [lo, hi), or at hi = n.
  let lo = i;
  let step = 16;
  while (lo + step <= n && zeros(b, lo, lo + step)) {
    lo += step;
    step = Math.min(2 * step, ZEROS.length);
  }
  let hi = Math.min(lo + step, n);
  while (hi - lo > 16) {
    const mid = lo + ((hi - lo) >> 1);
    if (zeros(b, lo, mid)) lo = mid;
    else hi = mid;
  }
  while (lo < hi && b[lo] === 0) lo++;
  return lo;
}

/** Bytes of the varint whose first byte is `first`. */
export function varintLen(first: number): number {
  return 1 << (first >> 6);
}

/** The varint at `i` (caller checks `i + varintLen(b[i]) <= end`); exact below 2^53. */
export function varint(b: Uint8Array, i: number): number {
  const len = varintLen(b[i]!);
  let v = b[i]! & 0x3f;
  for (let k = 1; k < len; k++) v = v * 256 + b[i + k]!;
  return v;
}

/** One long-header packet's layout (RFC 9000 17.2), filled in place to avoid allocation. */
export interface LongHeader {
  ver: QuicVersion | null;
  /** The version field as sent. */
  wire: number;
  initial: boolean;
  dcidLen: number;
  /** Offset of the (protected) packet number. */
  pnOff: number;
  /** End of this packet within the datagram (start of the next coalesced one). */
  end: number;
}

/**
 * Read the long header at `off` into `h`. STOP: a packet we cannot or need not walk past
 * (version negotiation, unknown version, Retry); MALFORMED: lengths do not fit.
 */
export function readLongHeader(p: Uint8Array, off: number, h: LongHeader): number {
  if (off + 7 > p.length) return MALFORMED;
  const wire = ((p[off + 1]! << 24) | (p[off + 2]! << 16) | (p[off + 3]! << 8) | p[off + 4]!) >>> 0;
  const ver = quicVersion(wire);
  if (ver === null) return STOP;
  const dcidLen = p[off + 5]!;
  let pos = off + 6 + dcidLen;
  if (dcidLen > MAX_CID || pos >= p.length || p[pos]! > MAX_CID) return MALFORMED;
  pos += 1 + p[pos]!;
  const type = (p[off]! >> 4) & 3;
  if (type === ver.retryType) return STOP;
  const initial = type === ver.initialType;
  if (initial) {
    if (pos >= p.length || pos + varintLen(p[pos]!) > p.length) return MALFORMED;
    pos += varintLen(p[pos]!) + varint(p, pos); // token
  }
  if (pos >= p.length || pos + varintLen(p[pos]!) > p.length) return MALFORMED;
  const end = pos + varintLen(p[pos]!) + varint(p, pos);
  pos += varintLen(p[pos]!);
  if (end > p.length) return MALFORMED;
  h.ver = ver;
  h.wire = wire;
  h.initial = initial;
  h.dcidLen = dcidLen;
  h.pnOff = pos;
  h.end = end;
  return OK;
}

/**
 * Decrypt the Initial packet that opens datagram `p` with `keys`: its frames and packet
 * number, or null when it is not an Initial or does not authenticate.
 */
export function openInitial(p: Uint8Array, keys: InitialKeys): { frames: Buffer; pn: number } | null {
  const h: LongHeader = { ver: null, wire: 0, initial: false, dcidLen: 0, pnOff: 0, end: 0 };
  if (readLongHeader(p, 0, h) !== OK || !h.initial || h.pnOff + 4 + SAMPLE > h.end) return null;
  const side: Side = { keys, ver: h.ver!, largestPn: -1 };
  const frames = openProtected(p, 0, h.pnOff, h.end, side);
  return frames === null ? null : { frames, pn: side.largestPn };
}

/** Index after `count` varints from `i`, or -1 when they run past the end. */
export function skipVarints(b: Uint8Array, i: number, count: number): number {
  for (let k = 0; k < count; k++) {
    if (i >= b.length) return -1;
    i += varintLen(b[i]!);
  }
  return i <= b.length ? i : -1;
}

/**
 * Remove header protection and open the AEAD (native/quic_crypto.c, which also decodes the
 * packet number as RFC 9000 A.3 says). Returns the plaintext frames, or null when
 * authentication fails or the offsets do not fit p. The input is never modified.
 */
export function openProtected(p: Uint8Array, off: number, pnOff: number, end: number, side: Side): Buffer | null {
  const native = quicCrypto();
  const out = native.openProtected(p, off, pnOff, end, side.keys.packed, side.largestPn);
  if (out === null) return null;
  const pn = native.pn[0]!;
  if (pn > side.largestPn) side.largestPn = pn;
  return out;
}
