/**
 * On-disk layout of the buffer. A buffer directory holds:
 *   <base>.seg   append-only segments; <base> is the sequence number of the first record,
 *                zero-padded to 16 digits so names sort in order
 *   position     the consumer position (first unacknowledged sequence), replaced atomically
 *   lock         pid of the process that owns the directory
 *
 * A record is framed as [u32 LE length][u32 LE crc32(length bytes ++ payload)][payload].
 * The checksum covers the length so a torn or zero-filled tail (what a crash or power loss
 * leaves) never parses as a valid record; length 0 is invalid for the same reason.
 */
import { crc32 } from './crc32.js';

export const HEADER_BYTES = 8;
/** Larger records are refused (counted as too_large): one flow record is a few hundred bytes. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const SEGMENT_RE = /^(\d{16})\.seg$/;

export function segmentName(base: number): string {
  return `${String(base).padStart(16, '0')}.seg`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Writes the 8-byte header for `payload` into `out` at `at`. */
export function writeHeader(out: Buffer, at: number, payload: Uint8Array): void {
  out.writeUInt32LE(payload.length, at);
  out.writeUInt32LE(crc32(payload, crc32(out.subarray(at, at + 4))), at + 4);
}

export type Frame =
  | { readonly kind: 'ok'; readonly length: number }
  | { readonly kind: 'partial'; readonly need: number }
  | { readonly kind: 'bad' };

/**
 * Decodes the frame starting at `at` in `buf[0..end)`. `partial` means the bytes
 * end before the frame does (read more, or it is a torn tail); `bad` means the length
 * is impossible or the checksum does not match.
 */
export function decodeFrame(buf: Buffer, at: number, end: number): Frame {
  if (end - at < HEADER_BYTES) return { kind: 'partial', need: HEADER_BYTES };
  const length = buf.readUInt32LE(at);
  if (length === 0 || length > MAX_RECORD_BYTES) return { kind: 'bad' };
  if (end - at < HEADER_BYTES + length) return { kind: 'partial', need: HEADER_BYTES + length };
  const sum = crc32(buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length), crc32(buf.subarray(at, at + 4)));
  return sum === buf.readUInt32LE(at + 4) ? { kind: 'ok', length } : { kind: 'bad' };
}
