/** Normal publishing against the shared Mosquitto on 127.0.0.1:1883. */
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { createSink } from '../../agent/publish/index.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { SHARED_BROKER } from './helpers/broker.js';
import { records, seqsOf } from './helpers/records.js';
import { clearRetained } from './helpers/retained.js';
import { subscribe } from './helpers/subscriber.js';
import { tempDir } from './helpers/tmp.js';

function setup(t: { teardown(fn: () => unknown): void }, over: Record<string, unknown> = {}) {
  const { prefix, sensor } = uniqueNames();
  const config = publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix,
    mqtt: { url: SHARED_BROKER, reconnect_period: 0.2 }, buffer: { dir: tempDir(t) }, ...over,
  });
  const base = `${prefix}/${sensor}`;
  t.teardown(() => clearRetained(SHARED_BROKER, `${base}/status`));
  return { config, topics: { flows: `${base}/flows`, status: `${base}/status`, stats: `${base}/stats` } };
}

/**
 * A sink closed at teardown if the test did not get to close it: a failed assertion must not
 * leave its connection open, which kept the test process (and the suite) waiting for minutes.
 */
async function openedSink(t: { teardown(fn: () => unknown): void }, config: Parameters<typeof createSink>[0]): Promise<Awaited<ReturnType<typeof createSink>>> {
  const sink = await createSink(config, createTelemetry());
  const close = sink.close.bind(sink);
  let closed = false;
  sink.close = (...a: Parameters<typeof close>) => {
    closed = true;
    return close(...a);
  };
  t.teardown(() => (closed ? undefined : close(0)));
  await sink.open();
  return sink;
}

t.test('every record arrives exactly once, in order', async (t) => {
  const { config, topics } = setup(t);
  const sub = await subscribe(t, SHARED_BROKER, topics.flows);
  const sink = await openedSink(t, config);
  // At most ~500 records ahead of the subscriber: the broker queues 1000 messages per client
  // (max_queued_messages) and drops beyond, which a subscriber slowed by a loaded machine met.
  for (let i = 0; i < 3000; i += 100) {
    await sub.waitFor(() => sub.messages.length >= i - 500, 15_000, `${i - 500} messages`);
    await sink.write(records(i, 100));
  }
  await sub.waitFor(() => sub.messages.length >= 3000, 15_000, '3000 messages');
  await sink.close(5000);
  await new Promise((r) => setTimeout(r, 200)); // anything extra would show up now
  const seqs = sub.messages.flatMap((m) => seqsOf(m.payload));
  t.same(seqs, Array.from({ length: 3000 }, (_, i) => i));
  const s = sink.stats();
  t.match(s, { accepted: 3000, delivered: 3000, buffered_records: 0, in_flight: 0 });
  t.same(Object.values(s.dropped).filter((n) => n > 0), [], 'nothing dropped');
});

t.test('batch_size sends JSON arrays of up to N records', async (t) => {
  const { config, topics } = setup(t, { batch_size: 50 });
  const sub = await subscribe(t, SHARED_BROKER, topics.flows);
  const sink = await openedSink(t, config);
  await sink.write(records(0, 1000));
  await sub.waitFor(() => sub.messages.length >= 20, 10_000, '20 array messages');
  await sink.close(5000);
  t.equal(sub.messages.length, 20);
  t.ok(sub.messages.every((m) => Array.isArray(JSON.parse(m.payload.toString()))), 'each message is an array');
  t.same(sub.messages.flatMap((m) => seqsOf(m.payload)), Array.from({ length: 1000 }, (_, i) => i));
});

t.test('status is online (retained) while connected and offline after close; stats go to their topic', async (t) => {
  const { config, topics } = setup(t);
  const sink = await openedSink(t, config);
  const sub = await subscribe(t, SHARED_BROKER, [topics.status, topics.stats]);
  await sub.waitFor(() => sub.on(topics.status).length > 0, 5000, 'status');
  // Connect a new subscriber after the fact: the broker must have kept the status.
  const late = await subscribe(t, SHARED_BROKER, topics.status);
  await late.waitFor(() => late.messages.length > 0, 5000, 'retained status');
  t.match(JSON.parse(late.messages[0]!.payload.toString()), { state: 'online', sensor: config.sensor_id });
  t.equal(late.messages[0]!.retain, true, 'retained');

  t.equal(sink.publishStats({ flows: 12, uptime_s: 3 }), true);
  await sub.waitFor(() => sub.on(topics.stats).length > 0, 5000, 'stats');
  t.same(JSON.parse(sub.on(topics.stats)[0]!.payload.toString()), { flows: 12, uptime_s: 3 });

  await sink.close(5000);
  await sub.waitFor(() => sub.on(topics.status).some((m) => m.payload.includes('offline')), 5000, 'offline');
  const after = await subscribe(t, SHARED_BROKER, topics.status);
  await after.waitFor(() => after.messages.length > 0, 5000, 'retained offline');
  t.match(JSON.parse(after.messages[0]!.payload.toString()), { state: 'offline' });
});
