/**
 * Publishing: the last stage. Labeled flow records go to one sink (types.ts):
 *
 *   pipeline --write(records)--> [ MQTT sink: disk buffer --pump (window)--> mqtt.js --> broker ]
 *                                [ stdout | file | none ]
 *
 * What the MQTT sink promises (the README repeats this):
 * - At least once. A record leaves the disk buffer only when the broker acknowledged its
 *   message (PUBACK at QoS 1, PUBCOMP at QoS 2; at QoS 0, when the client wrote it to the
 *   socket). Everything unacknowledged is sent again after a reconnect or a restart, so a
 *   subscriber may see a record twice (after a reconnect: up to max_inflight messages; after
 *   a crash: also up to about one second of acknowledged ones). Deduplicate downstream if it
 *   matters (a record's flow key and end time identify it).
 * - In order. Records are published in the order they were written; after a reconnect the
 *   resend starts at the oldest unacknowledged record, so nothing newer overtakes anything
 *   older that was not yet delivered.
 * - Outages lose nothing. write() resolves once the records are in the on-disk buffer,
 *   whatever the broker does; a slow or absent broker slows the pump, never the pipeline.
 *   Broker restarts, network loss and agent restarts (even kill -9) keep every buffered
 *   record. Power loss can lose what was not yet fsynced (publish.buffer.fsync, default:
 *   at most the last second).
 * - What is lost, always counted in stats().dropped and the publish.* counters:
 *   overflow  the buffer reached publish.buffer.max_size: the oldest (drop-oldest, default)
 *             or the incoming (drop-newest) records are discarded;
 *   too_large a single record larger than the buffer (or 16 MiB), or than fits in one
 *             MQTT message of publish.mqtt.max_packet_size (batches are cut to fit);
 *   serialize a record JSON cannot represent (a bug upstream);
 *   io_error  the disk refused a write (full, failing);
 *   torn_tail / corrupt  found at startup after a crash or power loss mid-write (the
 *             partial record is cut off), or a checksum failure from a damaged disk.
 *   Nothing else is ever discarded.
 * - Status: `<prefix>/<sensor>/status` holds a retained {"state":"online"} while connected
 *   and {"state":"offline"} after (clean close, or the broker's last will on a lost link).
 *   publishStats() sends `<prefix>/<sensor>/stats` when connected (stats are not buffered).
 *
 * The stdout and file sinks buffer nothing (stdout's records count as delivered when the
 * stream reports them written); `none` discards.
 */
import { ConfigError } from '../errors.js';
import type { Telemetry } from '../events.js';
import { checkPublishConfig, type PublishConfig } from './config.js';
import { FileSink, NoneSink, StreamSink } from './local-sinks.js';
import type { Sink } from './types.js';

export type { PublishRecord, Sink, SinkStats } from './types.js';
export { publishSchema, checkPublishConfig, SECRET_FIELDS, type PublishConfig } from './config.js';
export { redactUrl } from './mqtt-options.js';
export { DiskBuffer, type DiskBufferOptions, type DiskBufferStats } from './disk-buffer.js';
export { StreamSink, FileSink, NoneSink } from './local-sinks.js';

/**
 * Builds the configured sink; call open() on it. Checks the cross-field rules first (throws
 * ConfigError). Nothing is opened here: files and connections are opened by open().
 */
export async function createSink(config: PublishConfig, telemetry: Telemetry): Promise<Sink> {
  const issues = checkPublishConfig(config);
  if (issues.length > 0) throw new ConfigError(issues);
  switch (config.sink) {
    // Loaded here, not with this module: mqtt.js takes ~110 ms to load, which every replay to
    // stdout or a file (the README's first command among them) paid for nothing.
    case 'mqtt': return new (await import('./mqtt-sink.js')).MqttSink(config, telemetry);
    case 'stdout': return new StreamSink(telemetry);
    case 'file': return new FileSink(telemetry, config.file.path);
    case 'none': return new NoneSink(telemetry);
  }
}

/**
 * Every `intervalS` seconds (0: never) the stats go to the sink's side channel (MQTT's stats
 * topic) or, where it has none (stdout, file) or cannot take them now (the broker away), to the
 * log at info: with those sinks an operator saw no counter until the stop (found by review).
 * Returns a stop function. The timer does not keep the process alive.
 */
export function startStatsTimer(sink: Sink, intervalS: number, collect: () => Readonly<Record<string, unknown>>, t: Telemetry): () => void {
  if (intervalS <= 0) return () => undefined;
  const timer = setInterval(() => {
    const stats = collect();
    if (!sink.publishStats(stats)) t.log.info({ stats }, 'stats');
  }, Math.round(intervalS * 1000)).unref();
  return () => clearInterval(timer);
}
