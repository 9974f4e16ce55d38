/**
 * Google QUIC Q024-Q046: the CHLO from the client's null-encrypted packets.
 *
 * A packet is used only when its header parses (gquic-packet.ts) and its message hash is
 * the client's null-encryption hash of the packet: that both proves the bytes are a
 * client's cleartext gQUIC packet (encrypted packets, server packets and other UDP fail
 * it) and names the client direction. Its frames are then walked (gquic-frames.ts) and
 * stream 1, the crypto stream, is reassembled up to the first complete CHLO, bounded by
 * max_buffer. There is no server message we need: the reader is done at the CHLO.
 *
 * Q050 (encrypted Initials carrying a CHLO in CRYPTO frames) and T050/T051 (a TLS
 * ClientHello) are read by QuicReader, which shares the frame walker and ChloStream.
 *
 * Cost: one FNV-1a 128 pass over each candidate packet (a few microseconds for 1350
 * bytes), only for flows whose first bytes look like gQUIC, and only until the CHLO.
 */
import { ChloStream } from './chlo.js';
import { HelloEngine, type HelloSink } from './engine.js';
import { FRAMES_MALFORMED, walkFrames, type StreamSink } from './gquic-frames.js';
import { clientHashMatches, HASH_LEN, readGquicHeader, type GquicHeader } from './gquic-packet.js';

/** The crypto stream's ID in gQUIC before Q048. */
const CRYPTO_STREAM_ID = 1;
/** Private flags (before Q034): the packet is an FEC packet; an FEC group byte follows. */
const PRIVATE_FEC = 0x04;
const PRIVATE_FEC_GROUP = 0x02;

export { looksLikeGquic } from './gquic-packet.js';

/** One gQUIC flow's client packets up to the CHLO (see the module comment). */
export class GquicReader extends HelloEngine {
  private clientDir: 0 | 1 | -1 = -1;
  private version = -1;
  private stream: ChloStream | null = null;
  private readonly header: GquicHeader = { version: 0, pnLen: 0, hashOff: 0 };
  private readonly onData: StreamSink = (id, offset, b, s, e) => this.streamData(id, offset, b, s, e);

  constructor(sink: HelloSink) {
    super(sink);
  }

  retained(): number {
    return this.stream?.retained ?? 0;
  }

  partial(): boolean {
    return this.stream?.partial ?? false;
  }

  release(): void {
    this.stream?.release();
  }

  /** One UDP payload of the flow (dir as in HandshakeInspector.onPacket). */
  datagram(dir: 0 | 1, p: Uint8Array): void {
    if (this.finished || (this.clientDir !== -1 && dir !== this.clientDir)) return;
    const h = this.header;
    if (!readGquicHeader(p, this.version, h) || !clientHashMatches(p, h)) return;
    this.clientDir = dir;
    this.version = h.version;
    if (this.quicVersion === null) {
      this.quicVersion = `Q0${h.version}`;
      this.quicWire = 0x51300000 | (0x30 + Math.floor(h.version / 10)) << 8 | (0x30 + (h.version % 10)); // "Q0nn"
    }
    let i = h.hashOff + HASH_LEN;
    if (h.version < 34) {
      if (i >= p.length) return this.sink.report('gquic-malformed');
      const flags = p[i++]!;
      if ((flags & PRIVATE_FEC) !== 0) return;
      if ((flags & PRIVATE_FEC_GROUP) !== 0) i++;
    }
    if (walkFrames(p, i, p.length, h.version, h.pnLen, this.onData) === FRAMES_MALFORMED) this.sink.report('gquic-malformed');
  }

  private streamData(id: number, offset: number, b: Uint8Array, s: number, e: number): boolean {
    if (id !== CRYPTO_STREAM_ID) return true;
    this.chloData((this.stream ??= new ChloStream(this.sink.limits.max_buffer)), offset, b, s, e);
    return !this.finished;
  }
}
