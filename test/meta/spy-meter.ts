/**
 * A flow meter whose handshake inspector records the packets C hands it (hello_watch.c), for the
 * tests of what C does on its own.
 */
import { plainMeta } from '../helpers/harness.js';
import { newFrame } from '../../agent/capture/types.js';
import type { FlowRecord } from '../../agent/features/record.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import type { Core } from '../../agent/flows/native-core.js';
import type { Packet } from '../../agent/flows/packet.js';
import { defaults } from '../../agent/lib/schema.js';
import { metaSection, type MetaLimits } from '../../agent/meta/config.js';
import { MetaPlugin } from '../../agent/meta/flow-plugin.js';

/** A MetaPlugin that records what C handed it. */
export class Spy extends MetaPlugin {
  readonly seen: Array<{ sport: number; action: number; first: number }> = [];
  /** The source port of the packet being handed on, while it is (errors reported then belong to its flow). */
  current = -1;
  /** The C table, once built. */
  table: Pick<Core, 'helloOf' | 'takeSplit'> | null = null;
  override attach(core: Pick<Core, 'helloOf' | 'takeSplit'>): void {
    this.table = core;
    super.attach(core);
  }
  /** The client port of the flow ending now (meterWithSpy: its record was just written). */
  endingPort?: () => number; // unset while MetaPlugin's constructor runs onFree (warmRarePaths)
  /** Reports at a flow's end (a hello not whole: flow-plugin.ts onFree) belong to the ending flow. */
  override onFree(slot: number): void {
    this.current = this.endingPort?.() ?? -1;
    super.onFree(slot);
    this.current = -1;
  }
  override onPacket(slot: number, dir: number, p: Packet, action: number): void {
    this.seen.push({ sport: p.sport, action, first: p.capPayload > 0 ? p.buf[p.payloadOff]! : -1 });
    this.current = dir === 0 ? p.sport : p.dport;
    super.onPacket(slot, dir, p, action);
    this.current = -1;
  }
}

/**
 * A meter of `maxFlows` slots (the least recently used flow is ended to make room) with a Spy as
 * its inspector, under `limits` (meta's defaults unless given); `errors` collects what it reports.
 */
export function meterWithSpy(maxFlows = 4096, limits: MetaLimits = defaults(metaSection)): {
  spy: Spy; send: (ms: number, frame: Buffer) => void; finish: () => void; flows: FlowRecord[]; errors: string[];
  /** Each error with the client port of the flow whose packet raised it ("port:reason"). */
  flowErrors: string[];
} {
  const flows: FlowRecord[] = [];
  const errors: string[] = [];
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows, meta: undefined }, (r) => flows.push(plainMeta(r)));
  const flowErrors: string[] = [];
  const spy: Spy = new Spy(maxFlows, limits, (reason) => {
    errors.push(reason);
    flowErrors.push(`${spy.current}:${reason}`);
  });
  meter.useMeta(spy);
  spy.endingPort = () => flows[flows.length - 1]?.srcPort ?? -1;
  const f = newFrame();
  return {
    spy,
    send(ms, frame) {
      f.buf = frame;
      f.offset = 0;
      f.capLength = frame.length;
      f.wireLength = frame.length;
      f.linkType = 1;
      f.ts = 1.7e15 + ms * 1000;
      meter.frame(f);
    },
    finish: () => void meter.flush(),
    flows,
    errors,
    flowErrors,
  };
}
