/**
 * The flow meter: frames in, finished flow records out. Decodes each frame,
 * updates the flow table, and turns each ended flow into a FlowRecord.
 * Bad packets are counted by reason and skipped; nothing here throws on input.
 */
import type { Frame, PcapBulk, PcapRecordFormat } from '../capture/types.js';
import { buildRecord, scratchRecord, type FlowMeta, type FlowRecord } from '../features/record.js';
import { ACTIVITY_GAP_S } from '../features/registry.js';
import type { EndReason } from './end-reason.js';
import { FlowTable, type FlowPlugin } from './table.js';
import type { MetaLimits } from '../meta/config.js';
import { MetaPlugin } from '../meta/flow-plugin.js';

export interface MeterOptions {
  idleTimeout: number;
  activeTimeout: number;
  maxFlows: number;
  tcpCloseGrace: number;
  gtp: boolean;
  /** Handshake metadata inspection (SNI, ALPN, TLS version, JA4); off when absent or disabled. */
  meta?: MetaLimits;
  /**
   * Hand every flow over in the same record object, valid only during the callback (for
   * consumers that write each record out at once). Default: a new record per flow.
   */
  reuseRecord?: boolean;
}

/** Supplies the handshake metadata of a flow when it ends (see agent/meta/). */
export interface MetaProvider extends FlowPlugin {
  metaOf(slot: number): FlowMeta | null;
}

export interface MeterStats {
  frames: number;
  packets: number;
  skipped: Record<string, number>;
  flowsCreated: number;
  flowsActive: number;
  flowsEnded: Record<EndReason, number>;
  clockJumps: number;
  /** Packets stamped far behind the clock, one at a time, placed at it (native/clock.h). */
  clockHeld: number;
  /** Hellos that could not be read, by reason (malformed, decrypt failed, overflow...). */
  metaErrors: Record<string, number>;
}

export class FlowMeter implements PcapBulk {
  readonly table: FlowTable;
  private meta: MetaProvider | undefined;
  private readonly metaErrors: Record<string, number> = {};

  constructor(
    opts: MeterOptions,
    private readonly onFlow: (rec: FlowRecord) => void,
  ) {
    const scratch = opts.reuseRecord ? scratchRecord() : undefined;
    this.table = new FlowTable(
      {
        idleTimeout: opts.idleTimeout,
        activeTimeout: opts.activeTimeout,
        maxFlows: opts.maxFlows,
        tcpCloseGrace: opts.tcpCloseGrace,
        activityGap: ACTIVITY_GAP_S,
        gtp: opts.gtp,
      },
      (slot, reason) => this.onFlow(buildRecord(this.table.cols, slot, reason, this.meta?.metaOf(slot) ?? null, scratch)),
    );
    if (opts.meta?.enabled) {
      this.useMeta(new MetaPlugin(opts.maxFlows, opts.meta, (reason) => {
        this.metaErrors[reason] = (this.metaErrors[reason] ?? 0) + 1;
      }));
    }
  }

  /** The handshake metadata provider; set before the first frame. */
  useMeta(provider: MetaProvider): void {
    this.meta = provider;
    this.table.setPlugin(provider);
  }

  /** One captured frame (undecodable ones are counted by reason, see stats()). */
  frame(f: Frame): void {
    this.table.frame(f.linkType, f.buf, f.offset, f.capLength, f.ts);
  }

  /** Classic pcap records in bulk (see PcapBulk): the same as frame() for each, without a call per frame. */
  pcapRecords(buf: Buffer, start: number, end: number, f: PcapRecordFormat): { end: number; frames: number; bytes: number } {
    return this.table.pcapRecords(buf, start, end, f);
  }

  /** Advance the clock without a packet (live capture's timer), in µs on the packets' time base. */
  tick(nowUs: number): void {
    this.table.advance(nowUs);
  }

  /** End flows with reason `forced`, at most `limit` per call; returns how many ended. */
  flush(limit = Infinity): number {
    return this.table.expireAll('forced', limit);
  }

  stats(): MeterStats {
    return {
      frames: this.table.count('frames'),
      packets: this.table.count('packets'),
      skipped: this.table.skipped(),
      flowsCreated: this.table.count('created'),
      flowsActive: this.table.count('live'),
      flowsEnded: this.table.ended,
      clockJumps: this.table.count('clockJumps'),
      clockHeld: this.table.count('clockHeld'),
      metaErrors: { ...this.metaErrors },
    };
  }
}
