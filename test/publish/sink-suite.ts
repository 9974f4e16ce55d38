/**
 * The sink contract (agent/publish/types.ts), written once and run against every
 * implementation and MQTT setting (sink-contract.test.ts).
 */
import type { Sink } from '../../agent/publish/types.js';
import { records } from './helpers/records.js';

type Tap = typeof import('tap').default;
interface Teardown { teardown(fn: () => unknown): void }

export interface SinkUnderTest {
  /** A fresh sink (not opened) and a way to read what reached its destination. */
  make(t: Teardown): Promise<{
    sink: Sink;
    /** The seqs that reached the destination once at least `n` did (null: the sink has no destination). */
    received(n: number): Promise<number[] | null>;
  }>;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function sinkContract(t: Tap, name: string, impl: SinkUnderTest): void {
  t.test(`${name}: batches arrive whole and in order; stats add up`, async (t) => {
    const { sink, received } = await impl.make(t);
    await sink.open();
    for (let i = 0; i < 500; i += 100) await sink.write(records(i, 100));
    await sink.write([]);
    await sink.close(5000);
    const got = await received(500);
    if (got !== null) t.same(got, range(500));
    const s = sink.stats();
    t.match(s, { sink: sink.name, accepted: 500, delivered: 500, buffered_records: 0, buffered_bytes: 0, in_flight: 0 });
    t.same(Object.entries(s.dropped).filter(([, n]) => n > 0), [], 'nothing dropped');
  });

  t.test(`${name}: a record JSON cannot represent is dropped and counted, never thrown`, async (t) => {
    const { sink, received } = await impl.make(t);
    await sink.open();
    const batch = records(0, 3);
    const bad = { ...batch[1]!, flow: { seq: 1, bytes: 10n } };
    await sink.write([batch[0]!, bad, batch[2]!]);
    await sink.close(5000);
    const got = await received(2);
    if (got !== null) t.same(got, [0, 2]);
    t.match(sink.stats(), { accepted: 3, delivered: 2, dropped: { serialize: 1 } });
  });

  t.test(`${name}: publishStats answers whether it sent, and never throws`, async (t) => {
    const { sink } = await impl.make(t);
    await sink.open();
    t.type(sink.publishStats({ flows: 1 }), 'boolean');
    await sink.close(1000);
  });
}
