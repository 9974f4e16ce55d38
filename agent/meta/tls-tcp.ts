/**
 * TLS over TCP: reassemble the client's byte stream from its first hello byte, walk the
 * TLS records (a ClientHello may span several records and several segments, in any
 * order), and read the ServerHello from the start of a server segment.
 *
 * Where the stream starts:
 *   - after a SYN, at ISN+1: the first client byte must open a handshake record, else the
 *     flow starts in plaintext (STARTTLS, or not TLS at all) and we fall back to:
 *   - scanning: the first client segment that itself opens a ClientHello record
 *     (16 03 0x .. .. 01) anchors the stream. Flows first seen mid-handshake and STARTTLS
 *     upgrades work in order; a hello whose later segment arrives before its first one is
 *     only reassembled when the SYN was seen (otherwise we cannot place the segment).
 * Sequence numbers are compared modulo 2^32.
 *
 * The ServerHello is read from a single server segment that starts with its record: it is
 * ~100 bytes and leads the server's first flight. When it is not found, the metadata keeps
 * the highest version the client offered.
 */
import { HelloEngine, type HelloSink } from './engine.js';
import { parseServerHello, u24 } from './hello.js';
import { Reassembly } from './reassembly.js';

const SYN = 0x02;
const ACK = 0x10;
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_HELLO = 2;
/** Largest TLSPlaintext fragment (2^14) plus slack for broken stacks. */
const MAX_RECORD = 16384 + 2048;

/** 16 03 0x LL LL <type>: a handshake record opening with a message of `type`. */
function opensHello(p: Uint8Array, type: number): boolean {
  return p.length >= 6 && p[0] === HANDSHAKE && p[1] === 3 && p[2]! <= 4 && p[5] === type;
}

/** One TCP flow's hellos, both directions (see the module comment). */
export class TlsTcpReader extends HelloEngine {
  /** Which direction is the client; fixed by SYN/SYN-ACK or by who sends the ClientHello. */
  private clientDir: 0 | 1 = 0;
  private dirKnown = false;
  /** Sequence number of stream offset 0. */
  private base = 0;
  private baseKnown = false;
  /** The base came from a SYN, so the first byte is known to be the flow's first byte. */
  private baseFromSyn = false;
  /**
   * The stream's first segment held under 6 bytes, too few to tell a hello record: a split one
   * (DPI evasion, a header written apart), or another protocol whose first byte is 0x16. Until
   * the record and message headers are in, not being a hello is not an error: the reader scans.
   */
  private tentative = false;
  private stream: Reassembly | null = null;
  private readonly head = new Uint8Array(4);

  constructor(sink: HelloSink) {
    super(sink);
  }

  retained(): number {
    return this.stream?.retained ?? 0;
  }

  partial(): boolean {
    return this.hello === null && this.stream !== null && !this.stream.empty;
  }

  release(): void {
    this.stream = null;
  }

  segment(dir: 0 | 1, p: Uint8Array, seq: number, flags: number): void {
    if ((flags & SYN) !== 0) {
      this.syn(dir, seq, flags);
      if (p.length === 0) return;
      seq = (seq + 1) >>> 0; // data on a SYN (TCP Fast Open) starts after it
    }
    if (p.length === 0) return;
    if (!this.dirKnown) {
      // No handshake seen: whoever opens a hello tells us the roles.
      if (opensHello(p, CLIENT_HELLO)) this.setClient(dir);
      else if (opensHello(p, SERVER_HELLO)) this.setClient(dir === 0 ? 1 : 0);
    }
    if (dir === this.clientDir) {
      if (this.hello === null) this.clientData(p, seq);
    } else if (this.serverVersion === null) {
      this.serverData(p);
    }
  }

  /** A ServerHello from `dir` selected `version` (segment() reading it first would do this). */
  serverFirst(dir: 0 | 1, version: number): void {
    this.setClient(dir === 0 ? 1 : 0);
    this.serverVersion = version;
  }

  private setClient(dir: 0 | 1): void {
    this.clientDir = dir;
    this.dirKnown = true;
  }

  private syn(dir: 0 | 1, seq: number, flags: number): void {
    const isClient = (flags & ACK) === 0;
    if (!this.dirKnown) this.setClient(isClient ? dir : dir === 0 ? 1 : 0);
    if (isClient && dir === this.clientDir && this.stream === null && this.hello === null) {
      this.base = (seq + 1) >>> 0;
      this.baseKnown = true;
      this.baseFromSyn = true;
    }
  }

  private clientData(p: Uint8Array, seq: number): void {
    if (!this.baseKnown) {
      if (!opensHello(p, CLIENT_HELLO)) return;
      this.base = seq;
      this.baseKnown = true;
    }
    let rel = (seq - this.base) | 0;
    let from = 0;
    if (rel < 0) {
      from = -rel; // a retransmission that starts before the stream: keep its tail
      rel = 0;
      if (from >= p.length) return;
    }
    if (this.baseFromSyn && rel === 0 && p[from] !== HANDSHAKE) return this.unanchor(); // the flow opens in plaintext
    if (this.stream === null && this.baseFromSyn && rel === 0 && p.length - from < 6) this.tentative = true;
    const stream = (this.stream ??= new Reassembly(this.sink.limits.max_buffer));
    if (!stream.insert(rel, p, from)) return this.fail('reassembly-overflow');
    this.tryParse(stream);
    // The stream's short start proved not to be a hello's: this segment may open one itself.
    if (!this.baseKnown && opensHello(p, CLIENT_HELLO)) this.clientData(p, seq);
  }

  /** Not a hello after all: an error, unless the stream began too short to tell (then scan, as for plaintext). */
  private notHello(): void {
    if (!this.tentative) return this.fail('tls-malformed');
    this.tentative = false;
    this.unanchor();
  }

  /** The stream does not start at its base after all: wait for a segment that opens a ClientHello. */
  private unanchor(): void {
    this.baseKnown = false;
    this.baseFromSyn = false;
    this.stream = null;
  }

  /** Walk the complete records of the contiguous prefix; parse once the whole message is in. */
  private tryParse(stream: Reassembly): void {
    const b = stream.bytes();
    const n = stream.contiguous;
    let pos = 0;
    let have = 0; // handshake bytes in complete or partial records so far
    let need = -1; // 4 + message length, once the message header is in
    let firstStart = -1;
    let firstLen = 0;
    // The message header, gathered over records: RFC 8446 5.1 lets a handshake message, its
    // header too, split across records at any byte (found by review: zapret's tlsrec does).
    const head = this.head;
    let headN = 0;
    if (this.tentative) {
      // Each byte of a ClientHello record's header, as it comes: 16 03 0x LL LL 01.
      if (b[0] !== HANDSHAKE || (n >= 2 && b[1] !== 3) || (n >= 3 && b[2]! > 4) || (n >= 6 && b[5] !== CLIENT_HELLO)) return this.notHello();
      if (n >= 6) this.tentative = false;
    }
    while (pos + 5 <= n) {
      if (b[pos] !== HANDSHAKE || b[pos + 1] !== 3) return this.notHello();
      const len = (b[pos + 3]! << 8) | b[pos + 4]!;
      if (len === 0 || len > MAX_RECORD) return this.notHello();
      const start = pos + 5;
      const avail = Math.min(len, n - start);
      if (firstStart < 0) {
        firstStart = start;
        firstLen = len;
      }
      for (let i = 0; i < avail && headN < 4; i++) head[headN++] = b[start + i]!;
      have += avail;
      if (need < 0 && headN === 4) {
        if (head[0] !== CLIENT_HELLO) return this.fail('tls-malformed');
        need = 4 + u24(head, 1);
        if (need > this.sink.limits.max_buffer) return this.fail('reassembly-overflow');
      }
      if (need >= 0 && have >= need) return this.parse(b, n, firstStart, firstLen, need);
      if (avail < len) break; // wait for the rest of this record
      pos = start + len;
    }
    // Bytes past max_buffer are dropped, so a full prefix without the message never completes.
    if (n >= this.sink.limits.max_buffer) this.fail('reassembly-overflow');
  }

  private parse(b: Uint8Array, n: number, firstStart: number, firstLen: number, need: number): void {
    let msg = b;
    let start = firstStart;
    if (firstLen < need) {
      // The message spans records: gather the record bodies into one buffer.
      msg = new Uint8Array(need);
      let got = 0;
      let pos = 0;
      while (got < need && pos + 5 <= n) {
        const len = (b[pos + 3]! << 8) | b[pos + 4]!;
        const take = Math.min(len, need - got, n - pos - 5);
        msg.set(b.subarray(pos + 5, pos + 5 + take), got);
        got += take;
        pos += 5 + len;
      }
      start = 0;
    }
    if (!this.readHello(msg, start + 4, start + need, 't')) return this.fail('tls-malformed');
    this.release();
  }

  private serverData(p: Uint8Array): void {
    if (!opensHello(p, SERVER_HELLO)) return;
    const recEnd = 5 + ((p[3]! << 8) | p[4]!);
    const msgEnd = 9 + u24(p, 6);
    if (msgEnd > recEnd || msgEnd > p.length) return; // split ServerHello: keep the offered version
    const v = parseServerHello(p, 9, msgEnd);
    if (v === null) this.sink.report('tls-malformed');
    else this.serverVersion = v;
  }
}
