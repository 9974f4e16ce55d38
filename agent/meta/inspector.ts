/**
 * One flow's inspector: picks the reader from the first packet that looks like a hello,
 * enforces the packet budget, and turns the findings into HandshakeMeta.
 */
import type { MetaLimits } from './config.js';
import { handshakeMeta } from './meta-object.js';
import { HeldMeta, packMeta } from './held-meta.js';
import { DtlsReader, looksLikeDtls } from './dtls.js';
import type { HelloEngine, HelloSink } from './engine.js';
import { GquicReader, looksLikeGquic } from './gquic.js';
import { versionName, type ClientHello } from './hello.js';
import type { HelloSummary } from './hello-native.js';
import type { Ja4Protocol } from './ja4.js';
import { looksLikeQuic, QuicReader } from './quic.js';
import { TlsTcpReader } from './tls-tcp.js';
import type { HandshakeInspector, HandshakeMeta, HandshakeTransport, MetaErrorSink, MetaReason } from './types.js';

const TCP = 6;
const UDP = 17;
/** Control packets (no payload) cost a few comparisons; they only count towards this multiple of max_packets. */
const CONTROL_PACKET_FACTOR = 4;

/** The metadata of a flow in which nothing was found (all fields null, no ALPN). */
export const EMPTY_META: HandshakeMeta = handshakeMeta(null, Object.freeze([]) as readonly string[], null, null, null, undefined);

/** One bit per reason: a flow reports each at most once (dtls_watch.c records them so too). */
export const REASON_BITS: Readonly<Record<MetaReason, number>> = {
  'tls-malformed': 1,
  'dtls-malformed': 2,
  'quic-malformed': 4,
  'quic-decrypt-failed': 8,
  'reassembly-overflow': 16,
  'hello-incomplete': 32,
  'internal-error': 64,
  'gquic-malformed': 128,
};

/** The HandshakeInspector behind createInspector (index.ts). */
export class Inspector implements HandshakeInspector, HelloSink {
  private engine: TlsTcpReader | QuicReader | GquicReader | DtlsReader | null = null;
  private transport: HandshakeTransport | null = null;
  private packets = 0;
  private payloadPackets = 0;
  private done = false;
  private reported = 0;
  private meta: HandshakeMeta = EMPTY_META;
  private metaHello: HelloSummary | null = null;
  private metaServer: number | null = null;
  private metaChlo: HelloEngine['chlo'] = null;
  /** The version number whose name meta.tlsVersion shows, and the QUIC version on the wire (0: none), for packed(). */
  private metaVersion: number | null = null;
  /**
   * -0, not 0: a number V8 stores as a double from the first inspector on. Most QUIC versions on
   * the wire (v2, the drafts, Google's, mvfst's) exceed V8's small integers, and the first one
   * stored here moved every inspector to a new map; the end-of-flow path, compiled for the old
   * one (flow-plugin.ts onFree, metaOf), was thrown away and compiled again (--trace-deopt:
   * "wrong map" at onFree's flowEnded). -0 reads as 0 everywhere it is used (=== 0, >>> 0).
   */
  private metaWire = -0;

  constructor(
    readonly limits: MetaLimits,
    private readonly onError: MetaErrorSink,
  ) {}

  /** HelloSink: count each reason at most once per flow. */
  report(reason: MetaReason): void {
    const bit = REASON_BITS[reason];
    if ((this.reported & bit) !== 0) return;
    this.reported |= bit;
    try {
      this.onError(reason);
    } catch {
      // a failing counter must not break the data path
    }
  }

  onPacket(dir: 0 | 1, proto: number, payload: Uint8Array, seq: number, flags: number): boolean {
    if (this.done) return true;
    try {
      this.step(dir, proto, payload, seq, flags);
    } catch {
      this.report('internal-error');
      this.finish();
    }
    return this.done;
  }

  result(): HandshakeMeta {
    return this.meta;
  }

  /** result() as held-meta.ts's one string (the flow plugin hands every flow's metadata on in that form). */
  packed(): HeldMeta {
    const m = this.meta;
    return new HeldMeta(packMeta(m.transport, this.metaVersion, this.metaWire, m.ja4, m.sni, m.alpn));
  }

  retainedBytes(): number {
    return this.engine?.retained() ?? 0;
  }

  /**
   * The ClientHello parsed by the JavaScript reference parser, for diagnostics and comparisons
   * with other tools (not part of the contract; parsed on each call).
   */
  clientHello(): ClientHello | null {
    return this.engine?.clientHello() ?? null;
  }

  /** The ClientHello body the metadata came from, and its JA4 protocol (diagnostics and tests). */
  clientHelloBody(): { body: Uint8Array; proto: Ja4Protocol } | null {
    const body = this.engine?.helloBody ?? null;
    return body === null ? null : { body, proto: this.engine!.helloProto };
  }

  /**
   * Packets the flow carried before this inspector saw any, none of which would have changed its
   * reader (hello_watch.c's SCANNING): they count towards the budget as if it had.
   */
  spent(packets: number, payloadPackets: number): void {
    this.packets = packets;
    this.payloadPackets = payloadPackets;
  }

  /**
   * The flow's first hello was a whole ServerHello from `dir`, selecting `version`, read by C
   * (hello_watch.c read_server_first): the TLS reader starts as if it had read it.
   */
  serverFirst(dir: 0 | 1, version: number): void {
    const engine = new TlsTcpReader(this);
    engine.serverFirst(dir, version);
    this.update((this.engine = this.start('tls', engine)));
  }

  /**
   * The flow ended while this inspector still wanted packets: a hello begun and not whole is
   * counted as when the packet budget runs out (found by review: a flow closed, reset or cut by
   * the capture's end mid-hello was counted nowhere).
   */
  flowEnded(): void {
    if (this.done) return;
    if (this.engine !== null && this.engine.partial()) this.report('hello-incomplete');
    this.finish();
  }

  /** Whether the inspector wants no more packets. */
  get finished(): boolean {
    return this.done;
  }

  private step(dir: 0 | 1, proto: number, p: Uint8Array, seq: number, flags: number): void {
    this.packets++;
    if (p.length > 0) this.payloadPackets++;
    let engine = this.engine;
    if (proto === TCP) {
      if (engine === null) engine = this.engine = this.start('tls', new TlsTcpReader(this));
      if (engine instanceof TlsTcpReader) engine.segment(dir, p, seq, flags);
    } else if (proto === UDP && p.length > 0) {
      if (engine === null) {
        // Cheap first-byte checks: most UDP flows never allocate anything here.
        if (looksLikeQuic(p)) engine = this.engine = this.start('quic', new QuicReader(this));
        else if (looksLikeGquic(p)) engine = this.engine = this.start('quic', new GquicReader(this));
        else if (looksLikeDtls(p)) engine = this.engine = this.start('dtls', new DtlsReader(this));
      }
      if (engine instanceof QuicReader || engine instanceof GquicReader) engine.datagram(dir, p);
      else if (engine instanceof DtlsReader) engine.datagram(dir, p);
    } else if (proto !== TCP && proto !== UDP) {
      return this.finish();
    }
    this.settle(engine);
  }

  /** After a packet: the metadata updated, and the inspector done when its reader is or the budget is spent. */
  private settle(engine: TlsTcpReader | QuicReader | GquicReader | DtlsReader | null): void {
    if (engine !== null) this.update(engine);
    const max = this.limits.max_packets;
    if (engine !== null && engine.finished) return this.finish();
    if (this.payloadPackets >= max || this.packets >= max * CONTROL_PACKET_FACTOR) {
      if (engine !== null && engine.partial()) this.report('hello-incomplete');
      this.finish();
    }
  }

  private start<E extends HelloEngine>(transport: HandshakeTransport, engine: E): E {
    this.transport = transport;
    return engine;
  }

  private update(engine: HelloEngine): void {
    if (engine.hello === this.metaHello && engine.serverVersion === this.metaServer && engine.chlo === this.metaChlo) return;
    const hello = engine.hello;
    this.metaHello = hello;
    this.metaServer = engine.serverVersion;
    this.metaChlo = engine.chlo;
    const version = engine.serverVersion ?? (hello === null ? null : hello.highest);
    this.metaVersion = version;
    this.metaWire = engine.quicVersion === null ? 0 : engine.quicWire;
    // The reader computed the JA4 for its transport ('t', 'q', 'd').
    this.meta = handshakeMeta(
      hello?.sni ?? engine.chlo?.sni ?? null,
      hello === null ? EMPTY_META.alpn : hello.alpn,
      version === null ? null : versionName(version),
      hello === null ? null : hello.ja4,
      this.transport,
      engine.quicVersion ?? undefined,
    );
  }

  private finish(): void {
    this.done = true;
    this.engine?.release();
  }
}

/** An inspector for a disabled section: wants no packet, finds nothing. */
export const DISABLED: HandshakeInspector = Object.freeze({
  onPacket: () => true,
  result: () => EMPTY_META,
  retainedBytes: () => 0,
});
