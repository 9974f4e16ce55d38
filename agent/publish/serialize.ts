/**
 * Serializing records once, in the sink. A record that cannot be serialized (a BigInt, a
 * cycle: a bug upstream) is dropped and counted, never thrown through the pipeline.
 */
import { report, type Telemetry } from '../events.js';
import { RAW_MEMBERS, type PublishRecord } from './types.js';

/**
 * One record as JSON, or undefined (reported) when it cannot be serialized: the JSON of its
 * plain members and, apart, its raw members (RAW_MEMBERS) to append. Kept apart so that the
 * JSON lines below write both into their buffer without joining them first.
 */
function encodeOne(r: PublishRecord, t: Telemetry): { json: string; raw: string | undefined } | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(r);
  } catch (err) {
    report(t, 'publish', 'serialize_failed', { error: (err as Error).message });
    return undefined;
  }
  const raw = r[RAW_MEMBERS];
  if (json === undefined || (raw !== undefined && json[json.length - 1] !== '}')) {
    report(t, 'publish', 'serialize_failed', { error: 'not a JSON value' });
    return undefined;
  }
  return { json, raw: raw === '' ? undefined : raw };
}

/** Whether an object's JSON has members of its own, which a comma then separates from the raw ones ("{}" has none). */
function hasMembers(json: string): boolean {
  return json.length > 2;
}

/** The whole JSON of a record encoded by encodeOne. */
function joined(e: { json: string; raw: string | undefined }): string {
  if (e.raw === undefined) return e.json;
  return `${e.json.slice(0, -1)}${hasMembers(e.json) ? ',' : ''}${e.raw}}`;
}

/** One payload per record (MQTT messages, disk buffer frames). */
export function encodeRecords(records: readonly PublishRecord[], t: Telemetry): { payloads: Buffer[]; failed: number } {
  const payloads: Buffer[] = [];
  for (const r of records) {
    const e = encodeOne(r, t);
    if (e !== undefined) payloads.push(Buffer.from(joined(e)));
  }
  return { payloads, failed: records.length - payloads.length };
}

/**
 * JSON lines for the local sinks: one Buffer per batch, each record written into it in turn.
 * Concatenating the lines into one string and converting that (one rope of 256 pieces, then
 * its UTF-8 copy) took a fifth of `replay`'s main thread, as much as JSON.stringify itself.
 * A record's raw members go in the same way: its JSON, less the closing brace, then a comma,
 * the members and the brace.
 */
export function encodeLines(records: readonly PublishRecord[], t: Telemetry): { data: Buffer; count: number; failed: number } {
  const lines: Array<{ json: string; raw: string | undefined }> = [];
  let chars = 0;
  for (const r of records) {
    const e = encodeOne(r, t);
    if (e === undefined) continue;
    lines.push(e);
    chars += e.json.length + (e.raw === undefined ? 0 : e.raw.length + 1) + 1;
  }
  // Sized for ASCII (what JSON.stringify gives for most records); grown when a line has more UTF-8 bytes than characters.
  let data = Buffer.allocUnsafe(chars);
  let at = 0;
  for (const { json, raw } of lines) {
    const most = (json.length + (raw === undefined ? 0 : raw.length + 1)) * 3 + 1;
    if (at + most > data.length) {
      const need = at + Buffer.byteLength(json) + (raw === undefined ? 0 : Buffer.byteLength(raw) + 1) + 1;
      if (need > data.length) {
        const grown = Buffer.allocUnsafe(Math.max(need, data.length * 2));
        data.copy(grown, 0, 0, at);
        data = grown;
      }
    }
    at += data.write(json, at);
    if (raw !== undefined) {
      at--; // the closing brace, written again after the members
      if (hasMembers(json)) data[at++] = 0x2c;
      at += data.write(raw, at);
      data[at++] = 0x7d;
    }
    data[at++] = 0x0a;
  }
  return { data: data.subarray(0, at), count: lines.length, failed: records.length - lines.length };
}
