/**
 * The contract of a publishing sink (Telegraf's output plugin, in TypeScript). The pipeline
 * hands labeled flow records to exactly one sink. Call order, which every implementation
 * may rely on and every caller must keep:
 *
 *   open() once -> write() any number of times, one at a time -> close() once
 *
 * - `write` is never called before `open` resolved, never concurrently (the caller awaits
 *   each write before the next), and never after `close` was called.
 * - `close` is called after the last `write` resolved, also when `open` failed halfway.
 * - `stats` and `publishStats` may be called at any time after `open` resolved.
 * - Data-path failures (broker away, disk full, a record that cannot be serialized) never
 *   reject `write`: they are counted in stats().dropped and reported through telemetry.
 *   Only `open` throws, and only StartupError (bad URL, unreadable CA file, unusable
 *   buffer directory...).
 */

/** close()'s options (see Sink.close). */
export interface CloseOptions {
  readonly untilDelivered?: boolean;
  /** Stops the wait for delivery when aborted (Ctrl-C): what is not delivered stays buffered. */
  readonly signal?: AbortSignal;
  /** The stats to publish last, read once the records are delivered (found by review: read before, they showed delivered records as waiting). */
  readonly finalStats?: () => Readonly<Record<string, unknown>>;
}

/**
 * Members a record carries already serialized (`"app":{...},"attribution":{...}`: the labels,
 * as the inference workers wrote them): the sink appends them to the object's JSON as they are.
 * A symbol, so JSON.stringify leaves it out of the rest.
 */
export const RAW_MEMBERS: unique symbol = Symbol('eta.rawMembers');

/** One labeled flow, opaque here: `{ v: 1, sensor, flow, tls, app, attribution }`. Serialized once, as JSON, by the sink. */
export type PublishRecord = Readonly<Record<string, unknown>> & { readonly [RAW_MEMBERS]?: string };

export interface SinkStats {
  /** Which implementation: mqtt, stdout, file, none. */
  readonly sink: string;
  /** Records given to write(). */
  readonly accepted: number;
  /** Records the destination took: acknowledged by the broker (QoS >= 1) or flushed to the socket (QoS 0), or written. */
  readonly delivered: number;
  /** Records waiting in the disk buffer (accepted, not yet delivered); 0 for unbuffered sinks. */
  readonly buffered_records: number;
  /** Framed bytes of those records. */
  readonly buffered_bytes: number;
  /** Records lost, by reason (overflow, too_large, io_error, torn_tail, corrupt, serialize). Only these are ever lost. */
  readonly dropped: Readonly<Record<string, number>>;
  /** Successful connections after the first. */
  readonly reconnects: number;
  /** Whether the destination is reachable now (always true for local sinks). */
  readonly connected: boolean;
  /** Messages published and not yet acknowledged. */
  readonly in_flight: number;
}

export interface Sink {
  readonly name: string;
  /** Connects/opens. May throw StartupError (bad URL, unreadable CA file, buffer directory in use...). Does not wait for a broker. */
  open(signal?: AbortSignal): Promise<void>;
  /**
   * Accepts a batch of records; never called concurrently. Resolves when the records are
   * durably accepted (for MQTT: in the disk buffer), not necessarily delivered. Never rejects.
   */
  write(records: readonly PublishRecord[]): Promise<void>;
  /**
   * Called after the last write resolved: deliver what can be delivered within `deadlineMs`,
   * then disconnect. Undelivered records stay in the disk buffer for the next start.
   * By default a broker found away ends the wait at once (a daemon stopping should not
   * hang on it); `untilDelivered` keeps reconnecting until the deadline (a replay that
   * must hand over everything it read). `finalStats`, when given, is published once the
   * records are delivered and before the sink says it is going offline: a short replay can end
   * before the first connection is up, and a stats object published then would be skipped.
   */
  close(deadlineMs: number, opts?: CloseOptions): Promise<void>;
  stats(): SinkStats;
  /**
   * Publishes a side-channel stats object (MQTT: `<prefix>/<sensor>/stats`), if the sink has
   * such a channel and is connected; otherwise it is skipped (stats are not buffered).
   * Returns whether it was sent.
   */
  publishStats(stats: Readonly<Record<string, unknown>>): boolean;
  /**
   * Opens the destination again where that means something (SIGHUP): the file sink, after
   * logrotate moved its file; the MQTT sink reads its password and TLS files again, for the next
   * connection. Never throws: a failure is reported and the old destination kept.
   */
  reopen?(): void;
}
