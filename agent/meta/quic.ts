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
 * from the server's CRYPTO data at offset 0, only when the ClientHello did not offer TLS 1.3
 * (see `finished`).
 *
 * Google's Q050 and T050/T051 Initials are protected the same way (quic-keys.ts) but hold
 * frames in Google's encoding (gquic-frames.ts); T05x's CRYPTO stream carries TLS as
 * above, Q050's a gQUIC CHLO (chlo.ts), which ends the inspection (no ServerHello).
 *
 * Cost: an AES-ECB block and an AES-GCM open per Initial packet, only for datagrams whose
 * first byte and version match a known QUIC long header.
 */
import { ChloStream } from './chlo.js';
import { HelloEngine, type HelloSink } from './engine.js';
import { CRYPTO_STREAM, FRAMES_MALFORMED, walkFrames, type StreamSink } from './gquic-frames.js';
import { parseServerHello, u24 } from './hello.js';
import { initialKeys, quicVersion, quicVersionName } from './quic-keys.js';
import {
  MALFORMED, openProtected, paddingEnd, readLongHeader, SAMPLE, skipVarints, STOP, varint, varintLen, type LongHeader, type Side,
} from './quic-packet.js';
import { Reassembly } from './reassembly.js';

const CLIENT_HELLO = 1;
const TLS13 = 0x0304;
const SERVER_HELLO = 2;
/** Google's frame encoding as Q050 and T05x use it (gquic-frames.ts). */
const GOOGLE_FRAMES_VERSION = 50;

/** Whether a datagram opens with a long-header packet of a version we can read. */
export function looksLikeQuic(p: Uint8Array): boolean {
  if (p.length < 7 || (p[0]! & 0x80) === 0) return false;
  return quicVersion(((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0) !== null;
}

/** One QUIC flow's Initial packets, both directions (see the module comment). */
export class QuicReader extends HelloEngine {
  private clientDir: 0 | 1 | -1 = -1;
  /** The DCID Initial keys derive from (client's first, or the one after a Retry). */
  private dcid: Uint8Array | null = null;
  private client: Side | null = null;
  private server: Side | null = null;
  private crypto: Reassembly | null = null;
  /** Q050: the client's CRYPTO stream holds a CHLO. */
  private chloStream: ChloStream | null = null;
  private decryptReported = false;
  private readonly header: LongHeader = { ver: null, wire: 0, initial: false, dcidLen: 0, pnOff: 0, end: 0 };
  /** Direction of the Google-encoded frames being walked (the sink below needs it). */
  private walkingClient = false;
  private readonly onGoogleData: StreamSink = (id, offset, b, s, e) => {
    if (id === CRYPTO_STREAM) this.cryptoData(offset, b, s, e, this.walkingClient);
    return !this.failed;
  };

  constructor(sink: HelloSink) {
    super(sink);
  }

  /**
   * Done at a ClientHello offering TLS 1.3, without waiting for the server: QUIC negotiates only
   * TLS 1.3 (RFC 9001 4.2: a client must not offer less, an endpoint aborts on less), so the
   * ServerHello could only repeat that version. Reading it cost a key derivation, a decryption
   * and a frame walk per QUIC flow for a field already known.
   */
  override get finished(): boolean {
    return super.finished || (this.hello !== null && this.hello.highest === TLS13);
  }

  retained(): number {
    return (this.crypto?.retained ?? 0) + (this.chloStream?.retained ?? 0);
  }

  partial(): boolean {
    return (this.hello === null && this.crypto !== null && !this.crypto.empty) || (this.chloStream?.partial ?? false);
  }

  release(): void {
    this.crypto = null;
    this.chloStream?.release();
  }

  datagram(dir: 0 | 1, p: Uint8Array): void {
    const h = this.header;
    let off = 0;
    while (off + 7 <= p.length && (p[off]! & 0x80) !== 0 && !this.failed) {
      const status = readLongHeader(p, off, h);
      if (status === STOP) return;
      if (status === MALFORMED) return this.malformed();
      if (h.initial) this.initial(dir, p, off, h, p.subarray(off + 6, off + 6 + h.dcidLen));
      off = h.end;
    }
  }

  private malformed(): void {
    this.sink.report('quic-malformed');
  }

  private initial(dir: 0 | 1, p: Uint8Array, off: number, h: LongHeader, dcid: Uint8Array): void {
    const { pnOff, end } = h;
    const ver = h.ver!;
    if (pnOff + 4 + SAMPLE > end) return this.malformed();
    const fromClient = this.clientDir === -1 || dir === this.clientDir;
    if (fromClient ? this.hello !== null || this.chlo !== null : this.serverVersion !== null) return;
    let plain: Buffer | null = null;
    let side: Side | null = null;
    if (fromClient) {
      side = this.client;
      if (side !== null && side.ver === ver) plain = openProtected(p, off, pnOff, end, side);
      if (plain === null && (this.dcid === null || !sameBytes(this.dcid, dcid) || side?.ver !== ver)) {
        side = { keys: initialKeys(ver, dcid, false), ver, largestPn: -1 };
        plain = openProtected(p, off, pnOff, end, side);
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
      plain = openProtected(p, off, pnOff, end, side);
    }
    if (plain === null) {
      if (!this.decryptReported) this.sink.report('quic-decrypt-failed');
      this.decryptReported = true;
      return;
    }
    if (fromClient && this.quicVersion === null) {
      this.quicVersion = quicVersionName(h.wire);
      this.quicWire = h.wire;
    }
    if (ver.frames === 'ietf') return this.frames(plain, fromClient);
    this.walkingClient = fromClient;
    if (walkFrames(plain, 0, plain.length, GOOGLE_FRAMES_VERSION, 0, this.onGoogleData) === FRAMES_MALFORMED) {
      this.sink.report('gquic-malformed');
    }
  }

  private frames(b: Buffer, fromClient: boolean): void {
    let i = 0;
    const n = b.length;
    while (i < n) {
      const t = b[i]!;
      if (t === 0x00) { i = paddingEnd(b, i, n); continue; } // PADDING
      if (t === 0x01) { i++; continue; } // PING
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
        // Once this side's hello is read the rest is ACKs and PADDING (a client Initial is padded
        // to 1,200 bytes): walking it byte by byte was a fifth of a QUIC flow's cost.
        if (this.failed || (fromClient ? this.hello !== null : this.serverVersion !== null)) return;
        i += len;
        continue;
      }
      if (t === 0x1c) return; // CONNECTION_CLOSE: nothing after it matters to us
      return this.malformed(); // no other frame may appear in an Initial packet
    }
  }

  private cryptoData(offset: number, b: Uint8Array, s: number, e: number, fromClient: boolean): void {
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
    if (this.hello !== null || this.chlo !== null) return;
    const limit = this.sink.limits.max_buffer;
    if (this.client?.ver.handshake === 'chlo') return this.chloData((this.chloStream ??= new ChloStream(limit)), offset, b, s, e);
    // The usual case, a whole ClientHello in the first CRYPTO frame: read it where it is instead
    // of copying it into the reassembly buffer first.
    if (this.crypto === null && offset === 0 && e - s >= 4 && this.helloAt(b, s, e - s, limit)) return;
    const stream = (this.crypto ??= new Reassembly(limit));
    if (!stream.insert(offset, b, s, e)) return this.fail('reassembly-overflow');
    if (stream.contiguous >= 4 && this.helloAt(stream.bytes(), 0, stream.contiguous, limit)) this.release();
  }

  /**
   * The CRYPTO stream's start at m[start, start + have) (have >= 4): the ClientHello read, or the
   * stream given up on, and true; false when more bytes are needed.
   */
  private helloAt(m: Uint8Array, start: number, have: number, limit: number): boolean {
    if (m[start] !== CLIENT_HELLO) {
      this.fail('tls-malformed');
      return true;
    }
    const need = 4 + u24(m, start + 1);
    if (need > limit) {
      this.fail('reassembly-overflow');
      return true;
    }
    if (have < need) return false;
    if (!this.readHello(m, start + 4, start + need, 'q')) this.fail('tls-malformed');
    return true;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
