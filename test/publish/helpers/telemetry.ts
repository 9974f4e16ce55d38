/** Telemetry whose log lines are kept, to check what a user would read (reasons, redaction). */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createTelemetry, type Telemetry } from '../../../agent/events.js';

export function capturingTelemetry(): { t: Telemetry; logs: () => string } {
  const chunks: string[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
  return { t: createTelemetry(pino({ level: 'debug' }, out)), logs: () => chunks.join('') };
}
