/**
 * What `run` and `replay` share at startup: the sensor's name, the models
 * checked against what the input provides, the sink, and the summary.
 */
import type { AgentConfig } from './config.js';
import type { Logger, Telemetry } from './events.js';
import { FEATURE_NAMES } from './features/registry.js';
import { loadModels, type LoadedModel } from './infer/models.js';
import { sensorIdOf as publishSensorId } from './publish/mqtt-options.js';

/** The configured sensor id, or the host name reduced to one valid MQTT topic level. */
export function sensorIdOf(cfg: AgentConfig): string {
  return publishSensorId(cfg.publish);
}

/** Both models from the configuration, checked against the columns the input can supply. */
export function modelsFor(cfg: AgentConfig, available: readonly string[] = FEATURE_NAMES, source = 'the flow meter', log?: Logger): Promise<LoadedModel[]> {
  return loadModels(
    { app: cfg.infer.app, attribution: cfg.infer.attribution },
    available,
    source,
    log,
  );
}

/** The columns a CSV replay parses: what the models need, plus the volume figures when present. */
export function csvLayout(models: readonly LoadedModel[], header: readonly string[]): string[] {
  const out: string[] = [];
  for (const m of models) for (const f of m.meta.features) if (!out.includes(f)) out.push(f);
  for (const v of ['src2dst_packets', 'dst2src_packets', 'src2dst_bytes', 'dst2src_bytes', 'bidirectional_duration_ms']) {
    if (header.includes(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/** One line per model at startup, so the journal says what is running. */
export function logModels(t: Telemetry, models: readonly LoadedModel[]): void {
  for (const m of models) {
    t.log.info({ model: m.kind, path: m.path, classes: m.meta.classes.length, features: m.meta.features.length, trained_at: m.meta.trainedAt, threshold: m.threshold }, `model ${m.kind} loaded`);
  }
  if (models.length === 0) t.log.warn('no model configured: flows are published without labels');
}
