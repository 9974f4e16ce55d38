/**
 * The `publish` configuration section: where labeled flows go and how they survive a
 * broker outage. Declared once with the schema DSL (defaults, types, validation, docs).
 * Parsing and checkPublishConfig() open no files or sockets; createSink() does.
 */
import { bool, int, num, oneOf, optStr, section, size, str, type Field, type Infer } from '../lib/schema.js';

/**
 * Mosquitto's default max_inflight_messages: at qos 2 it refuses more messages in flight and
 * closes the connection. The automatic max_inflight at qos 2, and what check-config and the
 * pump's hint compare a configured one with.
 */
export const QOS2_BROKER_INFLIGHT = 20;

/** Option paths holding secrets: never accept them on the command line, never log their values. */
export const SECRET_FIELDS: readonly string[] = ['publish.mqtt.password'];

/** A URL as a message may show it: user info ("user:password@") replaced, parseable or not (found by review: a bad URL was echoed with its password). */
function withoutUserInfo(s: string): string {
  return s.replace(/^([^/]*\/\/)[^/@]*@/, '$1***@');
}

function mqttUrl(doc: string, def: string): Field<string> {
  const base = str({ default: def, doc, nonEmpty: true });
  const parse = (v: unknown, path: string, issues: string[]): string => {
    const s = base.parse(v, path, issues);
    if (s !== v) return s; // base already reported the problem
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      issues.push(`${path} must be a URL like mqtt://broker:1883 or mqtts://broker:8883 (got ${JSON.stringify(withoutUserInfo(s))})`);
      return def;
    }
    if (u.protocol !== 'mqtt:' && u.protocol !== 'mqtts:') {
      issues.push(`${path} must start with mqtt:// or mqtts:// (got ${JSON.stringify(withoutUserInfo(s))})`);
    } else if (u.password || u.username) {
      // A user name too (found by review): mqtt.js decodes "bob%3Ahunter2@" to user bob, password
      // hunter2, which URL() reads as a user name alone, and the URL is logged.
      issues.push(`${path} must not contain credentials (user@ or user:password@); use publish.mqtt.username and publish.mqtt.password_file, or the ETA_MQTT_USERNAME and ETA_MQTT_PASSWORD environment variables`);
    } else if (u.pathname !== '' && u.pathname !== '/') {
      issues.push(`${path} must not have a path (got ${JSON.stringify(u.pathname)}); topics are set by publish.topic_prefix`);
    }
    return s;
  };
  return { ...base, parse, parseText: parse };
}

const seconds = (doc: string, def: number, min: number): Field<number> => num({ default: def, min, doc: `${doc} In seconds.` });

export const publishSchema = section('Where labeled flow records go, and how they survive a broker outage.', {
  sink: oneOf(['mqtt', 'stdout', 'file', 'none'] as const, {
    default: 'stdout',
    doc: 'mqtt: publish to a broker through a bounded disk buffer; stdout: JSON lines on standard output; '
      + 'file: append JSON lines to publish.file.path; none: discard (counted).',
  }),
  sensor_id: str({
    default: '',
    pattern: /^[A-Za-z0-9._-]*$/,
    patternDoc: 'letters, digits, ".", "_" or "-" (it is one MQTT topic level)',
    doc: 'Identifies this sensor in topics and in the default client id. Empty: the host name.',
  }),
  topic_prefix: str({
    default: 'eta',
    nonEmpty: true,
    // A control character (NUL among them) makes the broker refuse every CONNECT as malformed
    // UTF-8 (the will's topic), and a leading $ is the broker's own space ($SYS), where it refuses
    // every message: both passed check-config and published nothing (found by review).
    pattern: /^(?!\$)[^#+\s\p{Cc}]*[^/#+\s\p{Cc}]$/u,
    patternDoc: 'a topic without wildcards (#, +), spaces, control characters, a leading $ (the broker\'s own) or a trailing /',
    doc: 'Topics are <prefix>/<sensor_id>/flows, /status (retained online/offline) and /stats.',
  }),
  batch_size: int({
    default: 1, min: 1, max: 10000,
    doc: 'Records per MQTT message: 1 sends one JSON object per message; more sends a JSON array of up to this many.',
  }),
  stats_interval: seconds('How often the agent publishes its counters to <prefix>/<sensor_id>/stats (with the stdout or file sink, or while the broker is away: to the log, at info); 0 disables.', 60, 0),
  file: section('For sink: file.', {
    path: str({ default: 'eta-flows.jsonl', nonEmpty: true, doc: 'JSON lines file, appended to; fsynced on close; opened again on SIGHUP (systemctl reload), for logrotate.' }),
  }),
  mqtt: section('For sink: mqtt.', {
    url: mqttUrl('Broker URL, mqtt://host:1883 or mqtts://host:8883 (TLS). No credentials here: see username, password_file.', 'mqtt://localhost:1883'),
    client_id: str({ default: '', doc: 'MQTT client id; keep it stable so a persistent session resumes. Empty: eta-sensor-<sensor_id>.' }),
    qos: oneOf([0, 1, 2] as const, {
      default: 1,
      doc: 'MQTT QoS of flow messages. 1 (default): a record leaves the buffer when the broker acknowledged it. '
        + '0: when it was written to the socket (a broker crash can lose what it had not processed). '
        + '2: like 1 end to end (records are resent after a reconnect, so duplicates remain possible), over a clean session.',
    }),
    keepalive: int({ default: 30, min: 0, max: 65535, doc: 'MQTT keepalive in seconds; a dead connection is noticed after about 1.5 times this.' }),
    reconnect_period: seconds('Pause between reconnection attempts.', 5, 0.1),
    connect_timeout: seconds('How long one connection attempt may take.', 30, 1),
    session: oneOf(['persistent', 'clean'] as const, {
      default: 'persistent',
      doc: 'persistent: the broker keeps the session across reconnects (clean session off); clean: a new session each time. '
        + 'qos 2 always connects clean (the agent resends what a lost connection left unacknowledged itself).',
    }),
    max_inflight: int({
      default: 0, min: 0, max: 65535,
      doc: 'Messages published and not yet acknowledged; the rest wait in the disk buffer (this bounds the MQTT client\'s memory). '
        + '0: automatic, 400 for qos 0 and 1 (the window over the round trip bounds the rate: 400 keeps 10,000 records/s through '
        + 'round trips of up to 40 ms, as a loaded broker or machine gives; 100 queued records for hundreds of ms then), '
        + `${QOS2_BROKER_INFLIGHT} for qos 2, the broker's limit (Mosquitto: max_inflight_messages, ${QOS2_BROKER_INFLIGHT} by default), above which Mosquitto drops QoS 2 messages.`,
    }),
    max_packet_size: size({
      // MQTT's own limit: the remaining length is at most 268,435,455 bytes.
      default: 128 * 1024, min: 1024, max: 268_435_455,
      doc: 'Largest MQTT message sent, in bytes with topic and headers; set it at or below the broker\'s limit (Mosquitto max_packet_size, '
        + 'EMQX 1 MiB, AWS IoT 128 KiB). Batches (batch_size > 1) are cut to fit; a single record over it is dropped and counted (too_large). '
        + 'Over MQTT 3.1.1 a broker answers an oversized message by closing the connection, so without this the same message would be resent forever.',
    }),
    username: optStr({ default: null, env: 'ETA_MQTT_USERNAME', doc: 'Broker user name (or the ETA_MQTT_USERNAME environment variable).' }),
    password: optStr({
      secret: true,
      default: null, env: 'ETA_MQTT_PASSWORD',
      doc: 'Broker password. Prefer the ETA_MQTT_PASSWORD environment variable or password_file; never given on the command line, never logged.',
    }),
    password_file: optStr({ default: null, doc: 'File whose content (trailing newline removed) is the broker password; read at startup and again at each reload (SIGHUP).' }),
    tls: section('TLS, for mqtts:// URLs.', {
      ca: optStr({ default: null, doc: 'PEM file of the CA(s) that signed the broker\'s certificate. Unset: the system\'s trusted CAs.' }),
      cert: optStr({ default: null, doc: 'PEM client certificate, for brokers that require one (set key too).' }),
      key: optStr({ default: null, doc: 'PEM private key of the client certificate.' }),
      reject_unauthorized: bool({
        default: true,
        doc: 'Verify the broker\'s certificate and host name. false disables verification (anyone on the path can read and forge the data); logged as a warning.',
      }),
      servername: optStr({ default: null, doc: 'Host name to verify the certificate against, when it differs from the URL\'s host.' }),
    }),
  }),
  buffer: section('The on-disk queue between the pipeline and the broker (sink: mqtt).', {
    dir: str({ default: '/var/lib/eta-sensor/buffer', nonEmpty: true, doc: 'Directory of the buffer\'s segment files; one agent per directory.' }),
    max_size: size({
      default: 64 * 1024 * 1024, min: 64 * 1024,
      doc: 'Upper bound on undelivered records (8 bytes of framing each). Disk use can exceed it by one segment (1/16 of it, at most 16 MiB).',
    }),
    overflow: oneOf(['drop-oldest', 'drop-newest'] as const, {
      default: 'drop-oldest',
      doc: 'When the buffer is full: drop-oldest discards the oldest undelivered records to make room; drop-newest discards the incoming ones. Both are counted.',
    }),
    fsync: oneOf(['always', 'interval', 'never'] as const, {
      default: 'interval',
      doc: 'When buffered records are forced to disk. always: before a write is accepted (survives power loss; slowest). '
        + 'interval: every fsync_interval (power loss can lose that much). never: the kernel decides (~30 s). '
        + 'A crash or kill of the agent loses nothing under any policy.',
    }),
    fsync_interval: seconds('Period of fsync: interval.', 1, 0.01),
  }),
});

export type PublishConfig = Infer<typeof publishSchema>;

/** Checks that span several fields; issues are path-qualified like the schema's. Opens nothing. */
export function checkPublishConfig(c: PublishConfig, path = 'publish', env: NodeJS.ProcessEnv = {}): string[] {
  const issues: string[] = [];
  const m = c.mqtt;
  if (c.sink !== 'mqtt') return issues;
  if (m.password !== null && m.password_file !== null) {
    // The password may come from the environment (a line left in /etc/eta-sensor/env): say so (found by review).
    const fromEnv = env['ETA_MQTT_PASSWORD'] !== undefined && env['ETA_MQTT_PASSWORD'] === m.password ? ' (from ETA_MQTT_PASSWORD)' : '';
    issues.push(`${path}.mqtt.password${fromEnv} and ${path}.mqtt.password_file are both set; keep one`);
  }
  // MQTT 3.1.1 has no password without a user name: mqtt.js refused each connection, while
  // check-config said valid (found by review: the README's env file set the password alone).
  if ((m.password !== null || m.password_file !== null) && (m.username === null || m.username === '')) {
    issues.push(`${path}.mqtt.password${m.password_file !== null ? '_file' : ''} is set without ${path}.mqtt.username; set the user name too (or ETA_MQTT_USERNAME)`);
  }
  if ((m.tls.cert === null) !== (m.tls.key === null)) {
    issues.push(`${path}.mqtt.tls.cert and ${path}.mqtt.tls.key go together; set both or neither`);
  }
  const tlsSet = m.tls.ca !== null || m.tls.cert !== null || m.tls.servername !== null || !m.tls.reject_unauthorized;
  if (tlsSet && m.url.startsWith('mqtt://')) {
    issues.push(`${path}.mqtt.tls is set but ${path}.mqtt.url is mqtt:// (plain TCP); use mqtts://`);
  }
  return issues;
}
