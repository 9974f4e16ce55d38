/**
 * A broker with a message size limit (Mosquitto's max_packet_size, as EMQX and AWS IoT have)
 * closes the connection on a larger PUBLISH: over MQTT 3.1.1 that is its only answer. The sink
 * keeps every message within publish.mqtt.max_packet_size, cutting batches to fit and dropping
 * (counted) a record that cannot fit alone; a limit set too high is reported, not looped on silently.
 */
import t from 'tap';
import { createSink } from '../../agent/publish/index.js';
import { startBroker } from './helpers/broker.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { audit, records, seqsOf } from './helpers/records.js';
import { subscribe } from './helpers/subscriber.js';
import { capturingTelemetry } from './helpers/telemetry.js';
import { tempDir } from './helpers/tmp.js';

const BROKER_LIMIT = 4096;

t.test('batches are cut to fit the limit; a record over it is dropped, counted and named in the log', async (t) => {
  const broker = await startBroker(t, { extra: [`max_packet_size ${BROKER_LIMIT}`] });
  await broker.start();
  const { prefix, sensor } = uniqueNames();
  const flows = `${prefix}/${sensor}/flows`;
  const sub = await subscribe(t, broker.url, flows);
  const { t: tel, logs } = capturingTelemetry();
  const sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, batch_size: 50,
    mqtt: { url: broker.url, reconnect_period: 0.2, max_packet_size: BROKER_LIMIT },
    buffer: { dir: tempDir(t) },
  }), tel);
  await sink.open();
  t.teardown(() => sink.close(0));
  // 300 records of 400 bytes: a batch of 50 would be 20 KB. Record 150 alone is 6 KB.
  const all = records(0, 300, 'p', 400);
  all[150] = records(150, 1, 'p', 6000)[0]!;
  await sink.write(all);
  await sub.waitFor(() => sub.messages.flatMap((m) => seqsOf(m.payload)).length >= 299, 15_000, '299 records');
  const seqs = sub.messages.flatMap((m) => seqsOf(m.payload));
  t.same(audit(seqs, 300), { missing: [150], duplicates: 0, firstSeenInOrder: true }, 'every record but the oversized one, once, in order');
  t.ok(sub.messages.every((m) => m.payload.length + flows.length + 9 <= BROKER_LIMIT), 'no message over the limit');
  // ~4,040 bytes of payload hold 10 records of 400 bytes: about 30 messages, not 6 of 50 nor 300 of 1.
  t.ok(sub.messages.length >= 29 && sub.messages.length <= 36, `batches cut to fit: ${sub.messages.length} messages`);
  await new Promise((r) => setTimeout(r, 200));
  t.match(sink.stats(), { delivered: 299, buffered_records: 0, reconnects: 0, dropped: { too_large: 1 } });
  t.match(logs(), /"reason":"too_large".*"bytes":60\d\d.*publish\.mqtt\.max_packet_size/, 'the drop is logged with the setting to change');
});

t.test('single records (batch_size 1) over the limit are skipped without stalling the ones after', async (t) => {
  const broker = await startBroker(t, { extra: [`max_packet_size ${BROKER_LIMIT}`] });
  await broker.start();
  const { prefix, sensor } = uniqueNames();
  const sub = await subscribe(t, broker.url, `${prefix}/${sensor}/flows`);
  const { t: tel } = capturingTelemetry();
  const sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix,
    mqtt: { url: broker.url, reconnect_period: 0.2, max_packet_size: '4 KiB' },
    buffer: { dir: tempDir(t) },
  }), tel);
  await sink.open();
  t.teardown(() => sink.close(0));
  const all = records(0, 20, 'q', 300);
  all[0] = records(0, 1, 'q', 5000)[0]!;
  all[19] = records(19, 1, 'q', 5000)[0]!;
  await sink.write(all);
  await sub.waitFor(() => sub.messages.length >= 18, 10_000, '18 records');
  await new Promise((r) => setTimeout(r, 200));
  t.same(sub.messages.map((m) => seqsOf(m.payload)[0]), Array.from({ length: 18 }, (_, i) => i + 1));
  t.match(sink.stats(), { delivered: 18, buffered_records: 0, dropped: { too_large: 2 } });
});

t.test('a limit set above the broker\'s: the repeated closes are reported with the fix', async (t) => {
  const broker = await startBroker(t, { extra: [`max_packet_size ${BROKER_LIMIT}`] });
  await broker.start();
  const { prefix, sensor } = uniqueNames();
  const { t: tel, logs } = capturingTelemetry();
  const sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix, batch_size: 50,
    mqtt: { url: broker.url, reconnect_period: 0.1 },
    buffer: { dir: tempDir(t) },
  }), tel);
  await sink.open();
  t.teardown(() => sink.close(0));
  await sink.write(records(0, 100, 'r', 400));
  const deadline = Date.now() + 10_000;
  while (!/closed_with_nothing_acknowledged/.test(logs()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(logs(), /"reason":"closed_with_nothing_acknowledged".*"closes_in_a_row":3.*publish\.mqtt\.max_packet_size/,
    'after 3 closes in a row with nothing acknowledged, the log names the setting');
  t.equal(sink.stats().delivered, 0, 'the broker took nothing (it refuses the 20 KB batches)');
  t.equal(sink.stats().buffered_records, 100, 'and nothing was lost: the records wait in the buffer');
});
