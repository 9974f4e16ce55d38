/**
 * Connects the handshake inspector to the flow table. The table (C) shows it
 * each flow's first packet, then the packets of flows whose state byte
 * (`watch`) is not IDLE. A flow gets an inspector
 * only when its first packet with payload can start a handshake (a TLS
 * handshake record on TCP, or a STARTTLS port; a QUIC long header or a DTLS
 * handshake on UDP); it is fed the next packets until it says it is done,
 * then dropped; the metadata found is kept until the flow ends.
 *
 * Why lazily: most flows carry no handshake, and creating and feeding an
 * inspector for each of them cost half the extraction time. A TCP ClientHello
 * whose first segment arrives after a later one is still read: the client's
 * initial sequence number is kept from its SYN, and a first data segment that
 * does not start the stream gets an inspector with that SYN replayed, so the
 * reader places the segments by sequence number.
 *
 * Per packet, a flow that is not being inspected costs the C table one byte
 * read (its `state`, the `watch` array), so long flows pay nothing after their
 * first packets. Shape of the code, on purpose: onPacket, which V8 inlines
 * into the table's JavaScript dispatch, holds only cheap byte checks;
 * everything a flow with a hello does is in methods called for a few percent
 * of packets, which V8 leaves as calls (with it all in onPacket, V8 spent more
 * time compiling and recompiling that path than the readers spent reading
 * hellos). Likewise a per-slot flag spares the map lookups at the end of flows
 * that found nothing.
 */
import type { FlowMeta } from '../features/record.js';
import type { MetaProvider } from '../flows/meter.js';
import type { Packet } from '../flows/packet.js';
import type { MetaLimits } from './config.js';
import { createInspector, looksLikeGquic } from './index.js';
import { quicVersion } from './quic-keys.js';
import { clientHelloInPlace, serverVersionInPlace, tlsMeta, withServerVersion } from './fast-tls.js';
import type { HandshakeInspector, HandshakeMeta } from './types.js';

const IDLE = 0;
const INSPECTING = 1;
/** A ClientHello was read in place from direction d; the other side's first payload may be the ServerHello. */
const AWAIT_SERVER = 2; // + client direction (0 or 1)
const WAITING = 4;
/**
 * Payload packets a flow may carry before one starts a hello. More than one: captures that
 * begin mid-connection, odd first bytes (a TCP keep-alive with one byte), or payload in the
 * handshake itself (nDPI's heuristic_tcp_ack_payload.pcap: four SYN-ACKs and ACKs with two bytes
 * each before the ClientHello) precede it; a few more byte checks per flow are cheap.
 */
const MAX_WAIT = 8;
const NO_BYTES = new Uint8Array(0);
const TLS_HANDSHAKE = 0x16;
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
/** Protocols that upgrade to TLS after plaintext (SMTP, submission, POP3, IMAP, FTP, XMPP, LDAP, MySQL, PostgreSQL). */
const STARTTLS_PORTS = new Set([25, 587, 110, 143, 21, 5222, 5269, 389, 3306, 5432]);

/** Whether a flow's first payload can begin a hello: checked on the bytes in place, without a copy. */
function mayStartHandshake(p: Packet): boolean {
  const b = p.buf;
  const o = p.payloadOff;
  if (p.proto === 6) return b[o] === TLS_HANDSHAKE || STARTTLS_PORTS.has(p.dport) || STARTTLS_PORTS.has(p.sport);
  if (p.capPayload < 7) return false;
  const b0 = b[o]!;
  // A QUIC long header of a version we read. The version is checked here, not only by the reader:
  // half of all other UDP payloads (DNS ids, RTP, games) have the high bit set too, and each of
  // those flows used to get an inspector for nothing (a third of the metadata cost on real traffic).
  if (b0 & 0x80 && quicVersion(((b[o + 1]! << 24) | (b[o + 2]! << 16) | (b[o + 3]! << 8) | b[o + 4]!) >>> 0) !== null) return true;
  // Google QUIC Q024-Q043 public header (its first byte has no long-header bit).
  if (looksLikeGquic(b, o, o + p.capPayload)) return true;
  // A DTLS handshake record (version 0xfeXX, or 0x0100).
  return b0 === TLS_HANDSHAKE && (b[o + 1] === 0xfe || b[o + 1] === 0x01);
}

/** Whether an inspector found anything to report. */
function foundAny(m: HandshakeMeta): boolean {
  return m.sni !== null || m.ja4 !== null || m.tlsVersion !== null || m.alpn.length > 0;
}

export class MetaPlugin implements MetaProvider {
  /** Per slot: 0 not inspected (or done), 1 inspecting, 2/3 awaiting the ServerHello, 4 + k waiting after k payload packets without a hello start. */
  private readonly state: Uint8Array;
  /** Per slot: the client's initial sequence number, when the flow began with its SYN (synSeen). */
  private readonly isn: Uint32Array;
  private readonly synSeen: Uint8Array;
  /** Per slot: 1 when the flow has an entry in `inspectors` or `found`. */
  private readonly held: Uint8Array;
  private readonly inspectors = new Map<number, HandshakeInspector>();
  private readonly found = new Map<number, HandshakeMeta>();

  constructor(
    capacity: number,
    private readonly limits: MetaLimits,
    private readonly onError: (reason: string) => void,
  ) {
    this.state = new Uint8Array(capacity);
    this.isn = new Uint32Array(capacity);
    this.synSeen = new Uint8Array(capacity);
    this.held = new Uint8Array(capacity);
  }

  /** The flow table calls onPacket for the flows whose state is not IDLE (and for each flow's first packet). */
  get watch(): Uint8Array {
    return this.state;
  }

  onPacket(slot: number, dir: number, p: Packet, isNew: boolean): void {
    if (isNew) {
      this.state[slot] = this.limits.enabled && (p.proto === 6 || p.proto === 17) ? WAITING : IDLE;
      const syn = p.proto === 6 && (p.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
      this.synSeen[slot] = syn ? 1 : 0;
      if (syn) this.isn[slot] = p.tcpSeq;
    }
    const st = this.state[slot]!;
    if (st === IDLE) return;
    if (st < WAITING) return this.inspect(slot, st, dir, p);
    if (p.capPayload === 0) {
      // A SYN sent again with a new ISN (an unanswered connect retried on the same ports) restarts the stream.
      if (dir === 0 && (p.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN && this.synSeen[slot] === 1) this.isn[slot] = p.tcpSeq;
      return;
    }
    if (dir === 0 && this.synSeen[slot] === 1 && (p.tcpFlags & TCP_SYN) === 0 && p.tcpSeq !== ((this.isn[slot]! + 1) >>> 0)) {
      return this.outOfOrder(slot, dir, p);
    }
    this.synSeen[slot] = 0;
    if (mayStartHandshake(p)) return this.begin(slot, dir, p);
    this.state[slot] = st - WAITING + 1 >= MAX_WAIT ? IDLE : st + 1;
  }

  /**
   * The client's first data is not its stream's first byte: an earlier segment is late (or
   * lost). It may be the start of a ClientHello split around the gap, so read from here, with
   * the SYN replayed for the reader to place segments by sequence number.
   */
  private outOfOrder(slot: number, dir: number, p: Packet): void {
    this.synSeen[slot] = 0;
    const insp = createInspector(this.limits, this.onError);
    insp.onPacket(0, 6, NO_BYTES, this.isn[slot]!, TCP_SYN);
    this.inspectors.set(slot, insp);
    this.held[slot] = 1;
    this.state[slot] = INSPECTING;
    this.feed(slot, insp, dir, p);
  }

  /** The flow's first packet that can open a hello: read it in place, or start an inspector. */
  private begin(slot: number, dir: number, p: Packet): void {
    if (p.proto === 6) {
      const hello = clientHelloInPlace(p.buf, p.payloadOff, p.capPayload);
      if (hello) {
        this.found.set(slot, tlsMeta(hello, null));
        this.held[slot] = 1;
        this.state[slot] = AWAIT_SERVER + dir;
        return;
      }
    }
    const insp = createInspector(this.limits, this.onError);
    this.inspectors.set(slot, insp);
    this.held[slot] = 1;
    this.state[slot] = INSPECTING;
    this.feed(slot, insp, dir, p);
  }

  private inspect(slot: number, st: number, dir: number, p: Packet): void {
    if (st === INSPECTING) return this.feed(slot, this.inspectors.get(slot)!, dir, p);
    if (p.capPayload === 0 || dir === st - AWAIT_SERVER) return;
    // Only the server's first payload is looked at: a ServerHello, or nothing more to learn.
    const v = serverVersionInPlace(p.buf, p.payloadOff, p.capPayload);
    const m = this.found.get(slot);
    if (typeof v === 'number' && m) this.found.set(slot, withServerVersion(m, v));
    this.state[slot] = IDLE;
  }

  private feed(slot: number, insp: HandshakeInspector, dir: number, p: Packet): void {
    const payload = p.capPayload === 0 ? NO_BYTES : p.buf.subarray(p.payloadOff, p.payloadOff + p.capPayload);
    if (insp.onPacket(dir as 0 | 1, p.proto, payload, p.tcpSeq, p.tcpFlags)) {
      this.inspectors.delete(slot);
      this.state[slot] = IDLE;
      const r = insp.result();
      // Only flows where something was found keep an entry: most flows carry no handshake.
      if (foundAny(r)) this.found.set(slot, r);
      else this.held[slot] = 0;
    }
  }

  metaOf(slot: number): FlowMeta | null {
    return this.held[slot] === 0 ? null : this.heldMeta(slot);
  }

  private heldMeta(slot: number): FlowMeta | null {
    const insp = this.inspectors.get(slot);
    if (insp !== undefined) {
      const r = insp.result();
      return foundAny(r) ? r : null;
    }
    return this.found.get(slot) ?? null;
  }

  onFree(slot: number): void {
    this.state[slot] = IDLE;
    if (this.held[slot] === 0) return;
    this.held[slot] = 0;
    this.inspectors.delete(slot);
    this.found.delete(slot);
  }

  /** Flows currently being inspected, and flows holding metadata (for stats and memory checks). */
  sizes(): { inspecting: number; withMeta: number } {
    return { inspecting: this.inspectors.size, withMeta: this.found.size };
  }
}
