/**
 * Extract every flow of a capture file into memory. For tests, evaluation and
 * tools on small captures; the CLI streams instead.
 */
import { FileSource } from '../capture/file-source.js';
import type { SourceEnd } from '../capture/types.js';
import type { FlowRecord } from '../features/record.js';
import { meterSource } from './drive.js';
import { FlowMeter, type MeterOptions, type MeterStats } from './meter.js';
import type { AgentConfig } from '../config.js';
import { defaults } from '../lib/schema.js';
import { metaSection } from '../meta/config.js';

export const DEFAULT_METER: MeterOptions = {
  idleTimeout: 120,
  activeTimeout: 1800,
  maxFlows: 100_000,
  tcpCloseGrace: 2,
  gtp: true,
  meta: defaults(metaSection),
};

/** Meter options from the validated configuration. */
export function meterOptions(cfg: AgentConfig): MeterOptions {
  return {
    idleTimeout: cfg.flows.idle_timeout,
    activeTimeout: cfg.flows.active_timeout,
    maxFlows: cfg.flows.max_flows,
    tcpCloseGrace: cfg.flows.tcp_close_grace,
    gtp: cfg.flows.gtp,
    meta: cfg.meta,
  };
}

export async function extractFile(
  path: string,
  opts: Partial<MeterOptions> = {},
  setup?: (meter: FlowMeter) => void,
): Promise<{ flows: FlowRecord[]; end: SourceEnd; stats: MeterStats }> {
  const flows: FlowRecord[] = [];
  const meter = new FlowMeter({ ...DEFAULT_METER, ...opts }, (r) => flows.push(r));
  setup?.(meter);
  const end = await meterSource(new FileSource(path), meter, () => undefined);
  return { flows, end, stats: meter.stats() };
}
