/**
 * The native per-packet path (native/flow_core.c): decoding and the flow
 * table in C, on the columns of store.ts. Why C: decoding, the flow lookup
 * and the accumulators run for every packet, and in JavaScript they were half
 * of `extract`'s time (ndpiReader, the reference, is C). Records are still
 * built, and features finished, in JavaScript from the one feature registry.
 */
import { loadAddon } from '../lib/addon.js';
import type { Columns } from './store.js';
import type { Packet } from './packet.js';

export interface CoreLayout {
  frames: number;
  packets: number;
  created: number;
  live: number;
  clockJumps: number;
  clockHeld: number;
  fragmentOrphans: number;
  /** First of the per-end-reason counters (END_REASONS order). */
  ended: number;
  /** First of the per-skip-reason counters (SKIP order). */
  skips: number;
  clock: number;
  /** Where pcap() stopped, and the frames and bytes it read. */
  ioPos: number;
  ioFrames: number;
  ioBytes: number;
  statsLength: number;
  viewLength: number;
  /** frame() results from this value up: the packet went to a flow the plugin watches (see Core.frame). */
  pluginPacket: number;
  /** Where the view holds that flow's slot. */
  viewSlot: number;
  /** The view's fields in order, named as Packet's (fillPacket's order; checked by a test). */
  viewFields: readonly string[];
}

export interface Core {
  setBuffer(buf: Buffer): void;
  /**
   * Decode and add one frame; returns its SKIP code (0: added to a flow), or, for a packet the
   * plugin's watch hands on, pluginPacket | action << 1 | dir with the packet and slot in the view.
   */
  frame(linkType: number, offset: number, capLength: number, ts: number): number;
  /**
   * Classic pcap records from `start` (see PcapBulk), each as frame(), until `end`, a record not
   * wholly there or longer than `maxCap`, or a packet for the plugin (returned as by frame()).
   * Where it stopped and what it read are in the counters (ioPos, ioFrames, ioBytes).
   */
  pcap(linkType: number, start: number, end: number, littleEndian: boolean, tsDivisor: number, maxCap: number): number;
  advance(ts: number): void;
  /** End flows (END_REASONS index), least recently used first, at most `limit`; returns how many. */
  expireAll(reason: number, limit: number): number;
  /**
   * The ClientHello C read in place for the flow in `slot` (hello_watch.c) as one string that
   * meta/held-meta.ts reads, its version being the one the ServerHello selected when C read one;
   * for a flow whose first hello was a ServerHello C read (HELD_SERVER), that one's version alone;
   * null when C holds none for that slot (none once the flow's onEnd has returned: C drops it then).
   */
  helloOf(slot: number): string | null;
  /**
   * The start of a ClientHello C was reassembling for the flow in `slot` and handed back
   * (tls_split.c, WATCH_SPLIT_BACK), as one Buffer, with info = [its first sequence number, the
   * client's direction, the packets and payload packets it came in]; or the QUIC datagram C kept
   * (quic_split.c, WATCH_QUIC_BACK), with info = [0, its direction, 1, 1]; null when there is none.
   */
  takeSplit(slot: number, info: Uint32Array): Buffer | null;
}

/**
 * The per-slot state of the handshake inspector's first-packets policy, which the C table runs on
 * each packet of a watched flow (agent/meta/native/hello_watch.c): JavaScript's typed arrays, read
 * and written by both sides.
 */
export interface HelloWatch {
  /** 0 idle (not watched), else the inspector's state for that flow (see flow-plugin.ts). */
  readonly state: Uint8Array;
  /** The client's initial TCP sequence number, while synSeen; a SCANNING flow's packet counts (hello_watch.h). */
  readonly isn: Uint32Array;
  readonly synSeen: Uint8Array;
  /** After a ClientHello read in place: 1 + the version its ServerHello selected (C reads it), 0 none. */
  readonly serverVersion: Uint32Array;
  /** The plugin's per-slot flag; C sets it to HELD_IN_C (flow-plugin.ts) when it keeps the flow's hello. */
  readonly held: Uint8Array;
  /** What JavaScript's reader would have reported for a flow C read (inspector.ts REASON_BITS), counted at its end. */
  readonly reports: Uint8Array;
  readonly enabled: boolean;
  /** The inspector's packet budget (meta.max_packets), which C applies to the flows it scans. */
  readonly maxPackets: number;
  /** meta.max_buffer: the most of a QUIC CRYPTO stream C reassembles to read a hello in place. */
  readonly maxBuffer: number;
  /** meta.max_reassembling: reassemblies and kept datagrams C holds at once (hello_watch.h). */
  readonly maxKept: number;
  /** The QUIC versions whose first client Initial C reads in place (quic-keys.ts inPlaceQuicVersions). */
  readonly quic: readonly QuicWatchVersion[];
}

/** A QUIC version as the flow core reads it: its wire value, long-header types and contents (initial | retry << 4 | Google frames << 8 | CHLO << 9), salt and HKDF label infos. */
export interface QuicWatchVersion {
  readonly wire: number;
  readonly types: number;
  readonly salt: Uint8Array;
  readonly keyInfo: Uint8Array;
  readonly ivInfo: Uint8Array;
  readonly hpInfo: Uint8Array;
}

interface Native {
  layout: CoreLayout;
  create(
    cols: Columns, stats: Float64Array, view: Float64Array, watch: HelloWatch | null,
    settings: [capacity: number, idle: number, active: number, grace: number, gap: number, gtp: number],
    onEnd: (slot: number, reason: number) => void,
  ): Core;
  decode(buf: Buffer, linkType: number, offset: number, capLength: number, gtp: boolean, view: Float64Array): number;
}

let native: Native | undefined;

export function flowCore(): Native {
  native ??= loadAddon<Native>('flow_core', "flow meter's native module");
  return native;
}

/** A packet view for the core to fill (see fillPacket). */
export function packetView(): Float64Array {
  return new Float64Array(flowCore().layout.viewLength);
}

/** The Packet object from a view the core filled, in packet_view.h's field order. */
export function fillPacket(p: Packet, v: Float64Array, buf: Buffer): Packet {
  p.ipVersion = v[0]!;
  p.s0 = v[1]!; p.s1 = v[2]!; p.s2 = v[3]!; p.s3 = v[4]!;
  p.d0 = v[5]!; p.d1 = v[6]!; p.d2 = v[7]!; p.d3 = v[8]!;
  p.proto = v[9]!; p.sport = v[10]!; p.dport = v[11]!;
  p.vlan = v[12]!; p.vlanInner = v[13]!;
  p.ipBytes = v[14]!; p.payloadLen = v[15]!; p.payloadOff = v[16]!; p.capPayload = v[17]!;
  p.tcpFlags = v[18]!; p.tcpWindow = v[19]!; p.tcpSeq = v[20]!;
  p.frag = v[21]!; p.fragId = v[22]!; p.tunnels = v[23]!;
  p.buf = buf;
  return p;
}
