/**
 * What the hello readers (TLS over TCP, QUIC, gQUIC, DTLS) share: the findings, the
 * failure state and the error sink. A reader is created on the first packet that looks
 * like its protocol and lives until the inspector is done.
 */
import { DONE, MALFORMED, OVERFLOW, type Chlo, type ChloStream } from './chlo.js';
import type { MetaLimits } from './config.js';
import { parseClientHello, type ClientHello } from './hello.js';
import { helloSummary, type HelloSummary } from './hello-native.js';
import type { Ja4Protocol } from './ja4.js';
import type { MetaReason } from './types.js';

export interface HelloSink {
  readonly limits: MetaLimits;
  report(reason: MetaReason): void;
}

const copyOf = (b: Uint8Array, start: number, end: number): Uint8Array => Uint8Array.prototype.slice.call(b, start, end);

export abstract class HelloEngine {
  /** What the metadata takes from the ClientHello (parsed and fingerprinted in C, see readHello). */
  hello: HelloSummary | null = null;
  /** The version the ServerHello selected. */
  serverVersion: number | null = null;
  /** The gQUIC client hello, for versions that send one instead of a TLS ClientHello. */
  chlo: Chlo | null = null;
  /** QUIC readers: the client's version on the wire ("v1", "Q043", see quicVersionName). */
  quicVersion: string | null = null;
  /** The same as a number (quicVersionName(quicWire) is quicVersion); 0 while quicVersion is null. */
  quicWire = 0;
  /** Gave up (malformed, overflow): nothing more will be found. */
  failed = false;

  /** Diagnostics: a copy of the ClientHello body `hello` came from, and the JA4 protocol it was read with. */
  helloBody: Uint8Array | null = null;
  helloProto: Ja4Protocol = 't';

  constructor(protected readonly sink: HelloSink) {}

  /**
   * The ClientHello parsed by the JavaScript reference parser, for diagnostics and comparisons
   * with other tools: parsed again on each call, off the per-flow path.
   */
  clientHello(): ClientHello | null {
    const b = this.helloBody;
    return b === null ? null : parseClientHello(b, 0, b.length, this.helloProto === 'd');
  }

  /** Read the ClientHello body b[start, end) into `hello` (JA4 for `proto`, DTLS fields when 'd'); false when malformed. */
  protected readHello(b: Uint8Array, start: number, end: number, proto: Ja4Protocol): boolean {
    const hello = helloSummary(b, start, end, proto === 'd', proto);
    if (hello === null) return false;
    this.hello = hello;
    this.helloProto = proto;
    // A copy (b may be a Buffer, whose slice is a view of bytes about to be reused): a few hundred
    // bytes per inspected flow, cheaper than the per-flow JavaScript parse it replaces.
    this.helloBody = copyOf(b, start, end);
    return true;
  }

  /** Nothing more to learn: both hellos read, a CHLO read (it has no server-side counterpart we use), or gave up. */
  get finished(): boolean {
    return this.failed || this.chlo !== null || (this.hello !== null && this.serverVersion !== null);
  }

  /** Bytes held for reassembly. */
  abstract retained(): number;
  /** Part of a ClientHello is buffered (for the hello-incomplete count at give-up). */
  abstract partial(): boolean;
  /** Free every buffer; called when the hello is parsed and when the inspector is done. */
  abstract release(): void;

  protected fail(reason: MetaReason): void {
    this.failed = true;
    this.sink.report(reason);
    this.release();
  }

  /** Google QUIC (Q0xx over its own framing, Q050/T05x inside IETF Initials): CHLO stream bytes. */
  protected chloData(stream: ChloStream, offset: number, b: Uint8Array, s: number, e: number): void {
    const r = stream.add(offset, b, s, e);
    if (r === DONE) {
      this.chlo = stream.chlo;
      this.release();
    } else if (r === OVERFLOW) {
      this.fail('reassembly-overflow');
    } else if (r === MALFORMED) {
      this.fail('gquic-malformed');
    }
  }
}
