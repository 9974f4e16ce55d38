/** The publish section: defaults, exact messages, secrets kept out of URLs and logs, and nothing opened before open(). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import t from 'tap';
import { createTelemetry } from '../../agent/events.js';
import { defaults, parseSection } from '../../agent/lib/schema.js';
import { checkPublishConfig, createSink, publishSchema, redactUrl } from '../../agent/publish/index.js';
import { publishConfig } from './helpers/config.js';
import { tempDir } from './helpers/tmp.js';

t.test('defaults', async (t) => {
  const d = defaults(publishSchema);
  t.match(d, {
    sink: 'stdout', sensor_id: '', topic_prefix: 'eta', batch_size: 1, stats_interval: 60,
    mqtt: { url: 'mqtt://localhost:1883', qos: 1, session: 'persistent', max_inflight: 0, tls: { reject_unauthorized: true } },
    buffer: { max_size: 64 * 1024 * 1024, overflow: 'drop-oldest', fsync: 'interval', fsync_interval: 1 },
  });
  t.same(checkPublishConfig(d), []);
});

t.test('path-qualified messages', async (t) => {
  const issues: string[] = [];
  parseSection(publishSchema, {
    sink: 'kafka', sensor_id: 'a/b', topic_prefix: 'eta/#', batch_size: 0,
    mqtt: { url: 'http://x', qos: 3, tls: { reject_unauthorized: 'no' } },
    buffer: { overflow: 'block', fsync: 'sometimes', max_size: '1KiB' },
  }, 'publish', issues);
  t.same(issues, [
    'publish.sink must be mqtt, stdout, file or none (got "kafka")',
    'publish.sensor_id must be letters, digits, ".", "_" or "-" (it is one MQTT topic level) (got "a/b")',
    'publish.topic_prefix must be a topic without wildcards (#, +), spaces, control characters, a leading $ (the broker\'s own) or a trailing / (got "eta/#")',
    'publish.batch_size must be an integer between 1 and 10000 (got 0)',
    'publish.mqtt.url must start with mqtt:// or mqtts:// (got "http://x")',
    'publish.mqtt.qos must be 0, 1 or 2 (got 3)',
    'publish.mqtt.tls.reject_unauthorized must be true or false (got "no")',
    'publish.buffer.max_size must be a size in bytes such as 67108864 or "64MiB" of at least 65536 (got "1KiB")',
    'publish.buffer.overflow must be drop-oldest or drop-newest (got "block")',
    'publish.buffer.fsync must be always, interval or never (got "sometimes")',
  ]);
});

t.test('a topic prefix the broker would refuse (a control character, $SYS) is refused; other topics are taken', async (t) => {
  for (const prefix of ['a\u0000b', 'eta\u007f', '$SYS/eta', 'eta/', 'eta #', '+']) {
    const issues: string[] = [];
    parseSection(publishSchema, { topic_prefix: prefix }, 'publish', issues);
    t.equal(issues.length, 1, JSON.stringify(prefix));
    t.match(issues[0], /^publish\.topic_prefix must be a topic without wildcards/);
  }
  for (const prefix of ['eta', 'a/b/c', 'x', 'telco/gw-01.eu', 'caf\u00e9', 'a$b']) {
    const issues: string[] = [];
    parseSection(publishSchema, { topic_prefix: prefix }, 'publish', issues);
    t.same(issues, [], JSON.stringify(prefix));
  }
});

t.test('no password in the URL; cross-field rules', async (t) => {
  const issues: string[] = [];
  parseSection(publishSchema, { mqtt: { url: 'mqtts://u:hunter2@broker:8883' } }, 'publish', issues);
  const creds = 'publish.mqtt.url must not contain credentials (user@ or user:password@); use publish.mqtt.username and publish.mqtt.password_file, or the ETA_MQTT_USERNAME and ETA_MQTT_PASSWORD environment variables';
  t.same(issues, [creds]);
  t.notOk(issues.join().includes('hunter2'), 'the message does not repeat it');
  // A password hidden from URL() as part of the user name (mqtt.js decodes it and splits it), or a user alone.
  for (const url of ['mqtt://bob%3Ahunter2@broker:1883', 'mqtt://bob@broker:1883']) {
    const more: string[] = [];
    parseSection(publishSchema, { mqtt: { url } }, 'publish', more);
    t.same(more, [creds], url);
    t.notOk(more.join().includes('hunter2'));
  }
  const c = publishConfig({ sink: 'mqtt', mqtt: { url: 'mqtt://broker', password: 'x', password_file: '/p', tls: { cert: '/c.pem' } } });
  t.same(checkPublishConfig(c), [
    'publish.mqtt.password and publish.mqtt.password_file are both set; keep one',
    'publish.mqtt.password_file is set without publish.mqtt.username; set the user name too (or ETA_MQTT_USERNAME)',
    'publish.mqtt.tls.cert and publish.mqtt.tls.key go together; set both or neither',
    'publish.mqtt.tls is set but publish.mqtt.url is mqtt:// (plain TCP); use mqtts://',
  ]);
  await t.rejects(createSink(c, createTelemetry()), { code: 'E_CONFIG' });
  // Found by review: a password from the environment (a line left in /etc/eta-sensor/env) was not named as such.
  t.match(checkPublishConfig(c, 'publish', { ETA_MQTT_PASSWORD: 'x' }), ['publish.mqtt.password (from ETA_MQTT_PASSWORD) and publish.mqtt.password_file are both set; keep one']);
});

t.test('redactUrl', async (t) => {
  t.equal(redactUrl('mqtts://user:pw@host:8883'), 'mqtts://***@host:8883');
  t.equal(redactUrl('mqtt://host:1883'), 'mqtt://host:1883');
  t.equal(redactUrl('mqtt://bob%3Ahunter2@host:1883'), 'mqtt://***@host:1883', 'a user name too: it may hide a password');
});

t.test('createSink opens nothing; open() names the option to fix', async (t) => {
  const missing = path.join(tempDir(t), 'nope', 'ca.pem');
  const sink = await createSink(publishConfig({
    sink: 'mqtt', mqtt: { url: 'mqtts://127.0.0.1:1', tls: { ca: missing } }, buffer: { dir: path.join(tempDir(t), 'buf') },
  }), createTelemetry());
  t.equal(sink.name, 'mqtt');
  await t.rejects(sink.open(), { code: 'E_PUBLISH', message: /cannot read publish\.mqtt\.tls\.ca/ });
  const file = await createSink(publishConfig({ sink: 'file', file: { path: path.join(tempDir(t), 'no', 'x.jsonl') } }), createTelemetry());
  await t.rejects(file.open(), { code: 'E_PUBLISH', message: /publish\.file\.path/ });
  const notADir = path.join(tempDir(t), 'file');
  fs.writeFileSync(notADir, '');
  const buf = await createSink(publishConfig({ sink: 'mqtt', buffer: { dir: path.join(notADir, 'buffer') } }), createTelemetry());
  await t.rejects(buf.open(), { code: 'E_PUBLISH', message: /publish buffer directory/ });
});
