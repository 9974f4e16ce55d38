/**
 * Serializing records once, in the sink. A record that cannot be serialized (a BigInt, a
 * cycle: a bug upstream) is dropped and counted, never thrown through the pipeline.
 */
import { report, type Telemetry } from '../events.js';
import type { PublishRecord } from './types.js';

export function encodeRecords(records: readonly PublishRecord[], t: Telemetry): { payloads: Buffer[]; failed: number } {
  const payloads: Buffer[] = [];
  let failed = 0;
  for (const r of records) {
    let json: string | undefined;
    try {
      json = JSON.stringify(r);
    } catch (err) {
      report(t, 'publish', 'serialize_failed', { error: (err as Error).message });
      failed++;
      continue;
    }
    if (json === undefined) {
      report(t, 'publish', 'serialize_failed', { error: 'not a JSON value' });
      failed++;
      continue;
    }
    payloads.push(Buffer.from(json));
  }
  return { payloads, failed };
}
