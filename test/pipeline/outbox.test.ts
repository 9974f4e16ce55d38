/**
 * The outbox between inference and the sink: what it drops is counted and not reported as
 * published, records after the shutdown seal are counted, and a sink that refuses a write (one
 * closed under it) costs a count, not an unhandled rejection that ends the process.
 */
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { Outbox } from '../../agent/pipeline/outbox.js';
import type { PublishRecord, Sink } from '../../agent/publish/types.js';

/** A sink whose writes wait until release() (or fail with `fail`), recording what it got. */
function slowSink(fail?: string): { sink: Sink; got: PublishRecord[][]; release(): void } {
  const got: PublishRecord[][] = [];
  let gate: () => void = () => undefined;
  let open = new Promise<void>((r) => (gate = r));
  const sink = {
    async write(batch: PublishRecord[]): Promise<void> {
      got.push(batch);
      await open;
      if (fail) throw new Error(fail);
    },
  } as unknown as Sink;
  return { sink, got, release: () => { gate(); open = Promise.resolve(); } };
}

const rec = (i: number): PublishRecord => ({ i } as unknown as PublishRecord);

t.test('live (shed): beyond the limit a record is dropped, counted, and push says so', async (t) => {
  const tel = createTelemetry();
  const { sink, got, release } = slowSink();
  const o = new Outbox(sink, tel, 2, 'shed');
  const took = [1, 2, 3, 4].map((i) => o.push(rec(i)));
  // 1 went to the sink at once; 2 and 3 wait; 4 finds 2 waiting.
  t.same(took, [true, true, true, false]);
  t.equal(tel.counters.get('publish.backlog-full'), 1);
  t.same(o.dropped, { backlog_full: 1, after_shutdown: 0 }, 'for the stats topic (publish.dropped)');
  release();
  await o.drain();
  t.same(got.flat(), [rec(1), rec(2), rec(3)]);
  t.equal(o.written, 3);
});

t.test('sealed at shutdown: later records are counted, the queued ones still go to the sink', async (t) => {
  const tel = createTelemetry();
  const { sink, got, release } = slowSink();
  const o = new Outbox(sink, tel, 100, 'block');
  o.push(rec(1));
  o.push(rec(2));
  o.seal();
  t.equal(o.push(rec(3)), false);
  t.equal(tel.counters.get('publish.after-shutdown'), 1);
  t.same(o.dropped, { backlog_full: 0, after_shutdown: 1 });
  release();
  await o.drain();
  t.same(got.flat(), [rec(1), rec(2)]);
});

t.test('a sink that refuses a write: counted as write-failed, no unhandled rejection, later records still go', async (t) => {
  const tel = createTelemetry();
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const { sink, got, release } = slowSink('disk buffer is closed');
  const o = new Outbox(sink, tel, 100, 'block');
  o.push(rec(1));
  o.push(rec(2));
  release();
  await o.drain();
  await new Promise((r) => setImmediate(r));
  process.off('unhandledRejection', onUnhandled);
  t.same(unhandled, []);
  t.equal(tel.counters.get('publish.write-failed'), 2, 'both batches counted');
  t.equal(o.written, 0);
  t.equal(got.length, 2);
});
