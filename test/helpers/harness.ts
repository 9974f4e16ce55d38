/**
 * Feeds hand-built packets straight into a flow meter and reads back the
 * finished flows by feature name: the small harness every feature and
 * end-reason test uses.
 */
import { newFrame } from '../../agent/capture/types.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter, type MeterOptions } from '../../agent/flows/meter.js';
import { HeldMeta } from '../../agent/meta/held-meta.js';

export class Harness {
  readonly flows: FlowRecord[] = [];
  readonly meter: FlowMeter;
  private readonly frame = newFrame();

  constructor(opts: Partial<MeterOptions> = {}) {
    this.meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 1024, ...opts }, (r) => this.flows.push(plainMeta(r)));
  }

  /** Send one frame at `tsMs` milliseconds (link type Ethernet unless given). */
  send(tsMs: number, data: Buffer, linkType = 1): this {
    const f = this.frame;
    f.buf = data;
    f.offset = 0;
    f.capLength = data.length;
    f.wireLength = data.length;
    f.linkType = linkType;
    f.ts = 1.7e15 + tsMs * 1000;
    this.meter.frame(f);
    return this;
  }

  /** End every open flow (reason forced) and return all finished flows in end order. */
  finish(): FlowRecord[] {
    this.meter.flush();
    return this.flows;
  }
}

export function feat(r: FlowRecord, name: string): number {
  const i = FEATURE_NAMES.indexOf(name);
  if (i < 0) throw new Error(`no feature named ${name}`);
  return r.features[i]!;
}

/**
 * The record with a hello the flow core read in place (held-meta.ts, fields read on demand) as
 * the plain object its toJSON gives, so that tests compare it with what the inspector reports.
 */
export function plainMeta(r: FlowRecord): FlowRecord {
  return r.meta instanceof HeldMeta ? { ...r, meta: r.meta.toJSON() } : r;
}
