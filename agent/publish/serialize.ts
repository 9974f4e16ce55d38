/**
 * Serializing records once, in the sink. A record that cannot be serialized (a BigInt, a
 * cycle: a bug upstream) is dropped and counted, never thrown through the pipeline.
 */
import { report, type Telemetry } from '../events.js';
import type { PublishRecord } from './types.js';

/** One record as JSON, or undefined (reported) when it cannot be serialized. */
function encodeOne(r: PublishRecord, t: Telemetry): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(r);
  } catch (err) {
    report(t, 'publish', 'serialize_failed', { error: (err as Error).message });
    return undefined;
  }
  if (json === undefined) report(t, 'publish', 'serialize_failed', { error: 'not a JSON value' });
  return json;
}

/** One payload per record (MQTT messages, disk buffer frames). */
export function encodeRecords(records: readonly PublishRecord[], t: Telemetry): { payloads: Buffer[]; failed: number } {
  const payloads: Buffer[] = [];
  for (const r of records) {
    const json = encodeOne(r, t);
    if (json !== undefined) payloads.push(Buffer.from(json));
  }
  return { payloads, failed: records.length - payloads.length };
}

/**
 * JSON lines for the local sinks: one string per batch and one Buffer, rather than a Buffer per
 * record and a concatenation (half the allocations on `replay`'s main thread).
 */
export function encodeLines(records: readonly PublishRecord[], t: Telemetry): { data: Buffer; count: number; failed: number } {
  let text = '';
  let count = 0;
  for (const r of records) {
    const json = encodeOne(r, t);
    if (json === undefined) continue;
    text += `${json}\n`;
    count++;
  }
  return { data: Buffer.from(text), count, failed: records.length - count };
}
