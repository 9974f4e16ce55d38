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

/**
 * JSON lines for the local sinks: one string per batch and one Buffer, rather than a Buffer per
 * record and a concatenation (half the allocations on `replay`'s main thread).
 */
export function encodeLines(records: readonly PublishRecord[], t: Telemetry): { data: Buffer; count: number; failed: number } {
  let text = '';
  let count = 0;
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
    text += `${json}\n`;
    count++;
  }
  return { data: Buffer.from(text), count, failed };
}
