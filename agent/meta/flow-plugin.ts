/**
 * Connects the handshake inspector to the flow table. The first-packets policy (which flows wait
 * for a hello, which packet starts one) runs in C on the state arrays of this class
 * (native/hello_watch.c), and so does the common case, read in place and kept in C until the
 * flow ends (`held` is HELD_IN_C; metaOf reads it back): a whole ClientHello in a TCP flow's
 * first hello-starting payload (or, after plaintext, in the segment that opens one:
 * tls_resume.c), then its ServerHello's version; a hello in one record split over the next
 * client segments (tls_split.c); a QUIC client Initial holding a whole ClientHello offering
 * TLS 1.3 (or its first two, quic_split.c), or Q050's CHLO (quic_initial.c); a gQUIC CHLO in a client's first packet
 * (gquic_chlo.c); a DTLS flow's first ClientHello and then its ServerHello (dtls_watch.c). What
 * JavaScript's readers would report there, C records in `reports`, counted at the flow's end.
 * Only the rest reaches this class: hellos C could not read (over records, Initials or
 * datagrams, malformed, or memory ran out), a split one C hands back (with the segments or the
 * datagram it kept), packets out of order
 * before one, and the packets of a flow being inspected.
 *
 * Such a flow gets an inspector, fed the next packets until it says it is done, then dropped;
 * what it found is kept until the flow ends. A TCP ClientHello whose first segment arrives after
 * a later one is still read: the client's initial sequence number is kept from its SYN, and the
 * inspector gets that SYN replayed. Per packet, a flow that is done (or never could carry a
 * hello) costs the C table one byte read (its `state`).
 */
import type { FlowMeta } from '../features/record.js';
import type { MetaProvider } from '../flows/meter.js';
import type { Core } from '../flows/native-core.js';
import type { Packet } from '../flows/packet.js';
import { WATCH_BEGIN, WATCH_OUT_OF_ORDER, WATCH_QUIC_BACK, WATCH_RESUME, WATCH_SPLIT_BACK, type HelloWatch } from '../flows/table.js';
import type { MetaLimits } from './config.js';
import { foundAny, HeldMeta, packMeta } from './held-meta.js';
import { Inspector, REASON_BITS } from './inspector.js';
import { tlsHello } from './hello-native.js';
import { inPlaceQuicVersions, makeNativeBuffer, quicCrypto } from './quic-keys.js';
import type { MetaReason } from './types.js';

const IDLE = 0;
const INSPECTING = 1;
/* C alone handles the other states (hello_watch.h): 2 + d awaiting the ServerHello after a hello
 * from direction d; 4 + k waiting after k payload packets; 12 scanning; 13 (C_SPLIT), 14 a split
 * hello, before and after it is read; 15 DTLS; 16 + d awaiting the ServerHello after a resumed
 * flow's hello; 18 (C_QUIC_SPLIT) a QUIC hello whose first Initial C keeps. */
const C_SPLIT = 13, C_QUIC_SPLIT = 18;
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

export class MetaPlugin implements MetaProvider {
  /**
   * Per slot, shared with C: state (0 not inspected or done, 1 inspecting, else C's), the client's
   * initial sequence number when the flow began with its SYN (synSeen) or the inspector's packet
   * counts where C stands in for it, and 1 + the version a ServerHello selected after a hello C
   * read (serverVersion), or with HELD_SERVER the first ServerHello's (which resume reads).
   */
  readonly watch: HelloWatch;
  private readonly state: Uint8Array;
  private readonly isn: Uint32Array;
  /** Per slot: 1 when the flow has an entry in `inspectors` or `found`, HELD_IN_C when C keeps its hello, HELD_SERVER its ServerHello's version. */
  private readonly held: Uint8Array;
  private readonly serverVersion: Uint32Array;
  /** Per slot, what C's DTLS reading found wrong (inspector.ts REASON_BITS; dtls_watch.c), counted when the flow ends. */
  private readonly reports: Uint8Array;
  /** Where reportBits counts: onError, but while warmRarePaths runs (nothing is counted then). */
  private reportTo: (reason: string) => void;
  private core: Pick<Core, 'helloOf' | 'takeSplit'> | null = null;
  private readonly inspectors = new Map<number, Inspector>();
  /** What finished inspectors found, packed (held-meta.ts: every flow's metadata is one kind of object). */
  private readonly found = new Map<number, HeldMeta>();
  /** warmRarePaths' inspector and HeldMeta, only held, for V8 to keep their maps (see there). */
  protected warmed: readonly object[] = [];

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
    this.reportTo = onError;
    // Frozen: C keeps pointers into these arrays for the table's life (it holds this object, not each array).
    this.watch = Object.freeze({
      state: this.state, isn: this.isn, synSeen: new Uint8Array(capacity), serverVersion: this.serverVersion, held: this.held, reports: this.reports,
      enabled: limits.enabled, maxPackets: limits.max_packets, maxBuffer: limits.max_buffer, maxKept: limits.max_reassembling, quic: limits.enabled ? inPlaceQuicVersions() : [],
    });
    // The native readers load now, so a missing build is E_INSTALL at startup, not on the first hello.
    tlsHello();
    quicCrypto();
    makeNativeBuffer();
    this.warmRarePaths();
  }

  /**
   * metaOf and onFree run once down each branch for JavaScript's readers, on slot 0 before any
   * flow exists. Why: C reads nearly every hello now, so the first flow to end with an inspector
   * comes after V8 has optimized the end-of-flow path, which inlines these two; a branch never
   * taken there deoptimized all of that path, compiled again (--trace-deopt, at heldMeta's call
   * and at the maps' cleanup). Taken here, the branches are compiled in from the start; a few
   * dozen times, as V8 records what a function meets only once it has run a while.
   *
   * Both objects are kept for the plugin's life. Why: V8 keeps the map of a class's objects (made
   * as its fields are added) only while one of them lives, and records maps weakly. Inspectors are
   * few and short-lived, a HeldMeta lives from a flow's end to its row: with none alive at a
   * collection, the map recorded here died, and with it what V8 had recorded; the end-of-flow
   * path, compiled soon after, was then thrown away at the first flow to end with an inspector or
   * to pack a HeldMeta, compiled again (--trace-deopt: "Insufficient type feedback for generic
   * named access" at onFree's flowEnded and at row-batch.ts pack's m.packed, most runs).
   */
  private warmRarePaths(): void {
    if (this.held.length === 0) return;
    const running = new Inspector(this.limits, () => undefined);
    const found = new HeldMeta(packMeta('tls', 0x0303, 0, null, null, []));
    this.warmed = [running, found];
    this.reportTo = () => undefined;
    for (let i = 0; i < 96; i++) {
      if (i % 3 === 0) this.inspectors.set(0, running);
      else if (i % 3 === 1) this.found.set(0, found);
      else this.reports[0] = 0xff; // C's reports of a flow whose hello C held
      this.held[0] = i % 3 === 2 ? HELD_IN_C : 1;
      this.metaOf(0);
      this.onFree(0);
    }
    this.reportTo = this.onError;
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
    if (action === WATCH_QUIC_BACK) return this.splitBack(slot, dir, p, 17);
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
   * C was reassembling a ClientHello split over segments (tls_split.c), or kept a QUIC flow's first
   * datagram (proto 17, quic_split.c), and hands it over at this packet: the reader gets the bytes
   * so far as one segment (datagram), charged with the packets they came in, then this packet,
   * and so ends as if it had seen every packet.
   */
  private splitBack(slot: number, dir: number, p: Packet, proto = 6): void {
    const insp = new Inspector(this.limits, this.onError);
    let start: Buffer | null = null;
    try {
      start = this.core?.takeSplit(slot, SPLIT_INFO) ?? null;
    } catch {
      this.onError('internal-error'); // out of memory copying the bytes: the reader goes on without them
    }
    if (start !== null) {
      insp.spent(SPLIT_INFO[2]! - 1, SPLIT_INFO[3]! - 1);
      insp.onPacket(SPLIT_INFO[1] as 0 | 1, proto, start, SPLIT_INFO[0]!, proto === 6 ? TCP_ACK : 0);
    }
    // Tracked after takeSplit, which clears `held` when C drops a hello it had kept (the reader keeps
    // it now), and whatever happened there: C counts the flow as inspected, its next packet comes here.
    this.startInspector(slot, dir, p, false, insp);
  }

  /** An inspector for the flow, fed p first (after the client's SYN replayed, when `replaySyn`). */
  private startInspector(slot: number, dir: number, p: Packet, replaySyn: boolean, insp = new Inspector(this.limits, this.onError)): void {
    if (this.inspectors.size >= this.limits.max_reassembling) { // each may hold max_buffer bytes (meta.max_reassembling)
      this.state[slot] = IDLE;
      return this.onError('reassembly-overflow');
    }
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
        this.reportTo(reason);
      } catch {
        // a failing counter must not break the data path
      }
    }
  }

  onFree(slot: number): void {
    // A hello C was still reassembling (tls_split.c, quic_split.c) is counted as its inspector would.
    if (this.state[slot] === C_SPLIT || this.state[slot] === C_QUIC_SPLIT) this.reportBits(slot, this.reports[slot]! | REASON_BITS['hello-incomplete']);
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
    this.inspectors.get(slot)?.flowEnded();
    this.inspectors.delete(slot);
    this.found.delete(slot);
  }
}
