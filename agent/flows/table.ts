/**
 * The flow table: finds the flow of each packet, keeps flows in
 * least-recently-used order, and ends them (idle, active, TCP end, table
 * full, forced). The per-packet work (decoding, lookup, accumulators) runs in
 * C (native/table.c, why in native-core.ts) on the columns of store.ts; this
 * class owns those columns and connects the C table to the consumers of
 * ended flows and to the one plugin (the handshake inspector).
 *
 * Time comes from packet timestamps through `advance()`, so replay and live
 * capture run the same code; a live source also calls `advance()` from a
 * timer so flows on a quiet link still expire. The clock is monotonic: small
 * backward steps (merged captures) are held, a large backward jump
 * (concatenated captures) rebases the clock so expiry neither stalls nor
 * fires early.
 *
 * Guarantees: `onEnd(slot, reason)` is called exactly once per flow,
 * synchronously, before the slot is reused; it may read the columns of that
 * slot and nothing else of the table's state.
 */
import type { PcapRecordFormat } from '../capture/types.js';
import { END_REASONS, type EndReason } from './end-reason.js';
import { flowCore, fillPacket, type Core, type HelloWatch } from './native-core.js';

export type { HelloWatch } from './native-core.js';
import { Packet, SKIP_NAMES } from './packet.js';
import { allocColumns, type Columns } from './store.js';

export interface FlowTableOptions {
  /** Seconds without a packet after which a flow ends. */
  idleTimeout: number;
  /** Seconds after which a long flow is cut (the next packet starts a new one). */
  activeTimeout: number;
  /** Maximum concurrent flows; when full, a closed TCP flow in its grace ends (end), else the least recently used is evicted. */
  maxFlows: number;
  /** Seconds a TCP flow stays open after FIN both ways or RST, so the final ACKs count. */
  tcpCloseGrace: number;
  /** Gap in seconds that separates active periods (for the active/idle features). */
  activityGap: number;
  /** Decapsulate GTP-U (UDP port 2152). */
  gtp: boolean;
}

/** What the plugin is to do with a packet C handed on (hello_watch.h's HW_INSPECT, HW_BEGIN, HW_OUT_OF_ORDER, HW_RESUME, HW_SPLIT_BACK, HW_QUIC_BACK). */
export const WATCH_INSPECT = 0;
export const WATCH_BEGIN = 1;
export const WATCH_OUT_OF_ORDER = 2;
export const WATCH_RESUME = 3;
export const WATCH_SPLIT_BACK = 4;
export const WATCH_QUIC_BACK = 5;

/**
 * Observes flows as packets update them (the handshake inspector). C's hello_watch() sees each
 * flow's first packet and the packets of flows whose state is not idle, and hands on only those
 * that can start or continue a hello: a flow with no handshake costs JavaScript nothing.
 */
export interface FlowPlugin {
  readonly watch: HelloWatch;
  /** The C table was built, before its first packet: what C keeps for the plugin is read through it. */
  attach(core: Pick<Core, 'helloOf' | 'takeSplit'>): void;
  /** A packet was added to the flow in `slot` (direction 0 = src → dst); `action` is one of WATCH_*. */
  onPacket(slot: number, dir: number, p: Packet, action: number): void;
  /** The flow in `slot` ended; called after onEnd consumers saw it. */
  onFree(slot: number): void;
}

export class FlowTable {
  readonly cols: Columns;
  readonly capacity: number;
  /** Counters the C table keeps (layout in native-core.ts). */
  private readonly counts: Float64Array;
  private readonly view: Float64Array;
  private readonly packet = new Packet();
  private readonly layout = flowCore().layout;
  private plugin: FlowPlugin | undefined;
  private core: Core | undefined;
  private buf: Buffer | undefined;

  constructor(
    private readonly opts: FlowTableOptions,
    private readonly onEnd: (slot: number, reason: EndReason) => void,
  ) {
    this.capacity = opts.maxFlows;
    this.cols = allocColumns(opts.maxFlows);
    this.counts = new Float64Array(this.layout.statsLength);
    this.view = new Float64Array(this.layout.viewLength);
  }

  /** The plugin; only one, set before the first packet (the C table is built with its watch arrays). */
  setPlugin(p: FlowPlugin): void {
    if (this.core) throw new Error('FlowTable.setPlugin: the table has already seen packets');
    this.plugin = p;
  }

  private start(): Core {
    const o = this.opts;
    const plugin = this.plugin;
    this.core = flowCore().create(
      this.cols, this.counts, this.view, plugin?.watch ?? null,
      [o.maxFlows, o.idleTimeout, o.activeTimeout, o.tcpCloseGrace, o.activityGap, o.gtp ? 1 : 0],
      (slot, reason) => {
        try {
          this.onEnd(slot, END_REASONS[reason]!);
        } finally {
          // Also when the consumer throws: C frees the slot anyway, and its next flow must not inherit this one's state.
          plugin?.onFree(slot);
        }
      },
    );
    plugin?.attach(this.core);
    return this.core;
  }

  /** The C table, reading from `buf` (set only when the buffer changes: sources reuse theirs). */
  private reading(buf: Buffer): Core {
    const core = this.core ?? this.start();
    if (buf !== this.buf) {
      core.setBuffer(buf);
      this.buf = buf;
    }
    return core;
  }

  /** A packet the plugin watches, returned by C as result `r` (see table.h), handed over here. */
  private toPlugin(r: number, buf: Buffer): void {
    const v = this.view;
    this.plugin!.onPacket(v[this.layout.viewSlot]!, r & 1, fillPacket(this.packet, v, buf), (r >> 1) & 7);
  }

  /** Decode one frame and add it to its flow; returns the SKIP code (0: added). The frame's bytes are read during the call only. */
  frame(linkType: number, buf: Buffer, offset: number, capLength: number, ts: number): number {
    const r = this.reading(buf).frame(linkType, offset, capLength, ts);
    if (r < this.layout.pluginPacket) return r;
    this.toPlugin(r, buf);
    return 0;
  }

  /** Classic pcap records in bulk, each as frame() (see PcapBulk); returns where it stopped and what it read. */
  pcapRecords(buf: Buffer, start: number, end: number, f: PcapRecordFormat): { end: number; frames: number; bytes: number } {
    const core = this.reading(buf);
    const c = this.counts;
    const L = this.layout;
    let frames = 0;
    let bytes = 0;
    let at = start;
    for (;;) {
      const r = core.pcap(f.linkType, at, end, f.littleEndian, f.tsDivisor, f.maxCapLength);
      frames += c[L.ioFrames]!;
      bytes += c[L.ioBytes]!;
      at = c[L.ioPos]!;
      if (r < L.pluginPacket) return { end: at, frames, bytes };
      this.toPlugin(r, buf);
    }
  }

  /** Move the clock to `ts` (µs) and end the flows that expired by then (live capture's timer). */
  advance(ts: number): void {
    (this.core ?? this.start()).advance(ts);
  }

  /** End every flow (end of input, shutdown), at most `limit` of them per call; returns how many ended. */
  expireAll(reason: EndReason = 'forced', limit = Infinity): number {
    return (this.core ?? this.start()).expireAll(END_REASONS.indexOf(reason), limit);
  }

  /** One of the C table's counters: frames, packets, flows created, live flows, clock jumps, packets held at the clock (native/clock.h), orphan fragments, the clock (µs). */
  count(name: 'frames' | 'packets' | 'created' | 'live' | 'clockJumps' | 'clockHeld' | 'fragmentOrphans' | 'clock'): number {
    return this.counts[this.layout[name]]!;
  }

  /** Flows ended, by reason. */
  get ended(): Record<EndReason, number> {
    const at = this.layout.ended;
    return Object.fromEntries(END_REASONS.map((r, i) => [r, this.counts[at + i]!])) as Record<EndReason, number>;
  }

  /** Frames not added to a flow, by SKIP name (only nonzero ones). */
  skipped(): Record<string, number> {
    const out: Record<string, number> = {};
    const at = this.layout.skips;
    SKIP_NAMES.forEach((name, i) => {
      if (i !== 0 && this.counts[at + i]! > 0) out[name] = this.counts[at + i]!;
    });
    return out;
  }
}
