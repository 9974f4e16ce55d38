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
 * JSON lines for the local sinks: one Buffer per batch, each record written into it in turn.
 * Concatenating the lines into one string and converting that (one rope of 256 pieces, then
 * its UTF-8 copy) took a fifth of `replay`'s main thread, as much as JSON.stringify itself.
 */
export function encodeLines(records: readonly PublishRecord[], t: Telemetry): { data: Buffer; count: number; failed: number } {
  const lines: string[] = [];
  let chars = 0;
  for (const r of records) {
    const json = encodeOne(r, t);
    if (json === undefined) continue;
    lines.push(json);
    chars += json.length + 1;
  }
  // Sized for ASCII (what JSON.stringify gives for most records); grown when a line has more UTF-8 bytes than characters.
  let data = Buffer.allocUnsafe(chars);
  let at = 0;
  for (const line of lines) {
    if (at + line.length * 3 + 1 > data.length) {
      const need = at + Buffer.byteLength(line) + 1;
      if (need > data.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, data.length * 2));
        data.copy(grown, 0, 0, at);
        data = grown;
      }
    }
    at += data.write(line, at);
    data[at++] = 0x0a;
  }
  return { data: data.subarray(0, at), count: lines.length, failed: records.length - lines.length };
}
