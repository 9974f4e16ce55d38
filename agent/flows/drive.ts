/**
 * Drives a flow meter from a packet source to the end of input: frames in,
 * back-pressure between chunks, then every remaining flow ended as `forced`
 * in batches (so a million open flows at the end never pile up in memory).
 */
import type { PacketSource, SourceEnd } from '../capture/types.js';
import type { FlowMeter } from './meter.js';

const FLUSH_BATCH = 1024;

/** One turn of the event loop: lets the other threads' answers in (inference results, the row writer's). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

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
  // The flows still open at the end are ended in steps, with a turn of the event loop between
  // them: without it the whole flush (tens of thousands of flows) ran before any inference answer
  // was read, so the workers got four batches and the rest waited for the flush to end (a replay
  // then spent up to a tenth of its time finishing the last labels after its input).
  while (meter.flush(FLUSH_BATCH) > 0) {
    await between();
    await turn();
  }
  await between();
  return end;
}
