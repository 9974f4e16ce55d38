/**
 * Hands labeled records to the sink in batches, one write at a time (the
 * sink contract forbids concurrent writes). Records arriving while a write is
 * in progress gather into the next batch. Bounded: beyond `limit` records
 * waiting, live capture drops the newest (counted as publish.backlog-full) and
 * replay waits for room.
 */
import { report, type Telemetry } from '../events.js';
import type { PublishRecord, Sink } from '../publish/types.js';

export class Outbox {
  private next: PublishRecord[] = [];
  private writing: Promise<void> | undefined;
  private readonly room: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];
  written = 0;

  constructor(
    private readonly sink: Sink,
    private readonly t: Telemetry,
    private readonly limit: number,
    private readonly mode: 'shed' | 'block',
  ) {}

  get backlog(): number {
    return this.next.length;
  }

  push(r: PublishRecord): void {
    if (this.mode === 'shed' && this.next.length >= this.limit) {
      report(this.t, 'publish', 'backlog-full', { waiting: this.next.length });
      return;
    }
    this.next.push(r);
    if (this.writing === undefined) this.writing = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.next.length > 0) {
      const batch = this.next;
      this.next = [];
      for (const r of this.room.splice(0)) r();
      await this.sink.write(batch); // never rejects (sink contract)
      this.written += batch.length;
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
