/**
 * A connection the broker closes without a word is logged: another client taking over the
 * sink's client id (two sensors with one sensor_id), a CONNECT the broker refuses as malformed.
 * Found by review: 24 reconnects and duplicate records, with no line in the log.
 */
import t from 'tap';
import { connect } from 'mqtt';
import { startBroker } from './helpers/broker.js';
import { uniqueNames } from './helpers/config.js';
import { openMqttSink } from './helpers/mqtt-sink.js';
import { waitUntil } from './helpers/wait.js';

t.test('another client taking over the client id: the close is logged, naming the client id and the fix', async (t) => {
  const broker = await startBroker(t);
  const { prefix, sensor } = uniqueNames();
  const { sink, cap } = await openMqttSink(t, broker.url, { prefix, sensor }, 5);
  await waitUntil(() => sink.stats().connected, 5000, 'the sink connected');
  t.notMatch(cap.logs(), /connection_closed/, 'nothing said while connected');
  const twin = connect(broker.url, { clientId: `eta-sensor-${sensor}`, reconnectPeriod: 0 });
  t.teardown(() => new Promise<void>((r) => twin.end(true, {}, () => r())));
  await waitUntil(() => /connection_closed/.test(cap.logs()), 5000, 'the close logged');
  const line = cap.logs().split('\n').find((l) => l.includes('connection_closed'))!;
  t.match(JSON.parse(line), { level: 40, reason: 'connection_closed', connected: true, hint: new RegExp(`client id \\(eta-sensor-${sensor}\\).*publish\\.sensor_id`) });
  t.equal(cap.t.counters.get('publish.connection_closed'), 1, 'counted');
});

t.test('a broker away (connection refused) is reported as a failed connection, not also as a close', async (t) => {
  const broker = await startBroker(t);
  await broker.stop();
  const { cap } = await openMqttSink(t, broker.url, uniqueNames(), 0.1);
  await waitUntil(() => (cap.t.counters.get('publish.connect_refused') ?? 0) >= 3, 5000, 'three refused attempts');
  t.equal(cap.t.counters.get('publish.connection_closed') ?? 0, 0);
});

t.test('each loss of an established connection is logged, not only the 1st, 10th, 100th', async (t) => {
  // Found by review: the second broker stop of a run left no line in the log.
  const broker = await startBroker(t);
  const { sink, cap } = await openMqttSink(t, broker.url, uniqueNames(), 0.1);
  for (let round = 1; round <= 2; round++) {
    await waitUntil(() => sink.stats().connected, 5000, 'the sink connected');
    await broker.stop();
    await waitUntil(() => !sink.stats().connected, 5000, 'the sink saw the broker go');
    await broker.start();
  }
  const lost = cap.logs().split('\n').filter((l) => /connection_closed|connection lost/.test(l));
  t.equal(lost.length, 2, `one line per broker stop:\n${lost.join('\n')}`);
});
