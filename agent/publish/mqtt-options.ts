/**
 * Turns the validated `publish` config into mqtt.js options. This is where files are read
 * (CA, client certificate and key, password file), so it runs at open time and throws
 * StartupError naming the option to fix. Secrets never reach a log: describe() redacts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { IClientOptions } from 'mqtt';
import { StartupError } from '../errors.js';
import { QOS2_BROKER_INFLIGHT, type PublishConfig } from './config.js';
import { checkTlsFiles } from './tls-files.js';

export interface MqttTopics {
  readonly flows: string;
  readonly status: string;
  readonly stats: string;
}

export interface MqttSettings {
  readonly url: string;
  readonly sensorId: string;
  readonly topics: MqttTopics;
  readonly qos: 0 | 1 | 2;
  readonly batchSize: number;
  readonly maxInflight: number;
  /** Largest PUBLISH packet, in bytes (topic and headers included). */
  readonly maxPacketSize: number;
  /** Ready for mqtt.connect(url, options); holds secrets, never log it. */
  readonly options: IClientOptions;
  /** TLS verification switched off by configuration. */
  readonly insecure: boolean;
  /** publish.mqtt.tls.ca, where an mqtts:// URL uses it: connection errors name it. */
  readonly caFile: string | null;
}

/** publish.sensor_id, else the host name made one topic level; the one rule for topics, records and logs. */
export function sensorIdOf(c: PublishConfig): string {
  return c.sensor_id !== '' ? c.sensor_id : os.hostname().replace(/[^A-Za-z0-9._-]/g, '-') || 'eta-sensor';
}

export function topicsFor(prefix: string, sensorId: string): MqttTopics {
  const base = `${prefix}/${sensorId}`;
  return { flows: `${base}/flows`, status: `${base}/status`, stats: `${base}/stats` };
}

/** The status payloads; the offline one is also the last will. */
export function statusPayload(state: 'online' | 'offline', sensorId: string): string {
  return JSON.stringify({ state, sensor: sensorId, ts: new Date().toISOString() });
}

/** The files the MQTT settings name, by key: the password file, and the TLS files of an mqtts:// URL. */
type FileKey = 'password_file' | 'ca' | 'cert' | 'key';

function settingFiles(c: PublishConfig): Array<[FileKey, string, string]> {
  const m = c.mqtt;
  const tls = m.url.startsWith('mqtts://');
  const all: Array<[FileKey, string, string | null]> = [
    ['password_file', 'publish.mqtt.password_file', m.password_file],
    ...(['ca', 'cert', 'key'] as const).map((k): [FileKey, string, string | null] => [k, `publish.mqtt.tls.${k}`, tls ? m.tls[k] : null]),
  ];
  return all.filter((f): f is [FileKey, string, string] => f[2] !== null);
}

/**
 * Each file of the MQTT settings that cannot be read, for check-config: mqttSettings() stops at
 * the first, so a check named one unreadable file at a time (found by review).
 */
export function unreadableFiles(c: PublishConfig): StartupError[] {
  const out: StartupError[] = [];
  for (const [, option, file] of settingFiles(c)) {
    try {
      readSetting(option, file);
    } catch (e) {
      out.push(e as StartupError);
    }
  }
  return out;
}

function readSetting(option: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new StartupError('E_PUBLISH', `cannot read ${option} (${file}): ${(err as Error).message}`,
      `make the file readable by the agent's user or fix ${option}`, { cause: err });
  }
}

/** Reads the files the configuration names. Throws StartupError if one is unreadable. */
export function mqttSettings(c: PublishConfig): MqttSettings {
  const m = c.mqtt;
  const sensorId = sensorIdOf(c);
  const topics = topicsFor(c.topic_prefix, sensorId);
  const files: Partial<Record<FileKey, [string, Buffer]>> = {};
  for (const [key, option, file] of settingFiles(c)) files[key] = [file, readSetting(option, file)];
  let password: Buffer | undefined;
  if (files.password_file) {
    password = Buffer.from(files.password_file[1].toString('utf8').replace(/\r?\n$/, ''));
  } else if (m.password !== null) {
    password = Buffer.from(m.password);
  }
  // Taken as written (it was percent-decoded, and a lone '%' failed startup: found by review); the
  // URL holds no user info (refused by the schema: publish/config.ts).
  const username = m.username;
  const tls = m.url.startsWith('mqtts://');
  const options: IClientOptions = {
    clientId: m.client_id !== '' ? m.client_id : `eta-sensor-${sensorId}`,
    protocolVersion: 4,
    // QoS 2 always starts clean: the pump takes back what was in flight and resends it from the
    // buffer under new packet ids, and a kept session would keep the broker's half-finished QoS 2
    // exchanges, which it matches by packet id (the resent messages were dropped as duplicates, or
    // its QoS 2 quota stayed full and publishing stopped: found by review). A publisher's session
    // holds nothing else the agent needs.
    clean: m.session === 'clean' || m.qos === 2,
    keepalive: m.keepalive,
    reconnectPeriod: Math.round(m.reconnect_period * 1000),
    // mqtt.js stops reconnecting for good after a refused CONNECT (bad password, not authorized,
    // server unavailable) unless told to go on: the daemon then ran on, publishing nothing until
    // restarted, while its records filled the buffer (found by review). A password fixed on the
    // broker, or a broker back from maintenance, must be picked up by the next attempt; each
    // refusal is counted and logged like any failed connection.
    reconnectOnConnackError: true,
    connectTimeout: Math.round(m.connect_timeout * 1000),
    // The disk buffer is the queue: mqtt.js must not hold anything while offline.
    queueQoSZero: false,
    resubscribe: false,
    will: { topic: topics.status, payload: Buffer.from(statusPayload('offline', sensorId)), qos: 1, retain: true },
    // mqtt.js traces every packet through the `debug` module; even switched off, those calls were
    // ~4 µs a message (4% of a core at 10,000 records/s). DEBUG=mqttjs* still turns them on.
    ...(/mqttjs/.test(process.env['DEBUG'] ?? '') ? {} : { log: (): void => undefined }),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  };
  if (tls) {
    checkTlsFiles(files);
    Object.assign(options, {
      rejectUnauthorized: m.tls.reject_unauthorized,
      ...(files.ca ? { ca: files.ca[1] } : {}),
      ...(files.cert ? { cert: files.cert[1] } : {}),
      ...(files.key ? { key: files.key[1] } : {}),
      ...(m.tls.servername !== null ? { servername: m.tls.servername } : {}),
    });
  }
  return {
    url: m.url, sensorId, topics, qos: m.qos, batchSize: c.batch_size, maxInflight: m.max_inflight > 0 ? m.max_inflight : m.qos === 2 ? QOS2_BROKER_INFLIGHT : 400,
    maxPacketSize: m.max_packet_size,
    options, insecure: tls && !m.tls.reject_unauthorized, caFile: tls ? m.tls.ca : null,
  };
}

/** The URL without user info, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/** What is safe to log about a connection: no password, no key material. */
export function describe(s: MqttSettings): Record<string, unknown> {
  const o = s.options;
  return {
    url: redactUrl(s.url), client_id: o.clientId, username: o.username, password: o.password ? '***' : undefined,
    tls_ca: o.ca ? 'set' : undefined, tls_client_cert: o.cert ? 'set' : undefined,
    reject_unauthorized: s.url.startsWith('mqtts://') ? o.rejectUnauthorized : undefined,
    qos: s.qos, batch_size: s.batchSize, max_inflight: s.maxInflight, max_packet_size: s.maxPacketSize, topics: s.topics,
  };
}

const TLS_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE',
]);

/**
 * A short stable kind (for counters) and a sentence naming the likely fix, for a connection error.
 * `url`: the configured one, whose scheme tells which mismatch of scheme and listener is likely.
 */
export function explainConnectError(err: unknown, url = '', caFile: string | null = null): { kind: string; why: string } {
  const e = err as { code?: string | number; message?: string };
  const code = e.code;
  const msg = e.message ?? String(err);
  if (code === 'ECONNREFUSED') return { kind: 'refused', why: 'nothing accepts connections at the broker address (broker down or wrong port in publish.mqtt.url)' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'dns', why: 'the broker host name does not resolve (publish.mqtt.url)' };
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'unreachable', why: `the broker is unreachable (${code})` };
  // Both were shown raw (found by review); a scheme that does not match the listener is the usual
  // cause, and which way it goes depends on the scheme given (Mosquitto's TLS listener resets a
  // plain CONNECT too: the hint named mqtts:// to an mqtt:// user, found by review).
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    const mismatch = /^mqtts:/i.test(url) ? 'an mqtts:// URL for a plain MQTT listener (use mqtt://)'
      : /^mqtt:/i.test(url) ? 'an mqtt:// URL for a TLS listener (use mqtts://)'
        : 'a URL whose scheme does not match the listener (mqtt:// plain, mqtts:// TLS)';
    return { kind: 'reset', why: `the broker closed the connection (${code}): a broker restarting, or ${mismatch}` };
  }
  // mqtt.js's own error for a live connection whose broker stopped answering (found by review: logged as a failure to connect).
  if (/keepalive timeout/i.test(msg)) {
    return { kind: 'keepalive', why: 'the broker stopped answering a live connection within publish.mqtt.keepalive (a broker stalled, or a network path lost); records stay buffered, and the agent reconnects' };
  }
  if (/connack timeout/i.test(msg)) {
    return { kind: 'no_answer', why: 'the broker took the connection but did not answer within publish.mqtt.connect_timeout: an mqtt:// URL for a TLS listener, or an overloaded broker' };
  }
  if (typeof code === 'string' && TLS_UNTRUSTED.has(code)) {
    // With a CA set, it is the wrong one (found by review: "set publish.mqtt.tls.ca", which was set).
    const fix = caFile === null ? 'set publish.mqtt.tls.ca to the CA that signed it' : `publish.mqtt.tls.ca (${caFile}) did not sign it: give the CA that did`;
    return { kind: 'tls_untrusted', why: `TLS: the broker's certificate is not signed by a trusted CA (${code}); ${fix}` };
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return { kind: 'tls_expired', why: `TLS: the broker's certificate is not valid now (${code}): renew it on the broker, or set this machine's clock right` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { kind: 'tls_hostname', why: 'TLS: the broker\'s certificate does not name the host in publish.mqtt.url (or publish.mqtt.tls.servername, when set); make them match the certificate' };
  }
  // The broker refusing the client's certificate (found by review: shown as the bare OpenSSL code, no option named).
  if (code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED') {
    return { kind: 'tls_client_cert', why: `TLS: the broker refused the client certificate as expired (${code}); renew publish.mqtt.tls.cert (and key)` };
  }
  if (code === 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' || code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || code === 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN') {
    return { kind: 'tls_client_cert', why: `TLS: the broker does not accept the client certificate (${code}); give publish.mqtt.tls.cert and key signed by a CA in the broker's cafile` };
  }
  if (/certificate required|alert number 116|peer did not return a certificate/i.test(msg) || code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return { kind: 'tls_client_cert', why: 'TLS: the broker requires a client certificate; set publish.mqtt.tls.cert and key' };
  }
  if (typeof code === 'string' && code.startsWith('ERR_SSL')) return { kind: 'tls', why: `TLS handshake failed (${code})` };
  if (code === 4 || code === 134 || /bad user ?name or password/i.test(msg)) {
    return { kind: 'auth', why: 'the broker refused the user name or password (publish.mqtt.username, password_file or ETA_MQTT_PASSWORD)' };
  }
  if (code === 5 || code === 135 || /not authori[sz]ed/i.test(msg)) {
    // Mosquitto answers a wrong password with this code too (MQTT 3.1.1).
    return { kind: 'not_authorized', why: 'the broker refused this client as not authorized: check publish.mqtt.username and the password (password_file or ETA_MQTT_PASSWORD), and the broker\'s ACL' };
  }
  if (code === 2 || code === 133) return { kind: 'client_id', why: 'the broker rejected the client id (publish.mqtt.client_id)' };
  return { kind: 'other', why: msg };
}
