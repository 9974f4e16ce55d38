/**
 * The flow table: finds the flow of each packet, keeps flows in
 * least-recently-used order, and ends them (idle, active, TCP end, table
 * full, forced). Stateful and single-threaded by design: only finished flows
 * leave this stage.
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
import { accumulate, finishActive, initFlow } from './accumulate.js';
import { direction, flowHash, storeKey } from './flow-key.js';
import { END_REASONS, type EndReason } from './end-reason.js';
import { FRAG_FIRST, FRAG_LATER, type Packet } from './packet.js';
import { allocColumns, type Columns } from './store.js';
import { FragmentPorts } from './fragments.js';

export interface FlowTableOptions {
  /** Seconds without a packet after which a flow ends. */
  idleTimeout: number;
  /** Seconds after which a long flow is cut (the next packet starts a new one). */
  activeTimeout: number;
  /** Maximum concurrent flows; when full, the least recently used flow is evicted. */
  maxFlows: number;
  /** Seconds a TCP flow stays open after FIN both ways or RST, so the final ACKs count. */
  tcpCloseGrace: number;
  /** Gap in seconds that separates active periods (for the active/idle features). */
  activityGap: number;
}

/** Observes flows as packets update them (the handshake inspector is one). */
export interface FlowPlugin {
  /** A packet was added to the flow in `slot` (direction 0 = src → dst). */
  onPacket(slot: number, dir: number, p: Packet, isNew: boolean): void;
  /** The flow in `slot` ended; called after onEnd consumers saw it. */
  onFree(slot: number): void;
}

/** Backward time steps larger than this rebase the clock (µs). */
const CLOCK_JUMP = 1_000_000;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

export class FlowTable {
  readonly cols: Columns;
  readonly capacity: number;
  /** Flows ended, by reason. */
  readonly ended: Record<EndReason, number> = Object.fromEntries(END_REASONS.map((r) => [r, 0])) as Record<EndReason, number>;
  flowsCreated = 0;
  clockJumps = 0;
  fragmentOrphans = 0;
  private readonly index: Int32Array; // open addressing, linear probing; slot + 1, 0 = empty
  private readonly mask: number;
  private readonly freeSlots: Int32Array;
  private freeTop = 0;
  private fresh = 0; // slots never used yet start here (so untouched pages stay uncommitted)
  private live = 0;
  private lruHead = -1;
  private lruTail = -1;
  private clock = 0;
  private offset = 0;
  private started = false;
  private readonly closing: number[] = []; // (slot, gen) pairs in deadline order (grace is constant)
  private closingHead = 0;
  private readonly idleUs: number;
  private readonly activeUs: number;
  private readonly graceUs: number;
  private readonly gapUs: number;
  private readonly frags = new FragmentPorts();
  private readonly plugins: FlowPlugin[] = [];

  constructor(
    opts: FlowTableOptions,
    private readonly onEnd: (slot: number, reason: EndReason) => void,
  ) {
    this.capacity = opts.maxFlows;
    this.cols = allocColumns(opts.maxFlows);
    let size = 1;
    while (size < opts.maxFlows * 2) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    this.freeSlots = new Int32Array(opts.maxFlows);
    this.idleUs = opts.idleTimeout * 1e6;
    this.activeUs = opts.activeTimeout * 1e6;
    this.graceUs = opts.tcpCloseGrace * 1e6;
    this.gapUs = opts.activityGap * 1e6;
  }

  addPlugin(p: FlowPlugin): void {
    this.plugins.push(p);
  }

  get size(): number {
    return this.live;
  }

  /** The table's clock (µs, monotonic, on the packets' time base). */
  get now(): number {
    return this.clock;
  }

  /**
   * Move the clock to `ts` (µs) and end the flows that expired by then.
   * Called with every packet's timestamp and, on live capture, from a timer.
   */
  advance(ts: number): void {
    let m = ts + this.offset;
    if (!this.started) {
      this.started = true;
      this.clock = m;
    } else if (m < this.clock) {
      if (this.clock - m > CLOCK_JUMP) {
        // A new time base (concatenated captures): continue from where the clock is.
        this.offset += this.clock - m;
        this.clockJumps++;
      }
      m = this.clock;
    }
    this.clock = m;
    const c = this.cols;
    while (this.lruHead >= 0 && c.lastTouch[this.lruHead]! + this.idleUs <= m) this.end(this.lruHead, 'idle');
    while (this.closingHead < this.closing.length) {
      const s = this.closing[this.closingHead]!;
      const gen = this.closing[this.closingHead + 1]!;
      if (c.gen[s] === gen && c.closeAt[s]! > m) break;
      this.closingHead += 2;
      if (c.gen[s] === gen) this.end(s, 'end');
    }
    if (this.closingHead > 4096 && this.closingHead * 2 > this.closing.length) {
      this.closing.splice(0, this.closingHead);
      this.closingHead = 0;
    }
  }

  /** Add a decoded packet at time `ts` (µs). Returns false if it could not be placed (orphan fragment). */
  update(p: Packet, ts: number): boolean {
    this.advance(ts);
    if (p.frag === FRAG_LATER) {
      if (!this.frags.fill(p, this.clock)) {
        this.fragmentOrphans++;
        return false;
      }
    } else if (p.frag === FRAG_FIRST) {
      this.frags.remember(p, this.clock);
    }
    const c = this.cols;
    const h = flowHash(p);
    let s = -1;
    let dir = 0;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const e = this.index[i]!;
      if (e === 0) break;
      if (c.hash[e - 1] === h) {
        dir = direction(c, e - 1, p);
        if (dir >= 0) {
          s = e - 1;
          break;
        }
      }
    }
    let isNew = false;
    if (s >= 0) {
      const age = ts - c.firstTs[s]!;
      const restart = (p.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN && c.tcpEnd[s] !== 0;
      if (age >= this.activeUs || restart) {
        // The next flow on this key starts with this packet, so its sender becomes src.
        this.end(s, restart ? 'end' : 'active');
        s = -1;
      }
    }
    if (s < 0) {
      s = this.create(p, h, ts);
      dir = 0;
      isNew = true;
    } else {
      this.touch(s);
    }
    c.lastTouch[s] = this.clock;
    accumulate(c, s, dir, p, ts, this.gapUs);
    const f = p.tcpFlags;
    if (f & (TCP_FIN | TCP_RST)) this.tcpEnding(s, dir, f);
    for (let i = 0; i < this.plugins.length; i++) this.plugins[i]!.onPacket(s, dir, p, isNew);
    return true;
  }

  private tcpEnding(s: number, dir: number, flags: number): void {
    const c = this.cols;
    const before = c.tcpEnd[s]!;
    const now = before | (flags & TCP_RST ? 4 : 0) | (flags & TCP_FIN ? 1 << dir : 0);
    c.tcpEnd[s] = now;
    if (c.closeAt[s] === 0 && (now & 4 || (now & 3) === 3)) {
      c.closeAt[s] = this.clock + this.graceUs;
      this.closing.push(s, c.gen[s]!);
    }
  }

  /** End every flow (end of input, shutdown), at most `limit` of them per call; returns how many ended. */
  expireAll(reason: EndReason = 'forced', limit = Infinity): number {
    let n = 0;
    while (this.lruHead >= 0 && n < limit) {
      this.end(this.lruHead, reason);
      n++;
    }
    return n;
  }

  private create(p: Packet, h: number, ts: number): number {
    if (this.live >= this.capacity) this.end(this.lruHead, 'evicted');
    const s = this.freeTop > 0 ? this.freeSlots[--this.freeTop]! : this.fresh++;
    const c = this.cols;
    c.gen[s] = (c.gen[s]! + 1) >>> 0;
    storeKey(c, s, p, h);
    initFlow(c, s, ts);
    let i = h & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = s + 1;
    // Append at the LRU tail (most recent).
    c.lruPrev[s] = this.lruTail;
    c.lruNext[s] = -1;
    if (this.lruTail >= 0) c.lruNext[this.lruTail] = s;
    else this.lruHead = s;
    this.lruTail = s;
    this.live++;
    this.flowsCreated++;
    return s;
  }

  private touch(s: number): void {
    if (this.lruTail === s) return;
    const c = this.cols;
    const prev = c.lruPrev[s]!;
    const next = c.lruNext[s]!;
    if (prev >= 0) c.lruNext[prev] = next;
    else this.lruHead = next;
    c.lruPrev[next] = prev; // next >= 0 because s is not the tail
    c.lruPrev[s] = this.lruTail;
    c.lruNext[s] = -1;
    c.lruNext[this.lruTail] = s;
    this.lruTail = s;
  }

  private end(s: number, reason: EndReason): void {
    const c = this.cols;
    finishActive(c, s);
    this.ended[reason]++;
    this.onEnd(s, reason);
    for (let i = 0; i < this.plugins.length; i++) this.plugins[i]!.onFree(s);
    // Unlink from the LRU list.
    const prev = c.lruPrev[s]!;
    const next = c.lruNext[s]!;
    if (prev >= 0) c.lruNext[prev] = next;
    else this.lruHead = next;
    if (next >= 0) c.lruPrev[next] = prev;
    else this.lruTail = prev;
    this.removeFromIndex(s);
    c.closeAt[s] = 0;
    c.gen[s] = (c.gen[s]! + 1) >>> 0;
    this.freeSlots[this.freeTop++] = s;
    this.live--;
  }

  /** Backward-shift deletion keeps probe chains intact without tombstones. */
  private removeFromIndex(s: number): void {
    const mask = this.mask;
    const idx = this.index;
    let i = this.cols.hash[s]! & mask;
    while (idx[i] !== s + 1) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = idx[j]!;
      if (e === 0) break;
      const home = this.cols.hash[e - 1]! & mask;
      // Move e back to the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        idx[i] = e;
        i = j;
      }
    }
    idx[i] = 0;
  }
}
