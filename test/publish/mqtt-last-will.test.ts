/** A publisher that dies without a goodbye is announced offline by the broker (last will, retained). */
import t from 'tap';
import { SHARED_BROKER, startBroker } from './helpers/broker.js';
import { uniqueNames } from './helpers/config.js';
import { runPublisher } from './helpers/publisher.js';
import { clearRetained } from './helpers/retained.js';
import { subscribe } from './helpers/subscriber.js';
import { tempDir } from './helpers/tmp.js';

t.test('SIGKILL of the publisher turns its retained status offline', async (t) => {
  const { prefix, sensor } = uniqueNames();
  const status = `${prefix}/${sensor}/status`;
  t.teardown(() => clearRetained(SHARED_BROKER, status));
  const sub = await subscribe(t, SHARED_BROKER, status);
  const pub = runPublisher(t, {
    config: { sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, mqtt: { url: SHARED_BROKER, keepalive: 5 }, buffer: { dir: tempDir(t) } },
    from: 0, count: 10, batch: 10, pauseMs: 0,
  });
  await sub.waitFor(() => sub.messages.some((m) => m.payload.includes('"online"')), 10_000, 'online');
  await pub.kill();
  await sub.waitFor(() => sub.messages.some((m) => m.payload.includes('"offline"')), 10_000, 'the last will');
  const late = await subscribe(t, SHARED_BROKER, status);
  await late.waitFor(() => late.messages.length > 0, 5000, 'retained status');
  t.match(JSON.parse(late.messages[0]!.payload.toString()), { state: 'offline', sensor });
  t.equal(late.messages[0]!.retain, true);
});

t.test("the last will's time is when its connection began, not when the agent started", async (t) => {
  // Found by review: the will was made once, so after a broker away at the start (or days of
  // reconnects) the offline status carried the agent's start time.
  const broker = await startBroker(t);
  await broker.stop();
  const { prefix, sensor } = uniqueNames();
  const status = `${prefix}/${sensor}/status`;
  const pub = runPublisher(t, {
    config: { sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, mqtt: { url: broker.url, keepalive: 5, reconnect_period: 0.2 }, buffer: { dir: tempDir(t) } },
    from: 0, count: 10, batch: 10, pauseMs: 0,
  });
  await new Promise((r) => setTimeout(r, 1500)); // the agent tries meanwhile
  const upAt = Date.now();
  await broker.start();
  const sub = await subscribe(t, broker.url, status);
  await sub.waitFor(() => sub.messages.some((m) => m.payload.includes('"online"')), 10_000, 'online');
  await pub.kill();
  await sub.waitFor(() => sub.messages.some((m) => m.payload.includes('"offline"')), 15_000, 'the last will');
  const will = JSON.parse(sub.messages.find((m) => m.payload.includes('"offline"'))!.payload.toString()) as { ts: string };
  t.ok(Date.parse(will.ts) >= upAt - 300, `the will's time (${will.ts}) is the connection's, after the broker came up (${new Date(upAt).toISOString()})`);
});
