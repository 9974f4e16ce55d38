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
import { eth, ipv4, udp } from '../helpers/packets.js';

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

t.test('the flows open at the end are ended in steps with the event loop turning between them', async (t) => {
  // Found by measuring replay: the whole end-of-input flush ran before any inference answer was
  // read, so one worker got four batches and the rest waited for the flush to end.
  const total = 5000;
  let ended = 0;
  let endedAtFirstTurn = -1;
  const meter = new FlowMeter({ ...DEFAULT_METER, maxFlows: 10_000 }, () => {
    if (ended++ === 0) setImmediate(() => (endedAtFirstTurn = ended));
  });
  const source: PacketSource = {
    description: 'flows',
    run: async (onFrame) => {
      for (let i = 0; i < total; i++) {
        const buf = eth(ipv4({ src: `10.1.${i >> 8}.${i & 255}`, dst: '10.9.9.9', proto: 17 }, udp(20000 + (i % 40000), 53, Buffer.from('q'))));
        onFrame({ linkType: 1, buf, offset: 0, capLength: buf.length, wireLength: buf.length, ts: 1_700_000_000_000_000 + i, iface: 0 });
      }
      return { reason: 'eof' };
    },
    stop: () => undefined,
    stats: () => ({ frames: 0, bytes: 0, skipped: {} }) as unknown as ReturnType<PacketSource['stats']>,
  };
  await meterSource(source, meter, () => undefined);
  t.equal(ended, total, 'every flow ended');
  t.ok(endedAtFirstTurn > 0 && endedAtFirstTurn < total, `the event loop turned after ${endedAtFirstTurn} of ${total} flows`);
});
