/**
 * Drives a flow meter from a packet source to the end of input: frames in,
 * back-pressure between chunks, then every remaining flow ended as `forced`
 * in batches (so a million open flows at the end never pile up in memory).
 */
import type { PacketSource, SourceEnd } from '../capture/types.js';
import type { FlowMeter } from './meter.js';

const FLUSH_BATCH = 4096;

export async function meterSource(
  source: PacketSource,
  meter: FlowMeter,
  between: () => Promise<void> | void,
  signal?: AbortSignal,
): Promise<SourceEnd> {
  const onAbort = (): void => source.stop();
  signal?.addEventListener('abort', onAbort, { once: true });
  // A stop asked for before this point (SIGTERM while the models and sink were loading) is kept.
  if (signal?.aborted) source.stop();
  let end: SourceEnd;
  try {
    end = await source.run((f) => meter.frame(f), { between, pcapBulk: meter });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  while (meter.flush(FLUSH_BATCH) > 0) await between();
  await between();
  return end;
}
