/**
 * Connects the handshake inspector to the flow table. The first-packets policy
 * (which flows wait for a hello, which packet starts one) runs in C on the
 * state arrays of this class (native/hello_watch.c, the branches described
 * below), and so does the common case: a whole ClientHello in a TCP flow's
 * first hello-starting payload, or in a QUIC flow's first client Initial
 * (offering TLS 1.3), is read in place by C and kept there until the flow
 * ends, as is the ServerHello's version after a TCP one; metaOf reads it back
 * (`held` is HELD_IN_C). So is a TCP hello in one record split over the next
 * client segments, while they come in order (tls_split.c). Only the rest
 * reaches this class: packets that start a hello C could not read (split over
 * records or Initials, gQUIC, DTLS, a hello without TLS 1.3 in QUIC, a
 * malformed one, or memory ran out), a split one C hands back, packets that
 * arrive out of order before one, or belong to a flow being inspected.
 *
 * Such a flow gets an inspector, fed the next packets until it says it is
 * done, then dropped; the metadata found is kept until the flow ends. Why
 * lazily: most flows carry no handshake, and creating and feeding an
 * inspector for each of them cost half the extraction time. A TCP ClientHello
 * whose first segment arrives after a later one is still read: the client's
 * initial sequence number is kept from its SYN, and a first data segment that
 * does not start the stream gets an inspector with that SYN replayed, so the
 * reader places the segments by sequence number.
 *
 * Per packet, a flow that is done (or never could carry a hello) costs the C
 * table one byte read (its `state`); a waiting flow a few byte checks in C
 * until its 8th payload packet. Long flows pay nothing after that. A
 * per-slot flag spares the map lookups at the end of flows that found nothing.
 */
import type { FlowMeta } from '../features/record.js';
import type { MetaProvider } from '../flows/meter.js';
import type { Core } from '../flows/native-core.js';
import type { Packet } from '../flows/packet.js';
import { WATCH_BEGIN, WATCH_OUT_OF_ORDER, WATCH_RESUME, WATCH_SPLIT_BACK, type HelloWatch } from '../flows/table.js';
import type { MetaLimits } from './config.js';
import { HeldMeta } from './held-meta.js';
import { Inspector, REASON_BITS } from './inspector.js';
import { tlsHello } from './hello-native.js';
import { inPlaceQuicVersions, quicCrypto } from './quic-keys.js';
import type { HandshakeMeta, MetaReason } from './types.js';

const IDLE = 0;
const INSPECTING = 1;
/* 2 + d (AWAIT_SERVER): C read a ClientHello in place from direction d and reads the other side's
 * first payload for the ServerHello; 4 + k (WAITING): no hello start yet after k payload packets;
 * 12 (SCANNING): a STARTTLS port in plaintext, a first 0x16 that opens no hello record, or a
 * whole ServerHello first (HELD_SERVER),
 * counted by C until a packet may open a hello; 13
 * (SPLIT) and 14 (SPLIT_SERVER): C reassembles a split hello, then waits for the ServerHello
 * (tls_split.c). C alone handles those states. */
/** `held`: C keeps the flow's hello (hello_watch.c read it in place); 1: an entry in `inspectors` or `found`. */
const HELD_IN_C = 2;
/**
 * `held`: C read a whole ServerHello first (hello_watch.c read_server_first) and keeps only its
 * version, in serverVersion: 1 + it, the server's direction in the bits from SERVER_DIR_SHIFT.
 */
const HELD_SERVER = 3;
const SERVER_DIR_SHIFT = 24;
const NO_BYTES = new Uint8Array(0);
const TCP_SYN = 0x02;
const TCP_ACK = 0x10;
/** takeSplit's info: first sequence number, client direction, packets and payload packets so far. */
const SPLIT_INFO = new Uint32Array(4);
/*
 * Why these first-packet rules (applied in C, hello_watch.c):
 * - a flow waits up to 8 payload packets for one that can start a hello: captures that begin
 *   mid-connection, odd first bytes (a TCP keep-alive with one byte), or payload in the handshake
 *   itself (nDPI's heuristic_tcp_ack_payload.pcap: four SYN-ACKs and ACKs with two bytes each
 *   before the ClientHello) precede it;
 * - TCP: a TLS handshake record, or a STARTTLS port (SMTP, submission, POP3, IMAP, FTP, XMPP,
 *   LDAP, MySQL, PostgreSQL), whose plaintext comes first; of these, only a ClientHello or
 *   ServerHello record (or a SYN) can change the inspector's TLS reader before it has one, so
 *   until then C counts the packets against its budget (SCANNING) instead of handing them on;
 * - UDP: a QUIC long header of a version quic-keys.ts reads (checked there, not only by the
 *   reader: half of all other UDP payloads, DNS ids, RTP, games, have the high bit set too, and
 *   each of those flows used to get an inspector for nothing), a gQUIC header (looksLikeGquic),
 *   or a DTLS handshake record (version 0xfeXX, or 0x0100).
 */

/** serverVersion's value with HELD_SERVER: the first ServerHello's direction and version. */
function firstServerHello(v: number): { dir: 0 | 1; version: number } {
  return { dir: (v >>> SERVER_DIR_SHIFT) as 0 | 1, version: (v & 0xffffff) - 1 };
}

/** Whether an inspector found anything to report. */
function foundAny(m: HandshakeMeta): boolean {
  return m.sni !== null || m.ja4 !== null || m.tlsVersion !== null || m.alpn.length > 0;
}

export class MetaPlugin implements MetaProvider {
  /**
   * Per slot, shared with C: state (0 not inspected or done, 1 inspecting, 2/3 awaiting the
   * ServerHello, 4 + k waiting after k payload packets without a hello start, 12 scanning, 13/14 a
   * split hello in C), the
   * client's initial sequence number when the flow began with its SYN (synSeen) or a scanned
   * flow's packet counts, and 1 + the version a ServerHello selected after a hello C read in place
   * (serverVersion, which C reads), or with HELD_SERVER the first ServerHello's (which metaOf and
   * resume read).
   */
  readonly watch: HelloWatch;
  private readonly state: Uint8Array;
  private readonly isn: Uint32Array;
  /** Per slot: 1 when the flow has an entry in `inspectors` or `found`, HELD_IN_C when C keeps its hello, HELD_SERVER its ServerHello's version. */
  private readonly held: Uint8Array;
  private readonly serverVersion: Uint32Array;
  /** Per slot, what C's DTLS reading found wrong (inspector.ts REASON_BITS; dtls_watch.c), counted when the flow ends. */
  private readonly reports: Uint8Array;
  private core: Pick<Core, 'helloOf' | 'takeSplit'> | null = null;
  private readonly inspectors = new Map<number, Inspector>();
  /** What finished inspectors found, packed (held-meta.ts: every flow's metadata is one kind of object). */
  private readonly found = new Map<number, HeldMeta>();

  constructor(
    capacity: number,
    private readonly limits: MetaLimits,
    private readonly onError: (reason: string) => void,
  ) {
    this.state = new Uint8Array(capacity);
    this.isn = new Uint32Array(capacity);
    this.held = new Uint8Array(capacity);
    this.serverVersion = new Uint32Array(capacity);
    this.reports = new Uint8Array(capacity);
    // Frozen: C keeps pointers into these arrays for the table's life (it holds this object, not each array).
    this.watch = Object.freeze({
      state: this.state, isn: this.isn, synSeen: new Uint8Array(capacity), serverVersion: this.serverVersion, held: this.held, reports: this.reports,
      enabled: limits.enabled, maxPackets: limits.max_packets, maxBuffer: limits.max_buffer, quic: limits.enabled ? inPlaceQuicVersions() : [],
    });
    // The native readers load now, so a missing build is E_INSTALL at startup, not on the first hello.
    tlsHello();
    quicCrypto();
  }

  attach(core: Pick<Core, 'helloOf' | 'takeSplit'>): void {
    this.core = core;
  }

  /** A packet C's hello_watch() handed on: what to do is its `action` (WATCH_*). */
  onPacket(slot: number, dir: number, p: Packet, action: number): void {
    // WATCH_BEGIN: a packet that can open a hello, which C tried and could not read in place.
    if (action === WATCH_BEGIN) return this.startInspector(slot, dir, p, false);
    if (action === WATCH_OUT_OF_ORDER) return this.outOfOrder(slot, dir, p);
    if (action === WATCH_RESUME) return this.resume(slot, dir, p);
    if (action === WATCH_SPLIT_BACK) return this.splitBack(slot, dir, p);
    // WATCH_INSPECT: the flow is being inspected.
    this.feed(slot, this.inspectors.get(slot)!, dir, p);
  }

  /**
   * The client's first data is not its stream's first byte: an earlier segment is late (or
   * lost). It may be the start of a ClientHello split around the gap, so read from here, with
   * the SYN replayed for the reader to place segments by sequence number.
   */
  private outOfOrder(slot: number, dir: number, p: Packet): void {
    this.startInspector(slot, dir, p, true);
  }

  /**
   * A flow C scanned (a STARTTLS port in plaintext since its first payload, a 0x16 that opened no
   * hello record, or a whole ServerHello first: HELD_SERVER, hello_watch.c) reached a packet that
   * may open a hello: the inspector starts here, charged with the packets since the scan began,
   * none of which would have changed its TLS reader (C checked that), and told of that ServerHello.
   */
  private resume(slot: number, dir: number, p: Packet): void {
    const counts = this.isn[slot]!;
    const insp = new Inspector(this.limits, this.onError);
    insp.spent(counts & 0xffff, counts >>> 16);
    if (this.held[slot] === HELD_SERVER) {
      const { dir: serverDir, version } = firstServerHello(this.serverVersion[slot]!);
      insp.serverFirst(serverDir, version);
    }
    this.startInspector(slot, dir, p, false, insp);
  }

  /**
   * C was reassembling a ClientHello split over segments (tls_split.c) and hands it over at this
   * packet: the reader gets the bytes so far as one segment, charged with the packets they came
   * in, then this packet, and so ends as if it had seen every packet.
   */
  private splitBack(slot: number, dir: number, p: Packet): void {
    const insp = new Inspector(this.limits, this.onError);
    let start: Buffer | null = null;
    try {
      start = this.core?.takeSplit(slot, SPLIT_INFO) ?? null;
    } catch {
      this.onError('internal-error'); // out of memory copying the bytes: the reader goes on without them
    }
    if (start !== null) {
      insp.spent(SPLIT_INFO[2]! - 1, SPLIT_INFO[3]! - 1);
      insp.onPacket(SPLIT_INFO[1] as 0 | 1, 6, start, SPLIT_INFO[0]!, TCP_ACK);
    }
    // Tracked after takeSplit, which clears `held` when C drops a hello it had kept (the reader keeps
    // it now), and whatever happened there: C counts the flow as inspected, its next packet comes here.
    this.startInspector(slot, dir, p, false, insp);
  }

  /** An inspector for the flow, fed p first (after the client's SYN replayed, when `replaySyn`). */
  private startInspector(slot: number, dir: number, p: Packet, replaySyn: boolean, insp = new Inspector(this.limits, this.onError)): void {
    if (replaySyn) insp.onPacket(0, 6, NO_BYTES, this.isn[slot]!, TCP_SYN);
    this.track(slot, insp);
    this.feed(slot, insp, dir, p);
  }

  private track(slot: number, insp: Inspector): void {
    this.inspectors.set(slot, insp);
    this.held[slot] = 1;
    this.state[slot] = INSPECTING;
  }

  private feed(slot: number, insp: Inspector, dir: number, p: Packet): void {
    const payload = p.capPayload === 0 ? NO_BYTES : p.buf.subarray(p.payloadOff, p.payloadOff + p.capPayload);
    if (insp.onPacket(dir as 0 | 1, p.proto, payload, p.tcpSeq, p.tcpFlags)) this.inspected(slot, insp);
  }

  /** The inspector is done: its findings are kept, it is not. */
  private inspected(slot: number, insp: Inspector): void {
    this.inspectors.delete(slot);
    this.state[slot] = IDLE;
    const r = insp.result();
    // Only flows where something was found keep an entry: most flows carry no handshake.
    if (foundAny(r)) this.found.set(slot, insp.packed());
    else this.held[slot] = 0;
  }

  metaOf(slot: number): FlowMeta | null {
    const held = this.held[slot];
    if (held === 0) return null;
    // HELD_IN_C and HELD_SERVER: C makes the string, for a ServerHello alone what the inspector
    // reports for it. One test for both, met by the first flows C reads: a branch first taken after
    // V8 optimized the end-of-flow path (a ServerHello first is rare) deoptimized all of that path.
    if (held >= HELD_IN_C) return this.readInC(slot);
    return this.heldMeta(slot);
  }

  /**
   * The metadata of a hello C read in place: a TCP flow's (as fast-tls.ts helloMetaInPlace reads
   * it, with the version the ServerHello selected) or a QUIC client Initial's (as the inspector
   * reads it from that datagram), or of a first ServerHello C read; read from C's one string only
   * when a field is asked for.
   */
  private readInC(slot: number): FlowMeta | null {
    const text = this.core === null ? null : this.core.helloOf(slot);
    return text === null ? null : new HeldMeta(text);
  }

  private heldMeta(slot: number): FlowMeta | null {
    const insp = this.inspectors.get(slot);
    if (insp !== undefined) {
      const r = insp.result();
      return foundAny(r) ? insp.packed() : null;
    }
    return this.found.get(slot) ?? null;
  }

  /** C's reports for the flow in `slot`, each counted once, as an inspector would have. */
  private reportBits(slot: number, bits: number): void {
    this.reports[slot] = 0;
    for (const reason of Object.keys(REASON_BITS) as MetaReason[]) {
      if ((bits & REASON_BITS[reason]) === 0) continue;
      try {
        this.onError(reason);
      } catch {
        // a failing counter must not break the data path
      }
    }
  }

  onFree(slot: number): void {
    this.state[slot] = IDLE;
    const held = this.held[slot];
    if (held === 0) return;
    this.held[slot] = 0;
    if (held === HELD_IN_C) {
      // C drops the hello once onEnd returns. Only a flow C keeps a hello for can carry C's reports.
      const bits = this.reports[slot]!;
      if (bits !== 0) this.reportBits(slot, bits);
      return;
    }
    this.inspectors.delete(slot);
    this.found.delete(slot);
  }
}
