/**
 * Hands labeled records to the sink in batches, one write at a time (the
 * sink contract forbids concurrent writes). Records arriving while a write is
 * in progress gather into the next batch. Bounded: beyond `limit` records
 * waiting, live capture drops the newest (counted as publish.backlog-full) and
 * replay waits for room. Once sealed (shutdown, before the sink closes), a
 * record still coming from inference is counted as publish.after-shutdown,
 * not queued for a closed sink.
 */
import { report, type Telemetry } from '../events.js';
import type { PublishRecord, Sink } from '../publish/types.js';

export class Outbox {
  private next: PublishRecord[] = [];
  private writing: Promise<void> | undefined;
  private readonly room: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  private sealed = false;
  private closed = false;
  written = 0;
  /** Records dropped before the sink, by reason: the stats topic's publish.dropped (see push). */
  readonly dropped = { backlog_full: 0, after_shutdown: 0 };

  constructor(
    private readonly sink: Sink,
    private readonly t: Telemetry,
    private readonly limit: number,
    private mode: 'shed' | 'block',
  ) {}

  get backlog(): number {
    return this.next.length;
  }

  /** Wait for room from now on, not drop (a shutdown: the input has stopped, and the flush waits). */
  block(): void {
    this.mode = 'block';
  }

  /** Queue a record for the sink; false when it was dropped (and counted) instead. */
  push(r: PublishRecord): boolean {
    if (this.sealed) {
      this.drop(1);
      return false;
    }
    if (this.mode === 'shed' && this.next.length >= this.limit) {
      this.dropped.backlog_full++;
      report(this.t, 'publish', 'backlog-full', { waiting: this.next.length });
      return false;
    }
    this.next.push(r);
    if (this.writing === undefined) this.writing = this.loop();
    return true;
  }

  /**
   * No more records: the sink is about to close (a shutdown whose drain ran out of time, with
   * inference still answering). Those still to come are counted, not queued; those queued go on
   * to the sink while it closes (MQTT's disk buffer keeps them for the next start).
   */
  seal(): void {
    this.sealed = true;
  }

  /**
   * The sink has closed: what is still queued (behind a write it gave up on, a stdout reader that
   * stalled) is counted now, for the stats the stop logs next, and nothing more is handed to it: a
   * write after close() was counted nowhere (found by review).
   */
  sinkClosed(): void {
    this.closed = true;
    this.drop(this.next.length);
    this.next = [];
    for (const r of this.room.splice(0)) r();
  }

  private drop(records: number): void {
    if (records === 0) return;
    this.dropped.after_shutdown += records;
    report(this.t, 'publish', 'after-shutdown', { records });
  }

  private async loop(): Promise<void> {
    while (this.next.length > 0) {
      const batch = this.next;
      this.next = [];
      for (const r of this.room.splice(0)) r();
      if (this.closed) {
        this.drop(batch.length);
        continue;
      }
      try {
        await this.sink.write(batch);
        this.written += batch.length;
      } catch (e) {
        // The sink contract says write never rejects; a sink closed under it does (found by review:
        // that rejection, unhandled, ended the daemon with a stack trace at shutdown).
        report(this.t, 'publish', 'write-failed', { records: batch.length, error: (e as Error).message }, 'error');
      }
    }
    this.writing = undefined;
    for (const r of this.idle.splice(0)) r();
  }

  /** Replay: resolves when fewer than `limit` records wait. */
  async waitForRoom(): Promise<void> {
    while (this.next.length >= this.limit) await new Promise<void>((r) => this.room.push(r));
  }

  /** Resolves when everything pushed so far has been written to the sink. */
  async drain(): Promise<void> {
    while (this.writing !== undefined) await new Promise<void>((r) => this.idle.push(r));
  }
}
