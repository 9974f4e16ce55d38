/**
 * What the hello readers (TLS over TCP, QUIC, gQUIC, DTLS) share: the findings, the
 * failure state and the error sink. A reader is created on the first packet that looks
 * like its protocol and lives until the inspector is done.
 */
import { DONE, MALFORMED, OVERFLOW, type Chlo, type ChloStream } from './chlo.js';
import type { MetaLimits } from './config.js';
import type { ClientHello } from './hello.js';
import type { MetaReason } from './types.js';

export interface HelloSink {
  readonly limits: MetaLimits;
  report(reason: MetaReason): void;
}

export abstract class HelloEngine {
  hello: ClientHello | null = null;
  /** The version the ServerHello selected. */
  serverVersion: number | null = null;
  /** The gQUIC client hello, for versions that send one instead of a TLS ClientHello. */
  chlo: Chlo | null = null;
  /** QUIC readers: the client's version on the wire ("v1", "Q043", see quicVersionName). */
  quicVersion: string | null = null;
  /** Gave up (malformed, overflow): nothing more will be found. */
  failed = false;

  constructor(protected readonly sink: HelloSink) {}

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
