/** An MQTT sink for `sensor` under `prefix`, opened, with a log the test reads; closed at teardown. */
import type { Test } from 'tap';
import { createSink } from '../../../agent/publish/index.js';
import type { Sink } from '../../../agent/publish/types.js';
import { publishConfig } from './config.js';
import { capturingTelemetry } from './telemetry.js';
import { tempDir } from './tmp.js';

export async function openMqttSink(t: Test, url: string, names: { prefix: string; sensor: string }, reconnectPeriod: number): Promise<{ sink: Sink; cap: ReturnType<typeof capturingTelemetry> }> {
  const cap = capturingTelemetry();
  const sink = await createSink(publishConfig({
    sink: 'mqtt', sensor_id: names.sensor, topic_prefix: names.prefix, mqtt: { url, reconnect_period: reconnectPeriod }, buffer: { dir: tempDir(t) },
  }), cap.t);
  t.teardown(() => sink.close(0));
  await sink.open();
  return { sink, cap };
}
