/**
 * Serializing records once, in the sink, with writeJson (json-writer.ts). A record that
 * cannot be serialized (a BigInt, a cycle: a bug upstream) is dropped and counted, never
 * thrown through the pipeline.
 */
import { report, type Telemetry } from '../events.js';
import { AsciiBuffer } from '../lib/ascii-buffer.js';
import { writeJson } from './json-writer.js';
import type { PublishRecord } from './types.js';

/** Reused between calls: the sinks are single-threaded and copy the bytes out before the next call. */
let out = new AsciiBuffer(1 << 16);

/** A huge batch grew the buffer: let it go rather than keep it for good. */
function done(): void {
  out.pos = 0;
  if (out.buf.length > 1 << 20) out = new AsciiBuffer(1 << 16);
}

/** Append one record to `out`; false (reported) when it cannot be serialized. */
function encodeOne(r: PublishRecord, t: Telemetry): boolean {
  try {
    if (writeJson(out, r)) return true;
    report(t, 'publish', 'serialize_failed', { error: 'not a JSON value' });
  } catch (err) {
    report(t, 'publish', 'serialize_failed', { error: (err as Error).message });
  }
  return false;
}

/** One payload per record (MQTT messages, disk buffer frames). */
export function encodeRecords(records: readonly PublishRecord[], t: Telemetry): { payloads: Buffer[]; failed: number } {
  const payloads: Buffer[] = [];
  for (const r of records) {
    out.pos = 0;
    if (encodeOne(r, t)) payloads.push(Buffer.from(out.buf.subarray(0, out.pos)));
  }
  done();
  return { payloads, failed: records.length - payloads.length };
}

/** JSON lines for the local sinks: one Buffer per batch. */
export function encodeLines(records: readonly PublishRecord[], t: Telemetry): { data: Buffer; count: number; failed: number } {
  out.pos = 0;
  let count = 0;
  for (const r of records) {
    if (!encodeOne(r, t)) continue;
    out.byte(0x0a);
    count++;
  }
  const data = Buffer.from(out.buf.subarray(0, out.pos));
  done();
  return { data, count, failed: records.length - count };
}
