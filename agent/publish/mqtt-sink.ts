/**
 * The MQTT sink: records go to the disk buffer first (write() resolves then), and a pump
 * moves them to the broker as fast as it acknowledges them. Connection state is announced
 * on `<prefix>/<sensor>/status` (retained): `online` on every connect, `offline` as the
 * last will (broker-side, on a lost connection) and on a clean close.
 */
import { connect, type MqttClient } from 'mqtt';
import { describeError } from '../errors.js';
import { report, reportEach, type Telemetry } from '../events.js';
import type { PublishConfig } from './config.js';
import { DiskBuffer } from './disk-buffer.js';
import { Pump } from './mqtt-pump.js';
import { describe, explainConnectError, mqttSettings, redactUrl, statusPayload, type MqttSettings } from './mqtt-options.js';
import { encodeRecords } from './serialize.js';
import type { CloseOptions, PublishRecord, Sink, SinkStats } from './types.js';
import { msUntil } from '../lib/deadline.js';

export class MqttSink implements Sink {
  readonly name = 'mqtt';
  private settings: MqttSettings | undefined;
  private buffer: DiskBuffer | undefined;
  private client: MqttClient | undefined;
  private pump: Pump | undefined;
  private accepted = 0;
  private serializeDropped = 0;
  private connects = 0;
  private lastFailure = '';
  private closing = false;
  /** Connections lost or attempts failed: close() stops waiting for delivery on the first one after it began. */
  private closes = 0;
  /** Since the last close: whether the connection was up, and whether an error explained its end (reported then). */
  private wasConnected = false;
  private failedSinceConnect = false;

  constructor(private readonly config: PublishConfig, private readonly t: Telemetry) {}

  async open(): Promise<void> {
    const s = mqttSettings(this.config);
    this.settings = s;
    const b = this.config.buffer;
    this.buffer = await DiskBuffer.open({
      dir: b.dir, maxBytes: b.max_size, overflow: b.overflow, fsync: b.fsync,
      fsyncIntervalMs: Math.max(10, Math.round(b.fsync_interval * 1000)), telemetry: this.t,
    });
    if (s.insecure) {
      this.t.log.warn({ stage: 'publish', url: redactUrl(s.url) },
        'publish: TLS certificate verification is OFF (publish.mqtt.tls.reject_unauthorized: false); the connection can be intercepted');
    }
    this.t.log.info({ stage: 'publish', ...describe(s), buffered: this.buffer.size }, 'publish: connecting to MQTT broker');
    // mqtt.connect() only starts connecting; an absent broker is a data-path condition
    // (records wait in the buffer), not a startup failure.
    const client = connect(s.url, s.options);
    this.client = client;
    const pump = new Pump(client, this.buffer, { topic: s.topics.flows, qos: s.qos, batchSize: s.batchSize, maxInflight: s.maxInflight, maxPacketSize: s.maxPacketSize }, this.t);
    this.pump = pump;
    this.buffer.onAppend = () => pump.pump();
    client.on('connect', () => {
      if (this.closing) return;
      this.connects++;
      this.lastFailure = '';
      this.wasConnected = true;
      this.t.log.info({ stage: 'publish', url: redactUrl(s.url), buffered: this.buffer?.size }, 'publish: connected');
      client.publish(s.topics.status, statusPayload('online', s.sensorId), { qos: 1, retain: true });
      pump.connected();
    });
    client.on('close', () => {
      this.closes++;
      // A close with no error before it was the broker's doing, and it said nothing of it: another
      // client taking over the same client id, a CONNECT it refused as malformed. It went unlogged,
      // while records piled up in the buffer (found by review: 24 reconnects, not a line).
      if (!this.closing && !this.failedSinceConnect) {
        const detail = {
          url: redactUrl(s.url), connected: this.wasConnected, buffered: this.buffer?.size,
          hint: this.wasConnected
            ? `the broker stopped, or another client with this client id (${s.options.clientId}) took the session over (give each sensor its own publish.sensor_id or publish.mqtt.client_id); the broker's log says which`
            : 'the broker refused the connection without a reason: its log says why',
        };
        // A connection that was up and ended is rare, and each is logged (found by review: the
        // second broker stop of a run had no line, report() logging the 1st, 10th, 100th...).
        (this.wasConnected ? reportEach : report)(this.t, 'publish', 'connection_closed', detail);
      }
      this.failedSinceConnect = false;
      this.wasConnected = false;
      pump.disconnected();
    });
    // The will is sent with each CONNECT: its time is made anew before each attempt, so that the
    // offline status a collector sees says when the connection that died began (it carried the
    // sink's start, however many reconnects later: found by review).
    client.on('reconnect', () => {
      const will = client.options.will;
      if (will) will.payload = Buffer.from(statusPayload('offline', s.sensorId));
    });
    client.on('error', (err) => {
      this.failedSinceConnect = true;
      this.connectFailed(err);
    });
  }

  /**
   * A reload (SIGHUP): the password file and the TLS files are read again, and what changed is
   * used from the next connection (a failing login retries every reconnect_period). The documented
   * way to rotate a password or certificate said "reloaded" and kept the old ones until a
   * restart (found by review). Paths changed in the configuration still need a restart (run.ts
   * names the section). A file that cannot be read now leaves the old values in force.
   */
  reopen(): void {
    const client = this.client;
    if (!client || this.closing) return;
    let fresh: MqttSettings;
    try {
      fresh = mqttSettings(this.config);
    } catch (e) {
      report(this.t, 'publish', 'credentials_reload_failed', { error: describeError(e), effect: 'the credentials read before stay in force' }, 'error');
      return;
    }
    const options = client.options as Record<string, unknown>;
    const changed = CREDENTIALS.filter((k) => !sameValue(options[k], (fresh.options as Record<string, unknown>)[k]));
    for (const k of changed) {
      const v = (fresh.options as Record<string, unknown>)[k];
      if (v === undefined) delete options[k];
      else options[k] = v;
    }
    if (changed.length > 0) this.t.log.info({ stage: 'publish', changed }, 'publish: credentials read again; used from the next connection');
  }

  async write(records: readonly PublishRecord[]): Promise<void> {
    this.accepted += records.length;
    const { payloads, failed } = encodeRecords(records, this.t);
    this.serializeDropped += failed;
    await this.buffer!.append(payloads);
  }

  async close(deadlineMs: number, opts: CloseOptions = {}): Promise<void> {
    const deadline = Date.now() + Math.max(0, deadlineMs);
    const { client, pump, buffer, settings } = this;
    if (client && pump && buffer && settings) {
      // Deliver while connected, or while the first connection attempt is under way; give up
      // at the deadline or as soon as the broker is found away (records stay buffered).
      const closes = this.closes;
      const giveUp = opts.untilDelivered !== true;
      await until(() => buffer.size === 0 || opts.signal?.aborted === true || (giveUp && !client.connected && this.closes > closes), deadline, (wake) => { pump.onProgress = wake; });
      this.closing = true;
      pump.stop();
      if (opts.finalStats) this.publishStats(opts.finalStats());
      if (client.connected) {
        // A clean disconnect suppresses the will, so say offline ourselves.
        await new Promise<void>((resolve) => {
          client.publish(settings.topics.status, statusPayload('offline', settings.sensorId), { qos: 1, retain: true }, () => resolve());
          setTimeout(resolve, msUntil(deadline)).unref();
        });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // A broker that stopped answering leaves a clean end() waiting for acknowledgements, and
          // mqtt.js ignores a forced end() once one is under way: close the socket, or it (and the
          // keepalive timer) would hold the process until the keepalive gives up, past the deadline.
          client.end(true);
          (client as unknown as { stream?: { destroy(): void } }).stream?.destroy();
          resolve();
        }, msUntil(deadline));
        // Not connected (broker away, or still connecting): force, or a late connect would leave the socket open.
        client.end(!client.connected, {}, () => { clearTimeout(timer); resolve(); });
      });
      if (buffer.size > 0) {
        this.t.log.warn({ stage: 'publish', buffered: buffer.size }, 'publish: closing with undelivered records; they stay buffered for the next start');
      }
    }
    await buffer?.close();
  }

  stats(): SinkStats {
    const b = this.buffer?.stats();
    return {
      sink: this.name,
      accepted: this.accepted,
      delivered: this.pump?.delivered ?? 0,
      buffered_records: b?.records ?? 0,
      buffered_bytes: b?.bytes ?? 0,
      dropped: { ...b?.dropped, too_large: (b?.dropped.too_large ?? 0) + (this.pump?.tooLarge ?? 0), serialize: this.serializeDropped },
      reconnects: Math.max(0, this.connects - 1),
      connected: this.client?.connected ?? false,
      in_flight: this.pump?.inFlight ?? 0,
    };
  }

  publishStats(stats: Readonly<Record<string, unknown>>): boolean {
    const c = this.client;
    if (!c?.connected || !this.settings) return false;
    c.publish(this.settings.topics.stats, JSON.stringify(stats), { qos: this.settings.qos });
    return true;
  }

  private connectFailed(err: Error): void {
    const { kind, why } = explainConnectError(err, this.settings?.url, this.settings?.caFile);
    const key = `publish.connect_${kind}`;
    this.t.counters.inc(key);
    const n = this.t.counters.get(key);
    // Like report(): the 1st, 10th, 100th... of a kind, and also whenever the kind changes.
    if (kind !== this.lastFailure || /^10*$/.test(String(n))) {
      this.t.log.warn({ stage: 'publish', reason: `connect_${kind}`, count: n, url: redactUrl(this.settings?.url ?? ''), why, error: err.message, buffered: this.buffer?.size },
        `publish: ${kind === 'keepalive' ? 'connection lost' : 'cannot connect'}: ${why}`);
    }
    this.lastFailure = kind;
  }
}

/** What reopen() reads again: the login and the TLS files' contents. */
const CREDENTIALS = ['username', 'password', 'ca', 'cert', 'key'] as const;

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

/** Resolves when `done()` holds or at the deadline; `subscribe` gets a wake-up to re-check. */
function until(done: () => boolean, deadline: number, subscribe: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (done() || Date.now() >= deadline) {
        clearInterval(poll);
        resolve();
      }
    };
    const poll = setInterval(check, 50);
    subscribe(check);
    check();
  });
}
