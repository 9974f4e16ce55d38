/**
 * The outbox between inference and the sink: what it drops is counted and not reported as
 * published, records after the shutdown seal are counted, and a sink that refuses a write (one
 * closed under it) costs a count, not an unhandled rejection that ends the process.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createTelemetry } from '../../agent/events.js';
import { Outbox } from '../../agent/pipeline/outbox.js';
import { StreamSink } from '../../agent/publish/local-sinks.js';
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

t.test('sealed at shutdown: later records are counted, the queued ones still go to the sink while it closes', async (t) => {
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
  t.same(got.flat(), [rec(1), rec(2)], 'MQTT\'s disk buffer keeps them for the next start');
});

t.test('the sink closed: what is still queued is counted at once, and never handed to it', async (t) => {
  // Found by review: with a stdout reader that stalled, the sink's close() gave up on the write
  // under way, and the outbox then wrote the next batch to the closed sink, counted nowhere.
  const tel = createTelemetry();
  const { sink, got, release } = slowSink();
  const o = new Outbox(sink, tel, 100, 'block');
  o.push(rec(1));
  o.push(rec(2));
  o.push(rec(3));
  o.seal();
  o.sinkClosed();
  t.same(o.dropped, { backlog_full: 0, after_shutdown: 2 }, 'the two queued behind the write under way, for the stats the stop logs next');
  t.equal(o.backlog, 0);
  release();
  await o.drain();
  t.same(got.flat(), [rec(1)], 'only the batch the sink had before it closed');
  t.equal(o.written + o.dropped.after_shutdown, 3, 'every record pushed is written or counted');
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

t.test('a stdout whose reader stalls, closed at a shutdown out of time: every record is delivered or counted', async (t) => {
  // run.ts's order: seal, then close the sink with the time left. A real pipe whose reader never reads.
  const reader = spawn('sleep', ['20'], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.teardown(() => { reader.kill('SIGKILL'); });
  const tel = createTelemetry();
  const sink = new StreamSink(tel, reader.stdin!);
  await sink.open();
  const o = new Outbox(sink, tel, 100_000, 'shed');
  const big = { pad: 'x'.repeat(1000) } as unknown as PublishRecord;
  for (let i = 0; i < 3000; i++) o.push(big);
  await new Promise((r) => setTimeout(r, 100)); // that write waits for the pipe
  for (let i = 0; i < 1000; i++) o.push(big); // the next batch, behind it
  o.seal();
  await sink.close(300);
  o.sinkClosed();
  t.equal(o.dropped.after_shutdown, 1000, 'the batch behind the stalled write, counted when the sink closed');
  reader.stdin!.destroy(); // the write under way settles
  await o.drain();
  const s = sink.stats();
  const lost = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  t.equal(s.delivered + lost, s.accepted, 'the sink accounts for every record it took');
  t.equal(s.accepted + o.dropped.after_shutdown, 4000, 'every record pushed reached the sink or is counted');
});
