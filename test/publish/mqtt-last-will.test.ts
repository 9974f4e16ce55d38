/** A publisher that dies without a goodbye is announced offline by the broker (last will, retained). */
import t from 'tap';
import { SHARED_BROKER } from './helpers/broker.js';
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
