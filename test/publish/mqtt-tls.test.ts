/**
 * TLS against a private Mosquitto with certificates made by openssl: verification on by
 * default, a wrong CA refused with a clear logged reason while records keep buffering,
 * verification switched off only with a warning, and client certificates.
 */
import * as fs from 'node:fs';
import t from 'tap';
import { createSink, type Sink } from '../../agent/publish/index.js';
import { startBroker } from './helpers/broker.js';
import { publishConfig, uniqueNames } from './helpers/config.js';
import { makePki } from './helpers/pki.js';
import { records, seqsOf } from './helpers/records.js';
import { subscribe } from './helpers/subscriber.js';
import { capturingTelemetry } from './helpers/telemetry.js';
import { tempDir } from './helpers/tmp.js';
import { waitUntil } from './helpers/wait.js';

const pki = makePki(t);

async function tlsSink(tt: { teardown(fn: () => unknown): void }, url: string, tls: Record<string, unknown>) {
  const { prefix, sensor } = uniqueNames();
  const cap = capturingTelemetry();
  const sink: Sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: sensor, topic_prefix: prefix,
    mqtt: { url, reconnect_period: 0.2, tls }, buffer: { dir: tempDir(tt) },
  }), cap.t);
  tt.teardown(() => sink.close(0));
  return { sink, flows: `${prefix}/${sensor}/flows`, ...cap };
}

t.test('server verification with the right CA', async (t) => {
  const broker = await startBroker(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
  const s = await tlsSink(t, broker.url, { ca: pki.ca });
  const sub = await subscribe(t, broker.url, s.flows, { ca: fs.readFileSync(pki.ca) });
  await s.sink.open();
  await s.sink.write(records(0, 20));
  await sub.waitFor(() => sub.messages.length >= 20, 10_000, '20 records over TLS');
  t.same(sub.messages.flatMap((m) => seqsOf(m.payload)), Array.from({ length: 20 }, (_, i) => i));
  t.notMatch(s.logs(), /verification is OFF/);
});

t.test('a wrong CA is refused with a clear reason, and records keep buffering', async (t) => {
  const broker = await startBroker(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
  const s = await tlsSink(t, broker.url, { ca: pki.otherCa });
  await s.sink.open();
  await s.sink.write(records(0, 10));
  await waitUntil(() => s.t.counters.get('publish.connect_tls_untrusted') > 0, 5000, 'a TLS refusal');
  t.match(s.logs(), new RegExp(`not signed by a trusted CA .*publish\\.mqtt\\.tls\\.ca \\(${pki.otherCa}\\) did not sign it: give the CA that did`));
  await s.sink.write(records(10, 10));
  t.match(s.sink.stats(), { connected: false, delivered: 0, buffered_records: 20 });
});

t.test('reject_unauthorized: false connects to an untrusted broker, with a warning', async (t) => {
  const broker = await startBroker(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
  const s = await tlsSink(t, broker.url, { ca: pki.otherCa, reject_unauthorized: false });
  await s.sink.open();
  t.match(s.logs(), /"level":40.*TLS certificate verification is OFF/);
  await s.sink.write(records(0, 5));
  await waitUntil(() => s.sink.stats().delivered === 5, 5000, 'delivery');
  t.pass('delivered');
});

t.test('a broker that requires client certificates', async (t) => {
  const broker = await startBroker(t, { tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, requireClientCert: true } });
  const without = await tlsSink(t, broker.url, { ca: pki.ca });
  await without.sink.open();
  await without.sink.write(records(0, 3));
  await waitUntil(() => Object.entries(without.t.counters.snapshot('publish.connect_')).some(([, n]) => n > 0), 5000, 'a refusal');
  t.match(without.sink.stats(), { connected: false, buffered_records: 3 });
  t.match(without.logs(), /requires a client certificate; set publish\.mqtt\.tls\.cert and key/);

  const withCert = await tlsSink(t, broker.url, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
  await withCert.sink.open();
  await withCert.sink.write(records(0, 3));
  await waitUntil(() => withCert.sink.stats().delivered === 3, 5000, 'delivery with a client certificate');
  t.pass('delivered with a client certificate');
});

t.test('TLS files that are not what they must be are refused at startup, naming the option and the fix', async (t) => {
  // Found by review: a CA file without a certificate passed check-config, and each connection
  // then said "set publish.mqtt.tls.ca to the CA that signed it", which was set.
  const { mqttSettings } = await import('../../agent/publish/mqtt-options.js');
  const { startupIssues } = await import('../../agent/startup-check.js');
  const { defaultConfig } = await import('../../agent/config.js');
  const dir = tempDir(t);
  const garbage = `${dir}/garbage.pem`;
  fs.writeFileSync(garbage, 'not a certificate\n');
  const settings = (tls: Record<string, unknown>): unknown => mqttSettings(publishConfig({ sink: 'mqtt', mqtt: { url: 'mqtts://127.0.0.1:8883', tls } }));
  t.throws(() => settings({ ca: garbage }), { code: 'E_PUBLISH', message: `publish.mqtt.tls.ca (${garbage}) holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, hint: /openssl x509 -inform der/ });
  t.throws(() => settings({ ca: pki.ca, cert: garbage, key: pki.clientKey }), { message: /^publish\.mqtt\.tls\.cert .* holds no PEM certificate/ });
  t.throws(() => settings({ ca: pki.ca, cert: pki.clientCert, key: garbage }), { message: /^publish\.mqtt\.tls\.key .* is not a private key this agent can use/ });
  t.throws(() => settings({ ca: pki.ca, cert: pki.clientCert, key: pki.serverKey }), { message: /^publish\.mqtt\.tls\.key .* does not go with publish\.mqtt\.tls\.cert/ });
  t.doesNotThrow(() => settings({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }), 'the right files pass');
  // check-config says the same.
  const cfg = defaultConfig();
  const publish = publishConfig({ sink: 'mqtt', mqtt: { url: 'mqtts://127.0.0.1:8883', tls: { ca: garbage } }, buffer: { dir: tempDir(t) } });
  const issues = await startupIssues({ ...cfg, capture: { ...cfg.capture, interfaces: ['lo'], filter: '' }, publish }, { models: false, warn: () => undefined });
  t.match(issues, [/^publish\.mqtt\.tls\.ca .* holds no PEM certificate .*\(fix: give the certificate in PEM form/]);
});
