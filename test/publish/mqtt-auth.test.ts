/**
 * User name and password: the password comes from a file (or the environment, through the
 * schema's env declaration), is refused clearly when wrong, and never appears in a log.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import t, { type Test } from 'tap';
import { createSink, publishSchema, SECRET_FIELDS } from '../../agent/publish/index.js';
import type { Sink } from '../../agent/publish/types.js';
import { startBroker } from './helpers/broker.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { records } from './helpers/records.js';
import { capturingTelemetry } from './helpers/telemetry.js';
import { tempDir } from './helpers/tmp.js';
import { waitUntil } from './helpers/wait.js';

const SECRET = 'pw-s3cret-7f1e';

/** An MQTT sink logging in as "sensor" with the password in `file`, opened, with 5 records written to it. */
async function sensorSink(t: Test, url: string, file: string): Promise<{ sink: Sink; cap: ReturnType<typeof capturingTelemetry> }> {
  const { prefix, sensor } = uniqueNames();
  const cap = capturingTelemetry();
  const sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix,
    mqtt: { url, username: 'sensor', password_file: file, reconnect_period: 0.2 }, buffer: { dir: tempDir(t) },
  }), cap.t);
  t.teardown(() => sink.close(0));
  await sink.open();
  await sink.write(records(0, 5));
  return { sink, cap };
}

t.test('username and password_file', async (t) => {
  const dir = tempDir(t);
  const passwd = path.join(dir, 'passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'sensor', SECRET]);
  const broker = await startBroker(t, { passwordFile: passwd });

  for (const [label, content, ok] of [['right', `${SECRET}\n`, true], ['wrong', 'not-it\n', false]] as const) {
    await t.test(`${label} password`, async (t) => {
      const file = path.join(dir, `${label}.pw`);
      fs.writeFileSync(file, content, { mode: 0o600 });
      const { sink, cap } = await sensorSink(t, broker.url, file);
      if (ok) {
        await waitUntil(() => sink.stats().delivered === 5, 5000, 'delivery');
        t.pass('delivered');
      } else {
        // Mosquitto says "not authorized" (MQTT 3.1.1 code 5) for a wrong password; code 4 is "bad user name or password".
        await waitUntil(() => cap.t.counters.get('publish.connect_not_authorized') + cap.t.counters.get('publish.connect_auth') > 0, 5000, 'a refusal');
        t.match(cap.logs(), /check publish\.mqtt\.username and the password|refused the user name or password/);
        t.match(sink.stats(), { delivered: 0, buffered_records: 5 });
      }
      t.notOk(cap.logs().includes(SECRET), 'the password is never logged');
    });
  }
});

/**
 * A broker that knows user "sensor" with SECRET, and a sink logging in with `password` from a
 * file, refused twice already: for the tests that then fix one side or the other.
 */
async function refusedSink(t: Test, password: string) {
  const dir = tempDir(t);
  const passwd = path.join(dir, 'passwd');
  execFileSync('mosquitto_passwd', ['-b', '-c', passwd, 'sensor', SECRET]);
  const broker = await startBroker(t, { passwordFile: passwd });
  const file = path.join(dir, 'sensor.pw');
  fs.writeFileSync(file, `${password}\n`, { mode: 0o600 });
  const { sink, cap } = await sensorSink(t, broker.url, file);
  const refusals = (): number => cap.t.counters.get('publish.connect_not_authorized') + cap.t.counters.get('publish.connect_auth');
  await waitUntil(() => refusals() >= 2, 5000, 'two refusals');
  return { broker, passwd, file, sink, cap };
}

t.test('a refused login is tried again: records are delivered once the broker accepts the password', async (t) => {
  // Found by review: mqtt.js gives up for good after a refused CONNECT unless told otherwise, so a
  // password changed on the broker, or a broker that said "server unavailable" once, left the
  // daemon running and publishing nothing until restarted, its records piling up in the buffer.
  const { broker, passwd, sink } = await refusedSink(t, 'the-new-one');
  t.pass('refused, then tried again');
  execFileSync('mosquitto_passwd', ['-b', passwd, 'sensor', 'the-new-one']);
  await broker.stop();
  await broker.start();
  await waitUntil(() => sink.stats().delivered === 5, 5000, 'delivery after the broker took the new password');
  t.match(sink.stats(), { delivered: 5, buffered_records: 0, connected: true });
});

t.test('a reload (SIGHUP) reads the password file again: a fixed password is used from the next attempt', async (t) => {
  // Found by review: the log said "reloaded" and the agent kept the old password until a restart.
  const { file, sink, cap } = await refusedSink(t, 'the-old-one');
  fs.writeFileSync(file, `${SECRET}\n`);
  sink.reopen!();
  await waitUntil(() => sink.stats().delivered === 5, 5000, 'delivery with the password read again');
  t.match(cap.logs(), /"changed":\["password"\].*credentials read again/);
  t.notOk(cap.logs().includes(SECRET), 'the password is never logged');
  // A file gone: the password read before stays, and the failure is said.
  fs.rmSync(file);
  sink.reopen!();
  t.match(cap.logs(), /credentials_reload_failed.*publish\.mqtt\.password_file/);
  t.match(sink.stats(), { connected: true });
});

t.test('the password is a secret read from the environment, not the command line', async (t) => {
  const pw = publishSchema.shape.mqtt.shape.password;
  t.equal(pw.env, 'ETA_MQTT_PASSWORD');
  t.equal(publishSchema.shape.mqtt.shape.username.env, 'ETA_MQTT_USERNAME');
  t.ok(SECRET_FIELDS.includes('publish.mqtt.password'), 'listed for the CLI to refuse in --set and to redact');
  const issues: string[] = [];
  t.equal(pw.parseText(SECRET, 'publish.mqtt.password (from ETA_MQTT_PASSWORD)', issues), SECRET);
  t.same(issues, []);
});

t.test('a configured user name is taken as written (the URL holds none: refused by the schema)', async (t) => {
  // Found by review: the configured name was decoded too: p%41ss became pAss, and a lone % failed startup.
  const { mqttSettings } = await import('../../agent/publish/mqtt-options.js');
  const name = (mqtt: Record<string, unknown>): unknown => mqttSettings(publishConfig({ sink: 'mqtt', mqtt })).options.username;
  t.equal(name({ url: 'mqtt://127.0.0.1:1883', username: 'p%41ss' }), 'p%41ss');
  t.equal(name({ url: 'mqtt://127.0.0.1:1883', username: '100%' }), '100%');
  t.equal(name({ url: 'mqtt://127.0.0.1:1883' }), undefined);
});

t.test('connection errors that were shown raw name their likely cause', async (t) => {
  // Found by review: mqtts:// against a plain listener gave "read ECONNRESET", mqtt:// against a TLS one "connack timeout".
  const { explainConnectError } = await import('../../agent/publish/mqtt-options.js');
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  t.match(explainConnectError(reset, 'mqtts://127.0.0.1:1883'), { kind: 'reset', why: /mqtts:\/\/ URL for a plain MQTT listener \(use mqtt:\/\/\)/ });
  // A TLS listener resets a plain CONNECT too: the hint goes the other way (found by review).
  t.match(explainConnectError(reset, 'mqtt://127.0.0.1:8883'), { kind: 'reset', why: /mqtt:\/\/ URL for a TLS listener \(use mqtts:\/\/\)/ });
  t.notMatch(explainConnectError(reset, 'mqtt://127.0.0.1:8883').why, /mqtts:\/\/ URL/);
  t.match(explainConnectError(new Error('connack timeout')), { kind: 'no_answer', why: /mqtt:\/\/ URL for a TLS listener/ });
  // The broker refusing the client's certificate, or its own expired: each names what to change (found by review).
  const tls = (code: string): { kind: string; why: string } => explainConnectError(Object.assign(new Error(code), { code }), 'mqtts://h:8883');
  t.match(tls('ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'), { kind: 'tls_client_cert', why: /client certificate as expired .*renew publish\.mqtt\.tls\.cert/ });
  t.match(tls('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'), { kind: 'tls_client_cert', why: /publish\.mqtt\.tls\.cert and key signed by a CA in the broker's cafile/ });
  t.match(tls('CERT_HAS_EXPIRED'), { kind: 'tls_expired', why: /renew it on the broker, or set this machine's clock right/ });
  t.match(tls('ERR_TLS_CERT_ALTNAME_INVALID'), { kind: 'tls_hostname', why: /or publish\.mqtt\.tls\.servername, when set/ });
  t.match(explainConnectError(new Error('Keepalive timeout')), { kind: 'keepalive', why: /stopped answering a live connection within publish\.mqtt\.keepalive/ });
});
