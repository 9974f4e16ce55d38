/**
 * DTLS (RFC 6347 4.1-4.2, RFC 9147 4-5): plaintext handshake records of epoch 0 carry the
 * ClientHello, possibly fragmented (fragment_offset/fragment_length) across records and
 * datagrams. Every record of a datagram is walked; ClientHello fragments are reassembled
 * by offset up to max_buffer. A client that repeats its ClientHello with a cookie after a
 * HelloVerifyRequest sends the same fields, so the first complete one is kept. The
 * ServerHello is read when it arrives unfragmented.
 */
import { HelloEngine, type HelloSink } from './engine.js';
import { parseServerHello, u24 } from './hello.js';
import { Reassembly } from './reassembly.js';

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
const RECORD_HEADER = 13;
const FRAGMENT_HEADER = 12;

/** Record versions: DTLS 1.0-1.3 are 0xfeff-0xfefc; 0x0100 is OpenSSL's pre-RFC DTLS 1.0 (Cisco AnyConnect). */
function dtlsRecordVersion(p: Uint8Array, i: number): boolean {
  return (p[i] === 0xfe && p[i + 1]! >= 0xfc) || (p[i] === 0x01 && p[i + 1] === 0x00);
}

/** A DTLS plaintext handshake record. */
export function looksLikeDtls(p: Uint8Array): boolean {
  return p.length >= RECORD_HEADER + FRAGMENT_HEADER && p[0] === HANDSHAKE && dtlsRecordVersion(p, 1);
}

/** One UDP flow's DTLS hellos, both directions (see the module comment). */
export class DtlsReader extends HelloEngine {
  private clientDir: 0 | 1 | -1 = -1;
  private fragments: Reassembly | null = null;
  /** message_seq and length of the ClientHello being reassembled. */
  private fragSeq = -1;
  private fragLength = 0;

  constructor(sink: HelloSink) {
    super(sink);
  }

  retained(): number {
    return this.fragments?.retained ?? 0;
  }

  partial(): boolean {
    return this.hello === null && this.fragments !== null && !this.fragments.empty;
  }

  release(): void {
    this.fragments = null;
  }

  datagram(dir: 0 | 1, p: Uint8Array): void {
    let pos = 0;
    while (pos + RECORD_HEADER <= p.length && !this.failed) {
      if (!dtlsRecordVersion(p, pos + 1)) return; // not a plaintext DTLS record (or a DTLS 1.3 ciphertext)
      const len = (p[pos + 11]! << 8) | p[pos + 12]!;
      const end = pos + RECORD_HEADER + len;
      if (end > p.length) return this.sink.report('dtls-malformed');
      const epoch = (p[pos + 3]! << 8) | p[pos + 4]!;
      if (p[pos] === HANDSHAKE && epoch === 0) this.handshake(dir, p, pos + RECORD_HEADER, end);
      pos = end;
    }
  }

  private handshake(dir: 0 | 1, p: Uint8Array, s: number, e: number): void {
    while (s + FRAGMENT_HEADER <= e && !this.failed) {
      const type = p[s]!;
      const length = u24(p, s + 1);
      const msgSeq = (p[s + 4]! << 8) | p[s + 5]!;
      const fragOff = u24(p, s + 6);
      const fragLen = u24(p, s + 9);
      const body = s + FRAGMENT_HEADER;
      if (body + fragLen > e || fragOff + fragLen > length) return this.sink.report('dtls-malformed');
      if (type === CLIENT_HELLO && this.hello === null && (this.clientDir === -1 || dir === this.clientDir)) {
        this.clientDir = dir;
        this.clientFragment(p, body, fragOff, fragLen, length, msgSeq);
      } else if (type === SERVER_HELLO && this.serverVersion === null && fragOff === 0 && fragLen === length) {
        const v = parseServerHello(p, body, body + length);
        if (v === null) this.sink.report('tls-malformed');
        else this.serverVersion = v;
      }
      s = body + fragLen;
    }
  }

  private clientFragment(p: Uint8Array, body: number, fragOff: number, fragLen: number, length: number, msgSeq: number): void {
    if (fragOff === 0 && fragLen === length) return this.parse(p, body, body + length);
    const limit = this.sink.limits.max_buffer;
    if (length > limit) return this.fail('reassembly-overflow');
    if (msgSeq !== this.fragSeq || length !== this.fragLength) {
      this.fragments = null; // a new ClientHello (e.g. the one with the cookie): start over
      this.fragSeq = msgSeq;
      this.fragLength = length;
    }
    const frags = (this.fragments ??= new Reassembly(limit));
    if (!frags.insert(fragOff, p, body, body + fragLen)) return this.fail('reassembly-overflow');
    if (frags.contiguous >= length) this.parse(frags.bytes(), 0, length);
  }

  private parse(b: Uint8Array, s: number, e: number): void {
    if (!this.readHello(b, s, e, 'd')) return this.fail('tls-malformed');
    this.release();
  }
}
