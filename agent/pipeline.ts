/**
 * The pipeline, wired once for live capture, pcap replay and CSV replay:
 *
 *   capture ──frames──▶ flows ──FlowRecord──▶ infer ──labels──▶ publish
 *   (live, pcap,        (decode, table,        (batches on a      (outbox → sink:
 *    pcapng)             features, meta)        piscina pool)      MQTT/stdout/file)
 *   feature CSV ─────────────FlowRecord────────▲
 *
 * Flow assembly is stateful and single-threaded (this thread); only batches of
 * feature vectors fan out to worker threads. Live capture sheds load (counted)
 * when inference or publishing cannot keep up; replay waits instead, so it
 * labels every flow "as fast as it can go".
 */
import type { PacketSource, SourceEnd } from './capture/types.js';
import type { CsvInput, CsvRowsResult } from './capture/csv-rows.js';
import type { AgentConfig } from './config.js';
import { report, type Telemetry } from './events.js';
import { releaseFeatures, type FlowRecord } from './features/record.js';
import { FEATURE_NAMES } from './features/registry.js';
import { meterSource } from './flows/drive.js';
import { meterOptions } from './flows/extract-file.js';
import { FlowMeter } from './flows/meter.js';
import { Classifier } from './infer/classifier.js';
import { inferWorkers } from './infer/config.js';
import type { LoadedModel } from './infer/models.js';
import type { InferencePool } from './infer/pool.js';
import type { ClassifyResult } from './infer/types.js';
import { Outbox } from './pipeline/outbox.js';
import { REGISTRY_VOLUME, toPublishRecord, volumeColumns, type VolumeColumns } from './pipeline/record.js';
import type { Sink } from './publish/types.js';
import { wallMicros } from './lib/wall-clock.js';

export type Mode = 'live' | 'replay';

export interface PipelineDeps {
  cfg: AgentConfig;
  t: Telemetry;
  sink: Sink;
  models: LoadedModel[];
  sensorId: string;
  mode: Mode;
  /** Feature layout of the records: the registry for packets, the needed columns for a CSV. */
  layout?: readonly string[];
  /** Inference workers started ahead for `models` (infer/pool.ts), which the first classifier adopts. */
  pool?: InferencePool;
}

export class Pipeline {
  readonly meter: FlowMeter;
  private classifier: Classifier<FlowRecord>;
  /** Classifiers replaced by a reload and still draining, and the counts of those that finished. */
  private readonly retiring = new Set<Classifier<FlowRecord>>();
  private readonly retired = { classified: 0, busyMs: 0, cpuMs: 0 };
  private readonly outbox: Outbox;
  private readonly volume: VolumeColumns;
  private readonly layout: readonly string[];
  private readonly shed: boolean;
  private published = 0;
  private readonly unlabeled: Record<string, number> = {};
  private readonly started = Date.now();
  private inferWaitMs = 0;
  /** The totals at the last stats() at least half a second before, and the rates over that interval. */
  private rateMark = { at: performance.now(), classified: 0, published: 0, infer: 0, publish: 0 };
  private closed = false;
  /** Set by shutDownAt: when flows stop waiting for inference. */
  private labelBy: number | undefined;
  /** Stops the input when startup fails behind it (holdUntil). */
  private readonly halt = new AbortController();

  constructor(private readonly d: PipelineDeps) {
    this.layout = d.layout ?? FEATURE_NAMES;
    this.volume = d.layout ? volumeColumns(d.layout) : REGISTRY_VOLUME;
    this.shed = d.mode === 'live';
    this.meter = new FlowMeter(meterOptions(d.cfg), (rec) => this.classifier.submit(rec));
    this.classifier = this.newClassifier(d.models, d.pool);
    this.outbox = new Outbox(d.sink, d.t, d.cfg.infer.max_queue, this.shed ? 'shed' : 'block');
  }

  private newClassifier(models: LoadedModel[], pool?: InferencePool): Classifier<FlowRecord> {
    const i = this.d.cfg.infer;
    return new Classifier<FlowRecord>(models, this.layout, {
      workers: inferWorkers(i.workers), nice: i.nice, batchSize: i.batch_size, batchTimeoutMs: i.batch_timeout_ms,
      maxQueue: i.max_queue, maxWaitMs: i.max_wait_ms, mode: this.shed ? 'shed' : 'block', ...(pool ? { pool } : {}),
    }, this.d.t, (rec, result) => this.publish(rec, result));
  }

  private publish(rec: FlowRecord, result: ClassifyResult): void {
    if (result.unlabeled) this.unlabeled[result.unlabeled] = (this.unlabeled[result.unlabeled] ?? 0) + 1;
    // Counted once the outbox took it: one dropped (live backlog full) is not published. Found by review.
    if (this.outbox.push(toPublishRecord(rec, result, this.d.sensorId, this.volume))) this.published++;
    releaseFeatures(rec); // the published record holds what it needs of them
  }

  /**
   * SIGTERM: the input stops; from now on no flow is shed for a full queue (the flush of the open
   * flows waits for room instead), and from `labelBy` (Date.now()) none waits for inference
   * (Classifier.shutDownAt): they are published unlabeled ("shutdown") within the stop's time.
   */
  shutDownAt(labelBy: number): void {
    this.labelBy = labelBy;
    // Also one a reload retired, still draining, which run.ts waits for (found by review: SIGHUP,
    // then SIGTERM with a worker stuck in a batch, and the daemon never stopped).
    for (const c of [...this.retiring, this.classifier]) c.shutDownAt(labelBy);
    this.outbox.block();
  }

  /** Shutdown, before the sink closes: records inference still answers are counted, not written (Outbox.seal). */
  sealOutbox(): void {
    this.outbox.seal();
  }

  /** Shutdown, once the sink has closed: records still queued for it are counted, never written (Outbox.sinkClosed). */
  sinkClosed(): void {
    this.outbox.sinkClosed();
  }

  /** Resolves once the inference workers have opened the models; rejects with the StartupError naming a model onnxruntime refused. */
  get ready(): Promise<void> {
    return this.classifier.ready;
  }

  /**
   * Replay: publish nothing before `gate` resolves (its sink opens once the models have), while
   * packets are metered meanwhile. If the models or the gate fail, the input stops at once and
   * nothing is published; the caller has the error from its gate.
   */
  holdUntil(gate: Promise<unknown>): void {
    this.classifier.holdUntil(gate).catch(() => this.halt.abort());
  }

  /** Replay back-pressure: wait while inference or publishing is full. */
  private async room(): Promise<void> {
    if (this.classifier.backlog >= this.d.cfg.infer.max_queue) {
      const t0 = performance.now();
      await this.classifier.waitForRoom();
      // Only the wait after the workers started counts: before, it is startup, not inference.
      this.inferWaitMs += Math.max(0, performance.now() - Math.max(t0, this.classifier.releasedAt));
    }
    await this.outbox.waitForRoom();
  }

  /**
   * Replay: how long the input waited for inference (its queue full), and the flows waiting
   * for it now. Together with the time the last of them take, and how busy the workers were,
   * they tell whether inference kept up with the flow meter or held the replay back.
   */
  inferenceLag(): { waitedMs: number; waiting: number; releasedAt: number; atRelease: number; busyMs: number; cpuMs: number; workers: number } {
    const c = this.classifier;
    const { busyMs, cpuMs } = this.inferTotals();
    return { waitedMs: this.inferWaitMs, waiting: c.backlog, releasedAt: c.releasedAt, atRelease: c.backlogAtRelease, busyMs, cpuMs, workers: inferWorkers(this.d.cfg.infer.workers) };
  }

  /** Run a packet source to its end (file) or until stopped (live), then flush every flow. */
  async runPackets(source: PacketSource, signal: AbortSignal, onChunk?: () => void): Promise<SourceEnd> {
    let clock: NodeJS.Timeout | undefined;
    if (this.d.mode === 'live') {
      // On a quiet link no packet moves the clock: a timer does, so idle flows still end.
      clock = setInterval(() => this.meter.tick(wallMicros()), this.d.cfg.capture.clock_interval * 1000);
    }
    try {
      return await meterSource(source, this.meter, async () => {
        onChunk?.();
        if (!this.shed || this.labelBy !== undefined) await this.room();
      }, AbortSignal.any([signal, this.halt.signal]));
    } finally {
      if (clock) clearInterval(clock);
    }
  }

  /** Replay a feature CSV: rows go straight to inference. */
  async runCsv(csv: CsvInput, badRows: 'skip' | 'fail', signal: AbortSignal): Promise<CsvRowsResult> {
    // Loaded here: csv-parse is needed by CSV replays only.
    const { readCsvRows } = await import('./capture/csv-rows.js');
    return readCsvRows(csv, this.layout, (rec) => {
      this.classifier.submit(rec);
      return this.classifier.backlog >= this.d.cfg.infer.max_queue || this.outbox.backlog >= this.d.cfg.infer.max_queue ? this.room() : undefined;
    }, {
      badRows,
      onBadRow: (line, column, value, rows = 1) => {
        // The first rows by name, so they can be found and fixed; then 1 in 10, 100... as for every data-path event.
        const t = this.d.t;
        if (t.counters.get('replay.bad-row') < 10) {
          t.counters.inc('replay.bad-row');
          t.log.warn({ stage: 'replay', reason: 'bad-row', count: t.counters.get('replay.bad-row'), line, column, value }, `replay: bad row at line ${line}, column ${column}: ${JSON.stringify(value)}`);
        } else report(t, 'replay', 'bad-row', { line, column, value });
        t.counters.inc('replay.bad-row', rows - 1); // the lines lost with it (csv-rows.ts), when more than its own
      },
      // The row is still classified and published; its record says 0 (or `forced`) for that field.
      onBadIdentity: (line, column, value) => report(this.d.t, 'replay', 'bad-identity', { line, column, value }),
    }, AbortSignal.any([signal, this.halt.signal]));
  }

  /** Finish inference and hand every record to the sink (the sink itself is closed by the caller). */
  async drain(): Promise<void> {
    await this.classifier.drain();
    await this.outbox.drain();
  }

  /**
   * SIGHUP: new models take over once their workers have opened them; flows already queued
   * finish on the old ones; no flow is lost. New models onnxruntime refuses are not swapped in:
   * the error is thrown and the old ones keep running.
   */
  async swapModels(models: LoadedModel[]): Promise<void> {
    const next = this.newClassifier(models);
    try {
      await next.ready;
    } catch (e) {
      await next.close();
      throw e;
    }
    if (this.closed) {
      // Stopped while the new workers started: the classifier drained and closed stays the last one.
      await next.close();
      return;
    }
    const old = this.classifier;
    if (this.labelBy !== undefined) next.shutDownAt(this.labelBy); // stopping meanwhile: the new one too
    this.classifier = next;
    // Its last batches still count, while it drains and after: the stats' totals never go back.
    this.retiring.add(old);
    await old.close();
    this.retiring.delete(old);
    this.retired.classified += old.classified;
    this.retired.busyMs += old.busyMs;
    this.retired.cpuMs += old.cpuMs;
  }

  /** Flows labelled and the workers' time on batches since the start, over every reload's classifier. */
  private inferTotals(): { classified: number; busyMs: number; cpuMs: number } {
    let { classified, busyMs, cpuMs } = this.retired;
    for (const c of [...this.retiring, this.classifier]) {
      classified += c.classified;
      busyMs += c.busyMs;
      cpuMs += c.cpuMs;
    }
    return { classified, busyMs, cpuMs };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.classifier.close();
    await this.outbox.drain();
  }

  /**
   * Flows labelled and records published per second over the interval since the previous
   * stats() (publish.stats_interval on the stats topic), not since the start: a daemon that stops
   * labelling after days of work shows 0 at once (found by review: the average hid it). Calls
   * less than half a second apart share the interval before.
   */
  private rates(classified: number): { infer: number; publish: number } {
    const m = this.rateMark;
    const now = performance.now();
    const seconds = (now - m.at) / 1000;
    if (seconds >= 0.5) {
      this.rateMark = {
        at: now, classified, published: this.published,
        infer: perSecond(classified - m.classified, seconds), publish: perSecond(this.published - m.published, seconds),
      };
    }
    return this.rateMark;
  }

  /** Counters for the stats topic and the end-of-run summary. */
  stats(source?: PacketSource): Record<string, unknown> {
    const m = this.meter.stats();
    const src = source?.stats();
    const uptime = (Date.now() - this.started) / 1000;
    const totals = this.inferTotals();
    const rates = this.rates(totals.classified);
    return {
      ts: new Date().toISOString(),
      sensor: this.d.sensorId,
      uptime_s: Math.round(uptime),
      capture: src ? { frames: src.frames, bytes: src.bytes, kernel_drops: src.kernelDrops ?? null, iface_drops: src.ifaceDrops ?? null, skipped: src.skipped } : null,
      packets: m.packets,
      skipped: m.skipped,
      flows: { active: m.flowsActive, created: m.flowsCreated, ended: m.flowsEnded, clock_jumps: m.clockJumps, clock_held: m.clockHeld },
      handshakes_unread: m.metaErrors,
      infer: {
        queue: this.classifier.backlog,
        classified: totals.classified,
        per_second: rates.infer,
        // The workers' time on batches since the start, summed over workers: its growth over an
        // interval, against interval x workers, is how busy inference is; near 1, it is the bottleneck.
        busy_ms: Math.round(totals.busyMs),
        unlabeled: { ...this.unlabeled },
      },
      // dropped: records that never reached the sink (its buffer's drops are in sink), found by review.
      publish: { queue: this.outbox.backlog, records: this.published, per_second: rates.publish, dropped: { ...this.outbox.dropped }, sink: this.d.sink.stats() },
      errors: this.d.t.counters.snapshot(),
    };
  }
}

/**
 * A rate with two decimals: whole numbers showed 0 for a sensor labelling a flow every few
 * seconds, which read as the stalled sensor the rate is there to reveal (found by review).
 */
export function perSecond(n: number, seconds: number): number {
  return Math.round((n / seconds) * 100) / 100;
}
