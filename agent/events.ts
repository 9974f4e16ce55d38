/**
 * Telemetry: every data-path event is logged through the stage's child logger
 * and counted. Errors on the data path never throw through the pipeline; they
 * come here, are counted under `<stage>.<reason>`, and the record is dropped or
 * retried by the stage's stated policy.
 *
 * Logging is rate-limited per (stage, reason): the 1st, 10th, 100th, ...
 * occurrence is logged, so a flood of bad packets cannot flood the journal.
 */
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: Level | 'silent';
  /** Daemon logs go to stdout (journald); command-line tools log to stderr so stdout stays data. */
  destination?: 'stdout' | 'stderr';
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const fd = opts.destination === 'stdout' ? 1 : 2;
  return pino(
    { level: opts.level ?? 'info', base: { svc: 'eta-sensor' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd, sync: true }),
  );
}

/** A logger that discards everything: for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Monotonic named counters, keyed `<stage>.<name>`. Cheap enough for per-flow use, not per-packet. */
export class Counters {
  private readonly values = new Map<string, number>();

  inc(key: string, n = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }

  set(key: string, n: number): void {
    this.values.set(key, n);
  }

  get(key: string): number {
    return this.values.get(key) ?? 0;
  }

  /** Sorted copy, for stats messages and end-of-run summaries. */
  snapshot(prefix?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.values.keys()].sort()) {
      if (prefix === undefined || k.startsWith(prefix)) out[k] = this.values.get(k) ?? 0;
    }
    return out;
  }
}

export interface Telemetry {
  readonly log: Logger;
  readonly counters: Counters;
}

export function createTelemetry(log: Logger = silentLogger()): Telemetry {
  return { log, counters: new Counters() };
}

function isPowerOfTen(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}

/**
 * Report a data-path event: count it and log it (rate-limited). Never throws.
 * `stage` is the pipeline stage (capture, flows, infer, publish, ...).
 */
export function report(
  t: Telemetry,
  stage: string,
  reason: string,
  detail?: Record<string, unknown>,
  level: ReportLevel = 'warn',
): void {
  countAndLog(t, stage, reason, detail, level, false);
}

/** As report(), logged every time: an event rare enough that each one matters (a broker connection lost). */
export function reportEach(t: Telemetry, stage: string, reason: string, detail?: Record<string, unknown>, level: ReportLevel = 'warn'): void {
  countAndLog(t, stage, reason, detail, level, true);
}

type ReportLevel = 'warn' | 'error' | 'info' | 'debug';

function countAndLog(t: Telemetry, stage: string, reason: string, detail: Record<string, unknown> | undefined, level: ReportLevel, every: boolean): void {
  const key = `${stage}.${reason}`;
  t.counters.inc(key);
  const n = t.counters.get(key);
  if (every || isPowerOfTen(n)) t.log[level]({ stage, reason, count: n, ...detail }, `${stage}: ${reason}`);
}
