/**
 * QUIC: decrypt Initial packets (RFC 9001 5) and read the TLS hellos from their CRYPTO
 * frames.
 *
 * Per datagram, every coalesced long-header packet is walked by its Length field; only
 * Initial packets are opened, 0-RTT and Handshake packets are skipped, a short-header
 * packet ends the datagram. The first Initial that decrypts with client keys derived
 * from its own DCID names the client direction and fixes the DCID that both sides' Initial
 * keys come from (a client Initial that fails with those keys is retried with keys from
 * its own DCID: that is the Retry case). CRYPTO frames of the client, in any order and
 * across any number of Initials, are reassembled up to max_buffer; the ServerHello is read
 * from the server's CRYPTO data at offset 0.
 *
 * Cost: an AES-ECB block and an AES-GCM open per Initial packet, only for datagrams whose
 * first byte and version match a known QUIC long header.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { HelloEngine, type HelloSink } from './engine.js';
import { parseClientHello, parseServerHello, u24 } from './hello.js';
import { initialKeys, quicVersion, type InitialKeys, type QuicVersion } from './quic-keys.js';
import { Reassembly } from './reassembly.js';

const MAX_CID = 20;
const TAG = 16;
const SAMPLE = 16;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;

/** Whether a datagram opens with a long-header packet of a version we can read. */
export function looksLikeQuic(p: Uint8Array): boolean {
  if (p.length < 7 || (p[0]! & 0x80) === 0) return false;
  return quicVersion(((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0) !== null;
}

function varintLen(first: number): number {
  return 1 << (first >> 6);
}

/** The varint at `i` (caller checks `i + varintLen(b[i]) <= end`); exact below 2^53. */
function varint(b: Uint8Array, i: number): number {
  const len = varintLen(b[i]!);
  let v = b[i]! & 0x3f;
  for (let k = 1; k < len; k++) v = v * 256 + b[i + k]!;
  return v;
}

/** RFC 9000 A.3: the full packet number nearest to the next expected one. */
function decodePn(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const half = win / 2;
  const candidate = (expected - (expected % win)) + truncated;
  if (candidate <= expected - half && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

interface Side {
  keys: InitialKeys;
  ver: QuicVersion;
  largestPn: number;
}

export class QuicReader extends HelloEngine {
  private clientDir: 0 | 1 | -1 = -1;
  /** The DCID Initial keys derive from (client's first, or the one after a Retry). */
  private dcid: Uint8Array | null = null;
  private client: Side | null = null;
  private server: Side | null = null;
  private crypto: Reassembly | null = null;
  private decryptReported = false;
  private readonly header: LongHeader = { ver: null, initial: false, dcidLen: 0, pnOff: 0, end: 0 };

  constructor(sink: HelloSink) {
    super(sink);
  }

  retained(): number {
    return this.crypto?.retained ?? 0;
  }

  partial(): boolean {
    return this.hello === null && this.crypto !== null && !this.crypto.empty;
  }

  release(): void {
    this.crypto = null;
  }

  datagram(dir: 0 | 1, p: Uint8Array): void {
    const h = this.header;
    let off = 0;
    while (off + 7 <= p.length && (p[off]! & 0x80) !== 0 && !this.failed) {
      const status = readLongHeader(p, off, h);
      if (status === STOP) return;
      if (status === MALFORMED) return this.malformed();
      if (h.initial) this.initial(dir, p, off, h.pnOff, h.end, h.ver!, p.subarray(off + 6, off + 6 + h.dcidLen));
      off = h.end;
    }
  }

  private malformed(): void {
    this.sink.report('quic-malformed');
  }

  private initial(dir: 0 | 1, p: Uint8Array, off: number, pnOff: number, end: number, ver: QuicVersion, dcid: Uint8Array): void {
    if (pnOff + 4 + SAMPLE > end) return this.malformed();
    const fromClient = this.clientDir === -1 || dir === this.clientDir;
    if (fromClient ? this.hello !== null : this.serverVersion !== null) return;
    let plain: Buffer | null = null;
    let side: Side | null = null;
    if (fromClient) {
      side = this.client;
      if (side !== null && side.ver === ver) plain = open(p, off, pnOff, end, side);
      if (plain === null && (this.dcid === null || !sameBytes(this.dcid, dcid) || side?.ver !== ver)) {
        side = { keys: initialKeys(ver, dcid, false), ver, largestPn: -1 };
        plain = open(p, off, pnOff, end, side);
        if (plain !== null) {
          this.client = side;
          this.dcid = Uint8Array.from(dcid);
          this.clientDir = dir;
          this.server = null; // server keys follow the (new) DCID
        }
      }
    } else if (this.dcid !== null) {
      side = this.server;
      if (side === null || side.ver !== ver) side = this.server = { keys: initialKeys(ver, this.dcid, true), ver, largestPn: -1 };
      plain = open(p, off, pnOff, end, side);
    }
    if (plain === null) {
      if (!this.decryptReported) this.sink.report('quic-decrypt-failed');
      this.decryptReported = true;
      return;
    }
    this.frames(plain, fromClient);
  }

  private frames(b: Buffer, fromClient: boolean): void {
    let i = 0;
    const n = b.length;
    while (i < n) {
      const t = b[i]!;
      if (t === 0x00 || t === 0x01) { i++; continue; } // PADDING, PING
      if (t === 0x02 || t === 0x03) {
        // ACK: largest, delay, range count, first range, (gap, length) per range [, 3 ECN counts]
        i = skipVarints(b, i + 1, 2);
        if (i < 0 || i >= n || i + varintLen(b[i]!) > n) return this.malformed();
        const ranges = varint(b, i);
        i = skipVarints(b, i, 2 + 2 * Math.min(ranges, n) + (t === 0x03 ? 3 : 0));
        if (i < 0) return this.malformed();
        continue;
      }
      if (t === 0x06) {
        i++;
        if (i >= n || i + varintLen(b[i]!) > n) return this.malformed();
        const offset = varint(b, i);
        i += varintLen(b[i]!);
        if (i >= n || i + varintLen(b[i]!) > n) return this.malformed();
        const len = varint(b, i);
        i += varintLen(b[i]!);
        if (i + len > n) return this.malformed();
        this.cryptoData(offset, b, i, i + len, fromClient);
        if (this.failed) return;
        i += len;
        continue;
      }
      if (t === 0x1c) return; // CONNECTION_CLOSE: nothing after it matters to us
      return this.malformed(); // no other frame may appear in an Initial packet
    }
  }

  private cryptoData(offset: number, b: Buffer, s: number, e: number, fromClient: boolean): void {
    if (!fromClient) {
      // The ServerHello opens the server's CRYPTO stream and fits one frame in practice.
      if (offset !== 0 || this.serverVersion !== null || e - s < 4 || b[s] !== SERVER_HELLO) return;
      const msgEnd = s + 4 + u24(b, s + 1);
      if (msgEnd > e) return;
      const v = parseServerHello(b, s + 4, msgEnd);
      if (v === null) this.sink.report('tls-malformed');
      else this.serverVersion = v;
      return;
    }
    if (this.hello !== null) return;
    const limit = this.sink.limits.max_buffer;
    const stream = (this.crypto ??= new Reassembly(limit));
    if (!stream.insert(offset, b, s, e)) return this.fail('reassembly-overflow');
    const n = stream.contiguous;
    if (n < 4) return;
    const m = stream.bytes();
    if (m[0] !== CLIENT_HELLO) return this.fail('tls-malformed');
    const need = 4 + u24(m, 1);
    if (need > limit) return this.fail('reassembly-overflow');
    if (n < need) return;
    const hello = parseClientHello(m, 4, need, false);
    if (hello === null) return this.fail('tls-malformed');
    this.hello = hello;
    this.release();
  }
}

/** One long-header packet's layout (RFC 9000 17.2), filled in place to avoid allocation. */
export interface LongHeader {
  ver: QuicVersion | null;
  initial: boolean;
  dcidLen: number;
  /** Offset of the (protected) packet number. */
  pnOff: number;
  /** End of this packet within the datagram (start of the next coalesced one). */
  end: number;
}

const OK = 0;
const STOP = 1;
const MALFORMED = 2;

/**
 * Read the long header at `off` into `h`. STOP: a packet we cannot or need not walk past
 * (version negotiation, unknown version, Retry); MALFORMED: lengths do not fit.
 */
export function readLongHeader(p: Uint8Array, off: number, h: LongHeader): number {
  if (off + 7 > p.length) return MALFORMED;
  const ver = quicVersion(((p[off + 1]! << 24) | (p[off + 2]! << 16) | (p[off + 3]! << 8) | p[off + 4]!) >>> 0);
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
  const h: LongHeader = { ver: null, initial: false, dcidLen: 0, pnOff: 0, end: 0 };
  if (readLongHeader(p, 0, h) !== OK || !h.initial || h.pnOff + 4 + SAMPLE > h.end) return null;
  const side: Side = { keys, ver: h.ver!, largestPn: -1 };
  const frames = open(p, 0, h.pnOff, h.end, side);
  return frames === null ? null : { frames, pn: side.largestPn };
}

/** Index after `count` varints from `i`, or -1 when they run past the end. */
function skipVarints(b: Uint8Array, i: number, count: number): number {
  for (let k = 0; k < count; k++) {
    if (i >= b.length) return -1;
    i += varintLen(b[i]!);
  }
  return i <= b.length ? i : -1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Remove header protection and open the AEAD. Returns the plaintext frames, or null when
 * authentication fails. The input is never modified: the unmasked header is a copy.
 */
function open(p: Uint8Array, off: number, pnOff: number, end: number, side: Side): Buffer | null {
  const ecb = createCipheriv('aes-128-ecb', side.keys.hp, null);
  const mask = ecb.update(p.subarray(pnOff + 4, pnOff + 4 + SAMPLE));
  const first = p[off]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 0x03) + 1;
  const hdrEnd = pnOff + pnLen;
  if (hdrEnd + TAG > end) return null;
  const header = Buffer.from(p.subarray(off, hdrEnd));
  header[0] = first;
  let truncated = 0;
  for (let k = 0; k < pnLen; k++) {
    const byte = header[pnOff - off + k]! ^ mask[1 + k]!;
    header[pnOff - off + k] = byte;
    truncated = truncated * 256 + byte;
  }
  const pn = decodePn(side.largestPn, truncated, pnLen * 8);
  const nonce = Buffer.from(side.keys.iv);
  for (let k = 0; k < 8; k++) nonce[11 - k] = nonce[11 - k]! ^ (Math.floor(pn / 2 ** (8 * k)) & 0xff);
  const gcm = createDecipheriv('aes-128-gcm', side.keys.key, nonce, { authTagLength: TAG });
  gcm.setAAD(header);
  gcm.setAuthTag(p.subarray(end - TAG, end));
  const out = gcm.update(p.subarray(hdrEnd, end - TAG));
  try {
    gcm.final(); // the only way node reports a failed tag; reached once per bad Initial
  } catch {
    return null;
  }
  if (pn > side.largestPn) side.largestPn = pn;
  return out;
}
