/**
 * Moves records from the disk buffer to the MQTT client, keeping at most `maxInflight`
 * messages published and unacknowledged. This is the back-pressure point: a slow broker
 * fills the window, and records wait on disk, not in mqtt.js's unbounded memory queue.
 *
 * At-least-once: a record is acknowledged to the buffer only when its message is (PUBACK
 * for QoS 1, PUBCOMP for QoS 2, written to the socket for QoS 0), in order: a later message
 * acknowledged first waits for the earlier ones. On disconnect everything in flight is taken
 * back from mqtt.js and sent again from the oldest unacknowledged record after reconnecting,
 * in order. Ordering holds per connection; across a reconnect a subscriber can see a record
 * again (a duplicate) but never a newer record before an older one that it never got.
 *
 * Message size: a broker refuses a packet over its limit, and over MQTT 3.1.1 it can only say
 * so by closing the connection; resending the same message after each reconnect would stall
 * publishing for good. So no message exceeds `maxPacketSize`: batches are cut to fit, and a
 * record that cannot fit alone is skipped (acknowledged to the buffer, counted as too_large).
 * Should the broker's limit still be lower, repeated closes with nothing acknowledged are reported.
 */
import type { MqttClient } from 'mqtt';
import { report, type Telemetry } from '../events.js';
import { QOS2_BROKER_INFLIGHT } from './config.js';
import type { BufferedRecord, Cursor, DiskBuffer } from './disk-buffer.js';

export interface PumpOptions {
  readonly topic: string;
  readonly qos: 0 | 1 | 2;
  /** Records per message: 1 sends the record itself, more sends a JSON array. */
  readonly batchSize: number;
  readonly maxInflight: number;
  /** Largest PUBLISH packet (payload, topic and headers). */
  readonly maxPacketSize: number;
}

interface InFlight {
  readonly gen: number;
  readonly next: Cursor;
  readonly records: number;
  done: boolean;
  /** A record too large to send: skipped, not delivered. */
  readonly tooLarge?: number;
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
const RETRY_MS = 1000;
/** Closes in a row, each with messages in flight and none acknowledged, before they are reported. */
const SUSPECT_CLOSES = 3;

export class Pump {
  /** Records delivered (acknowledged per QoS). */
  delivered = 0;
  /** Records skipped because they could not fit in maxPacketSize. */
  tooLarge = 0;
  /** Largest payload that fits in maxPacketSize with this topic (counting a packet id, as QoS 1 and 2 have). */
  private readonly maxPayload: number;
  /** Messages acknowledged since the last connect, and closes in a row without any. */
  private ackedSinceConnect = 0;
  private fruitlessCloses = 0;
  private online = false;
  private gen = 0;
  /** Where the next read from the buffer starts: after the records in `ahead`. */
  private cursor: Cursor;
  /**
   * Records read from the buffer and not yet published. Reading a few hundred at a time instead
   * of one per acknowledgement saves a file read per message (10,000 a second under load).
   */
  private ahead: BufferedRecord[] = [];
  private inflight: InFlight[] = [];
  private pumping = false;
  private stopped = false;
  /** A pump() is scheduled for after the acknowledgements being handled now (see soon()). */
  private scheduled = false;
  /** After a failed publish, wait RETRY_MS before trying again (no hot loop on a persistent error). */
  private paused = false;
  private retry: NodeJS.Timeout | undefined;
  /** Called whenever records were acknowledged (close() waits on it). */
  onProgress: (() => void) | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly buffer: DiskBuffer,
    private readonly opts: PumpOptions,
    private readonly t: Telemetry,
  ) {
    this.cursor = buffer.start;
    // Fixed header (1) + remaining length (up to 4) + topic length (2) + topic + packet id (2).
    this.maxPayload = opts.maxPacketSize - (9 + Buffer.byteLength(opts.topic));
  }

  get inFlight(): number {
    return this.inflight.length;
  }

  /** The client is connected (and its own store replay, empty by construction, is done). */
  connected(): void {
    if (this.stopped) return;
    this.online = true;
    this.ackedSinceConnect = 0;
    this.rewind(false); // disconnected() already took everything back from mqtt.js
    this.pump();
  }

  disconnected(): void {
    if (this.online && this.inflight.length > 0 && this.ackedSinceConnect === 0) {
      this.fruitlessCloses++;
      if (this.fruitlessCloses >= SUSPECT_CLOSES) {
        report(this.t, 'publish', 'closed_with_nothing_acknowledged', {
          closes_in_a_row: this.fruitlessCloses, in_flight: this.inflight.length, max_packet_size: this.opts.maxPacketSize,
          // Mosquitto 2.0 also closes it after denying a topic its ACL does not allow (found by review:
          // the records stay buffered and the agent reconnects, so the log must name that cause too).
          hint: 'a broker closes the connection on a message over its size limit (set publish.mqtt.max_packet_size at or below it) '
            + `and on a topic it does not let this client publish to (allow ${this.opts.topic} in the broker's ACL)`
            + (this.opts.qos === 2 && this.opts.maxInflight > QOS2_BROKER_INFLIGHT
              ? `, and at qos 2 on more messages in flight than it allows (Mosquitto: max_inflight_messages, ${QOS2_BROKER_INFLIGHT} by default; publish.mqtt.max_inflight is ${this.opts.maxInflight})` : ''),
        });
      }
    }
    this.online = false;
    this.rewind();
  }

  /** For close(): publish nothing more, whatever the connection does. */
  stop(): void {
    this.stopped = true;
    this.online = false;
    clearTimeout(this.retry);
  }

  /** Publishes while there is room in the window and records in the buffer. */
  pump(): void {
    if (this.pumping || !this.online || this.paused) return;
    this.pumping = true;
    // Messages published in this tick leave in one write rather than one syscall each.
    const stream = this.client.stream as { cork?: () => void; uncork?: () => void } | undefined;
    stream?.cork?.();
    try {
      const g = this.gen;
      while (this.online && !this.paused && this.gen === g && this.inflight.length < this.opts.maxInflight) {
        this.forgetDropped();
        if (this.ahead.length < this.opts.batchSize) this.readAhead();
        if (this.ahead.length === 0) break;
        const n = this.fitting();
        if (n === 0) this.skipTooLarge(this.ahead.shift()!);
        else this.send(this.ahead.splice(0, n));
      }
    } finally {
      this.pumping = false;
      if (stream?.uncork) process.nextTick(() => stream.uncork!());
    }
  }

  /**
   * Records read ahead that the buffer has dropped since (drop-oldest, while the window was full)
   * are not sent: they are counted as dropped, and were also published and counted as delivered
   * (found by review). Those already in flight still go, counted as delivered once acknowledged
   * and as dropped if taken back (disk-buffer-limbo.ts); at most the window's worth.
   */
  private forgetDropped(): void {
    const start = this.buffer.start.seq;
    let k = 0;
    while (k < this.ahead.length && this.ahead[k]!.next.seq <= start) k++;
    if (k > 0) this.ahead.splice(0, k); // the cursor may now lie before the start: buffer.read reads from the start then
  }

  private readAhead(): void {
    const want = Math.min(1024, Math.max(64, 4 * this.opts.maxInflight * this.opts.batchSize));
    const recs = this.buffer.read(this.cursor, want - this.ahead.length);
    if (recs.length === 0) return;
    this.ahead.push(...recs);
    this.cursor = recs[recs.length - 1]!.next;
  }

  /** How many of the next records fit in one message (0: not even the first). */
  private fitting(): number {
    const first = this.ahead[0]!.payload.length;
    if (this.opts.batchSize === 1) return first <= this.maxPayload ? 1 : 0;
    let bytes = 1 + first; // "[" + record; "," + record for each next; "]"
    if (bytes + 1 > this.maxPayload) return 0;
    let n = 1;
    const max = Math.min(this.opts.batchSize, this.ahead.length);
    while (n < max && bytes + 1 + this.ahead[n]!.payload.length + 1 <= this.maxPayload) bytes += 1 + this.ahead[n++]!.payload.length;
    return n;
  }

  /** Passes over a record that no message can carry: acknowledged in its turn, counted, never sent. */
  private skipTooLarge(r: BufferedRecord): void {
    this.inflight.push({ gen: this.gen, next: r.next, records: 0, done: true, tooLarge: r.payload.length });
    this.advance();
  }

  private send(group: BufferedRecord[]): void {
    const payload = group.length === 1 && this.opts.batchSize === 1 ? group[0]!.payload : jsonArray(group);
    const entry: InFlight = { gen: this.gen, next: group[group.length - 1]!.next, records: group.length, done: false };
    this.inflight.push(entry);
    this.buffer.inFlight.sent(entry.next.seq);
    this.client.publish(this.opts.topic, payload, { qos: this.opts.qos }, (err) => this.settled(entry, err));
  }

  private settled(entry: InFlight, err: Error | undefined): void {
    if (entry.gen !== this.gen) return; // taken back by a rewind; sent again since
    if (err) {
      report(this.t, 'publish', 'publish_failed', { error: err.message, effect: 'resent from the oldest unacknowledged record' });
      this.rewind();
      this.paused = true;
      clearTimeout(this.retry);
      this.retry = setTimeout(() => { this.paused = false; this.pump(); }, RETRY_MS).unref();
      return;
    }
    entry.done = true;
    this.ackedSinceConnect++;
    this.fruitlessCloses = 0;
    this.advance();
    this.soon();
  }

  /** Acknowledges to the buffer everything done at the front of the window, in order. */
  private advance(): void {
    let last: InFlight | undefined;
    while (this.inflight[0]?.done) {
      last = this.inflight.shift()!;
      this.delivered += last.records;
      if (last.tooLarge !== undefined) {
        this.tooLarge++;
        report(this.t, 'publish', 'too_large', {
          bytes: last.tooLarge, max_packet_size: this.opts.maxPacketSize, effect: 'record dropped',
          hint: 'raise publish.mqtt.max_packet_size if the broker allows larger messages',
        });
      }
    }
    if (last) {
      this.buffer.ack(last.next);
      this.onProgress?.();
    }
  }

  /**
   * Refill the window once the acknowledgements that arrived together have been handled. Calling
   * pump() on each PUBACK sent one message per socket write: at 10,000 records a second that was
   * 10,000 small loopback writes, the biggest cost of publishing (a third of the main thread).
   * setImmediate runs after the I/O callbacks of this turn, so a read full of PUBACKs becomes one
   * write full of PUBLISHes.
   */
  private soon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Forgets what is in flight (also inside mqtt.js) and restarts from the oldest unacknowledged record. */
  private rewind(takeBack = true): void {
    this.gen++;
    this.inflight = [];
    this.ahead = [];
    this.buffer.takenBack();
    this.cursor = this.buffer.start;
    if (!takeBack) return;
    const out = this.client.outgoing;
    for (const id of Object.keys(out)) {
      if (out[Number(id)]?.cmd === 'publish') this.client.removeOutgoingMessage(Number(id));
    }
  }
}

function jsonArray(group: readonly BufferedRecord[]): Buffer {
  const parts: Buffer[] = [OPEN];
  for (let i = 0; i < group.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(group[i]!.payload);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}
