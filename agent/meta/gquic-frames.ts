/**
 * Google's frame encoding (QUIC wire layout doc; Wireshark's packet-gquic.c), used by
 * Q024-Q046 and, inside protected Initials, by Q050 and T050/T051:
 *
 *   0x00 PADDING   0x01 RST_STREAM (16)   0x02 CONNECTION_CLOSE   0x03 GOAWAY
 *   0x04 WINDOW_UPDATE (12)   0x05 BLOCKED (4)   0x06 STOP_WAITING   0x07 PING
 *   0x08 CRYPTO (Q048+: varint offset, varint length, data)
 *   0x40-0x7f ACK: 01ntllmm, n = more blocks (ranges before Q034), ll/mm = 1/2/4/6-byte fields
 *   0x80-0xff STREAM: 1fdooss, ss + 1 stream-ID bytes, ooo offset bytes (0 or ooo + 1),
 *                     d = 2-byte data length present (else the data runs to the packet end)
 * Integers are little-endian before Q039, big-endian from Q039; CRYPTO's are QUIC varints.
 * Only frame extents are read here; the caller gets stream and CRYPTO data.
 */
import { paddingEnd, varint, varintLen } from './quic-packet.js';

/** walkFrames results: all frames walked, stopped at a frame we do not know, or broken lengths. */
export const FRAMES_OK = 0;
export const FRAMES_STOP = 1;
export const FRAMES_MALFORMED = 2;

/** Stream-ID value passed to the sink for CRYPTO frame data. */
export const CRYPTO_STREAM = -1;

/** Receives stream data b[s, e) at stream `offset`; returns false to stop the walk. */
export type StreamSink = (stream: number, offset: number, b: Uint8Array, s: number, e: number) => boolean;

const FIELD_LENGTHS = [1, 2, 4, 6] as const;

function uint(b: Uint8Array, i: number, len: number, bigEndian: boolean): number {
  let v = 0;
  for (let k = 0; k < len; k++) v = v * 256 + b[bigEndian ? i + k : i + len - 1 - k]!;
  return v;
}

/** Index after an ACK frame whose type byte is at i, or -1 when it runs past n. */
function skipAck(b: Uint8Array, i: number, n: number, version: number): number {
  const t = b[i]!;
  const ll = FIELD_LENGTHS[(t >> 2) & 3]!;
  const mm = FIELD_LENGTHS[t & 3]!;
  const more = (t & 0x20) !== 0;
  let p = i + 1;
  const byte = (): number => (p < n ? b[p++]! : -1);
  if (version < 34) {
    // entropy, largest observed, delay, timestamps, [NACK ranges, revived packets]
    p += 1 + ll + 2;
    const ts = byte();
    if (ts < 0) return -1;
    if (ts > 0) p += 1 + 4 + (ts - 1) * 3;
    if (more) {
      const ranges = byte();
      if (ranges < 0) return -1;
      p += ranges * (mm + 1);
      const revived = byte();
      if (revived < 0) return -1;
      p += revived * ll;
    }
  } else {
    // largest acked, delay, [block count], first block, blocks (gap + length), timestamps
    p += ll + 2;
    const blocks = more ? byte() : 0;
    if (blocks < 0) return -1;
    p += mm + blocks * (1 + mm);
    const ts = byte();
    if (ts < 0) return -1;
    if (ts > 0) p += 1 + 4 + (ts - 1) * 3;
  }
  return p <= n ? p : -1;
}

/**
 * Walk the frames in b[i, n) of a packet of gQUIC version `version` (nn of Q0nn, 50 for
 * Q050/T05x) whose packet number has `pnLen` bytes (0: unknown, STOP_WAITING stops the
 * walk). Calls `sink` for STREAM and CRYPTO data.
 */
export function walkFrames(b: Uint8Array, i: number, n: number, version: number, pnLen: number, sink: StreamSink): number {
  const be = version >= 39;
  while (i < n) {
    const t = b[i]!;
    if (t >= 0x80) {
      const idLen = (t & 3) + 1;
      const ooo = (t >> 2) & 7;
      const offLen = ooo === 0 ? 0 : ooo + 1;
      let p = i + 1;
      if (p + idLen + offLen + ((t & 0x20) !== 0 ? 2 : 0) > n) return FRAMES_MALFORMED;
      const stream = uint(b, p, idLen, be);
      p += idLen;
      const offset = uint(b, p, offLen, be);
      p += offLen;
      let end = n;
      if ((t & 0x20) !== 0) {
        end = p + 2 + uint(b, p, 2, be);
        p += 2;
        if (end > n) return FRAMES_MALFORMED;
      }
      if (!sink(stream, offset, b, p, end)) return FRAMES_OK;
      i = end;
    } else if (t >= 0x40) {
      i = skipAck(b, i, n, version);
      if (i < 0) return FRAMES_MALFORMED;
    } else if (t === 0x00) {
      i = paddingEnd(b, i, n); // PADDING (a run of zeros)
    } else if (t === 0x07) {
      i++; // PING
    } else if (t === 0x08 && version >= 48) {
      let p = i + 1;
      if (p >= n || p + varintLen(b[p]!) > n) return FRAMES_MALFORMED;
      const offset = varint(b, p);
      p += varintLen(b[p]!);
      if (p >= n || p + varintLen(b[p]!) > n) return FRAMES_MALFORMED;
      const end = p + varintLen(b[p]!) + varint(b, p);
      p += varintLen(b[p]!);
      if (end > n) return FRAMES_MALFORMED;
      if (!sink(CRYPTO_STREAM, offset, b, p, end)) return FRAMES_OK;
      i = end;
    } else if (t === 0x01 || t === 0x04 || t === 0x05) {
      i += t === 0x01 ? 17 : t === 0x04 ? 13 : 5;
      if (i > n) return FRAMES_MALFORMED;
    } else if (t === 0x03) {
      if (i + 11 > n) return FRAMES_MALFORMED;
      i += 11 + uint(b, i + 9, 2, be);
      if (i > n) return FRAMES_MALFORMED;
    } else if (t === 0x06 && pnLen > 0) {
      i += 1 + (version < 34 ? 1 : 0) + pnLen;
      if (i > n) return FRAMES_MALFORMED;
    } else {
      return t === 0x02 ? FRAMES_OK : FRAMES_STOP; // CONNECTION_CLOSE: nothing after it matters
    }
  }
  return FRAMES_OK;
}
