/**
 * meterSource and a stop asked for before it started (SIGTERM while `run` was still loading its
 * models): the abort listener it adds cannot hear an abort that already happened, so it must
 * check, or the source runs on for good.
 */
import t from 'tap';
import type { PacketSource, SourceEnd } from '../../agent/capture/types.js';
import { meterSource } from '../../agent/flows/drive.js';
import { FlowMeter } from '../../agent/flows/meter.js';
import { DEFAULT_METER } from '../../agent/flows/extract-file.js';

/** A live-like source: it ends only when stopped. */
function idleSource(): PacketSource {
  let finish: ((e: SourceEnd) => void) | undefined;
  let stopped = false;
  return {
    description: 'idle',
    run: () => (stopped ? Promise.resolve({ reason: 'stopped' }) : new Promise<SourceEnd>((r) => (finish = r))),
    stop: () => {
      stopped = true;
      finish?.({ reason: 'stopped' });
    },
    stats: () => ({ frames: 0, bytes: 0, skipped: {} }) as unknown as ReturnType<PacketSource['stats']>,
  };
}

t.test('an abort that came before meterSource stops the source', async (t) => {
  const ac = new AbortController();
  ac.abort();
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 16 }, () => undefined);
  const timeout = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 3000).unref());
  const end = await Promise.race([meterSource(idleSource(), meter, () => undefined, ac.signal), timeout]);
  t.same(end, { reason: 'stopped' });
});

t.test('an abort during the run stops it too', async (t) => {
  const ac = new AbortController();
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 16 }, () => undefined);
  setTimeout(() => ac.abort(), 20);
  t.same(await meterSource(idleSource(), meter, () => undefined, ac.signal), { reason: 'stopped' });
});
