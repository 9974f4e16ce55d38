/** `eta-sensor replay`: the whole pipeline on a capture or a feature CSV, as fast as it can go. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, loadConfig, type AgentConfig } from '../config.js';
import { StartupError, usageError } from '../errors.js';
import { createLogger, createTelemetry } from '../events.js';
import { inferWorkers } from '../infer/config.js';
import { closeInferencePool, startInferencePool, type InferencePool } from '../infer/pool.js';
import { DAMAGED_CAPTURE_FIX, inputShortfalls } from './summary.js';
import { cannotWrite } from '../lib/fs-problem.js';
import { repeatedNamesText } from '../lib/csv-header.js';
import { refuseInputAsOutput } from '../lib/output-file.js';
import { compact, Progress } from '../lib/progress.js';
import type { Pipeline } from '../pipeline.js';
import type { PublishConfig } from '../publish/config.js';
import type { Sink } from '../publish/types.js';
import { csvLayout, logModels, modelsFor, sensorIdOf } from '../service.js';
import { threadTimes, type ThreadTimes } from '../lib/thread-cpu.js';
import { optBool, optOutput, optString, optStrings, type Command } from './command.js';

/**
 * The publish settings of a replay: -o and --mqtt choose the sink; otherwise the configuration's
 * (stdout unless -c or --set publish.sink says otherwise). `tempBuffer` is set when --mqtt got a
 * private buffer directory because none was configured (the daemon's default is not for a replay).
 */
function sinkConfig(cfg: AgentConfig, out: string | undefined, mqtt: string | undefined, bufferConfigured: boolean): { publish: PublishConfig; tempBuffer?: string } {
  const p = cfg.publish;
  if (out) return { publish: { ...p, sink: 'file', file: { path: out } } };
  // MQTT from --mqtt or from the configuration (-c, --set publish.sink=mqtt): without a
  // publish.buffer.dir of its own, a replay buffers in a private directory, never in the daemon's
  // (found by review: --set publish.sink=mqtt wrote into /var/lib/eta-sensor/buffer).
  if (!mqtt && p.sink !== 'mqtt') return { publish: p };
  const tempBuffer = bufferConfigured ? undefined : mkdtempSync(join(tmpdir(), 'eta-replay-buffer-'));
  const url = mqtt ?? p.mqtt.url;
  return { publish: { ...p, sink: 'mqtt', mqtt: { ...p.mqtt, url }, buffer: { ...p.buffer, dir: tempBuffer ?? p.buffer.dir } }, ...(tempBuffer ? { tempBuffer } : {}) };
}

export const command: Command = {
  name: 'replay',
  summary: 'run the same pipeline on a pcap, pcapng or feature CSV file',
  usage: 'eta-sensor replay <capture.pcap|capture.pcapng|flows.csv> [-c FILE] [-o out.jsonl] [--mqtt URL]',
  description: `
Runs the agent's pipeline on a file instead of an interface: a capture goes
through the flow meter, a CSV is taken as feature rows (from \`extract\`, or any
CSV with the columns the models were trained on). Every flow is classified by
both models and published once: JSON lines on standard output by default,
to a file with -o, to a broker with --mqtt (or as the configuration's
publish section says, when -c is given). Replay waits for inference rather
than dropping flows, so every flow gets its labels. A capture can also come
on standard input (-); a CSV is read from a file or a named pipe.

Examples:
  eta-sensor replay samples/lo-sessions.pcap
  eta-sensor replay trace.pcapng -o labels.jsonl
  eta-sensor replay flows.csv --mqtt mqtt://collector:1883`,
  positionals: [1, 1],
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', doc: 'YAML configuration (models, flows, publish); default: built-in' },
    output: { type: 'string', short: 'o', arg: 'FILE', doc: 'append JSON lines to FILE instead of standard output (-: standard output)' },
    mqtt: { type: 'string', arg: 'URL', doc: 'publish to this broker (mqtt:// or mqtts://) through the disk buffer' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', doc: 'override one option, e.g. infer.workers=1' },
    'bad-rows': { type: 'string', arg: 'skip|fail', doc: 'CSV input: skip rows with a bad cell (default, counted) or stop at the first' },
    wait: { type: 'string', arg: 'SECONDS', doc: 'how long to wait, once the input is read, for the broker (MQTT) or standard output to take the last records (default 60); before, a reader that stops reading pauses the replay, as in any pipe' },
    summary: { type: 'string', arg: 'text|json|none', doc: 'end-of-run summary on standard error (default: text; json: one object, with how inference kept up)' },
    quiet: { type: 'boolean', short: 'q', doc: 'no progress and no summary on standard error (--summary none)' },
  },
  async run(args, io) {
    const input = args.positionals[0]!;
    const badRows = optString(args, 'bad-rows') ?? 'skip';
    if (badRows !== 'skip' && badRows !== 'fail') throw usageError(`--bad-rows must be skip or fail (got "${badRows}")`, 'replay');
    const badRowsMode: 'skip' | 'fail' = badRows;
    const waitArg = optString(args, 'wait') ?? '60';
    const waitS = Number(waitArg);
    if (!/^\d+(\.\d+)?$/.test(waitArg)) throw usageError(`--wait must be a number of seconds, 0 or more (got "${waitArg}")`, 'replay');
    const configPath = optString(args, 'config');
    const output = optOutput(args);
    const sets = optStrings(args, 'set');
    const mqtt = optString(args, 'mqtt');
    if (mqtt !== undefined && output !== undefined) throw usageError('-o and --mqtt name two destinations: give one', 'replay');
    if (mqtt === '') throw usageError('--mqtt needs a broker URL, e.g. mqtt://localhost:1883', 'replay');
    // --mqtt is publish.mqtt.url, checked by the same schema (mqtt:// or mqtts://, a host, no password).
    const cfg = await loadConfig(configPath, { sets: mqtt === undefined ? sets : [...sets, `publish.mqtt.url=${mqtt}`], env: io.env });
    const summary = optBool(args, 'quiet') ? 'none' : optString(args, 'summary') ?? 'text';
    if (!['text', 'json', 'none'].includes(summary)) throw usageError(`--summary must be text, json or none (got "${summary}")`, 'replay');
    const quiet = summary !== 'text';
    const t = createTelemetry(createLogger({ level: cfg.log.level === 'info' ? 'warn' : cfg.log.level, destination: 'stderr' }));
    refuseInputAsOutput(input, output);
    const isCsv = /\.csv$/i.test(input);
    // csv-parse loads only for a CSV input. The CSV is opened once, header read (it may be a FIFO).
    const csv = isCsv ? await (await import('../capture/csv-rows.js')).CsvInput.open(input, io.signal) : undefined;
    const header = csv?.header;
    // The workers, until the pipeline adopts them: destroyed if startup fails before (they would keep the process alive).
    let pool: InferencePool | undefined;
    // Closed at the end whatever happens: a FIFO still open would keep the process waiting on it.
    try {
      const models = await modelsFor(cfg, header, header ? input : 'the flow meter', t.log);
      logModels(t, models);
      const repeated = csv?.repeatedNames(models.flatMap((m) => m.meta.features)) ?? [];
      if (repeated.length) t.log.warn({ columns: repeated }, repeatedNamesText(repeated));
      // The workers start opening the models now, and the modules of the flow meter and the sinks
      // load meanwhile (infer/pool.ts says what that saves).
      if (models.length > 0) pool = startInferencePool(models, inferWorkers(cfg.infer.workers), t, cfg.infer.nice);
      const [{ FileSource }, { Pipeline }, { createSink }, { StreamSink, FileSink }] = await Promise.all([
        import('../capture/file-source.js'), import('../pipeline.js'), import('../publish/index.js'), import('../publish/local-sinks.js'),
      ]);
      // A capture is opened now: a missing one is reported before -o's file is created or emptied.
      const source = header ? undefined : new FileSource(input);
      await source?.open();
      // The daemon's buffer folder (the default) is not for a replay: a private one is used unless
      // publish.buffer.dir is set (--set, or a configuration file that names another folder).
      const bufferConfigured = sets.some((s) => s.startsWith('publish.buffer.dir=')) || cfg.publish.buffer.dir !== configSchema.shape.publish.shape.buffer.shape.dir.default;
      const { publish, tempBuffer } = sinkConfig(cfg, output, mqtt, bufferConfigured);
      const dropTempBuffer = (): void => {
        if (tempBuffer) rmSync(tempBuffer, { recursive: true, force: true });
      };
      let sink: Sink;
      let pipeline: Pipeline;
      try {
        sink = await createSink(publish, t);
        pipeline = new Pipeline({
          cfg, t, sink, models, sensorId: sensorIdOf(cfg), mode: 'replay', ...(header ? { layout: csvLayout(models, header) } : {}), ...(pool ? { pool } : {}),
        });
        pool = undefined; // the pipeline's now: closed with it
      } catch (e) {
        // Refused publish settings (a TLS option with --mqtt mqtt://): no private buffer is left behind. Found by review.
        dropTempBuffer();
        throw e;
      }
      // A reader that went away (`| head`) ends the replay as Ctrl-C would, but quietly and with status 0.
      const stop = new AbortController();
      const signal = AbortSignal.any([io.signal, stop.signal]);
      if (sink instanceof StreamSink || sink instanceof FileSink) sink.onReaderGone = () => stop.abort();
      if (sink instanceof StreamSink) {
        // Stopped (Ctrl-C) while standard output does not read: give it --wait seconds, then stop waiting.
        io.signal.addEventListener('abort', () => setTimeout(() => sink.abandon(), waitS * 1000).unref(), { once: true });
      }
      let code: number;
      try {
        code = await replayWith();
      } finally {
        // A private buffer directory goes once nothing waits in it (also when the run failed).
        if (sink.stats().buffered_records === 0) dropTempBuffer();
      }
      // Standard output gave up on (it did not read): its queued bytes would hold the process until
      // its reader takes them, maybe never. They are counted lost and the summary said so: exit now.
      if (sink instanceof StreamSink && sink.wasAbandoned) process.exit(code);
      return code;

      async function replayWith(): Promise<number> {
        let sinkOpened = false;
        const openSink = async (): Promise<void> => {
          try {
            await sink.open(io.signal);
            sinkOpened = true;
          } catch (err) {
            // The file sink names publish.file.path, an option this user never wrote: speak of -o.
            if (output !== undefined && err instanceof StartupError) {
              throw err.cause === undefined ? new StartupError('E_INPUT', `cannot write ${output}: ${err.message}`, 'choose an output path in a writable directory', { cause: err })
                : cannotWrite(output, err.cause);
            }
            throw err;
          }
        };
        // The workers open the models while the flow meter starts on the input; the sink opens
        // once they have (a model onnxruntime refuses leaves -o's file as it was), and nothing
        // is published before. Without models, records are published at once: open it first.
        const opening = models.length === 0 ? openSink() : pipeline.ready.then(openSink);
        if (models.length === 0) await opening;
        else pipeline.holdUntil(opening);
        const started = Date.now();
        const startedAt = performance.now();
        const mainAtStart = threadTimes();
        let main: ThreadTimes | undefined;
        const progress = new Progress(io.stderr, summary !== 'none' && io.stderr.isTTY === true);
        let lag = { waitedMs: 0, waiting: 0 };
        let workersStart: { waiting: number; ms: number | null } = { waiting: 0, ms: null };
        let drainedMs = 0;
        let busyShare: number | null = null;
        let workerCpuMs: number | null = null;
        let failure: string | undefined;
        let cutShort = false; // the signal stopped the reading (one after the input's end stops nothing: found by review)
        try {
          if (header) {
            const r = await pipeline.runCsv(csv!, badRowsMode, signal);
            if (r.error) failure = `${input}: ${r.error}`;
            cutShort = r.stopped === true;
          } else if (source) {
            const end = await pipeline.runPackets(source, signal, () => {
              if (!progress.due()) return;
              const m = pipeline.meter.stats();
              progress.update(source.stats().progress, `${compact(m.frames)} packets, ${compact(m.flowsCreated)} flows`);
            });
            cutShort = end.reason === 'stopped';
            if (end.reason === 'error') failure = `${input}: ${end.message} (at byte offset ${end.offset}); the flows read before it were published; ${DAMAGED_CAPTURE_FIX}`;
          }
          const inputEnded = performance.now();
          lag = pipeline.inferenceLag();
          await pipeline.drain();
          // From the end of the input, or from the workers' start when the input ended first.
          // No flow reached inference (an empty input, or stopped early): then nothing waited for it.
          const after = pipeline.inferenceLag();
          const released = after.releasedAt;
          if (Number.isFinite(released)) workersStart = { waiting: after.atRelease, ms: Math.round(released - startedAt) };
          const now = performance.now();
          drainedMs = Number.isFinite(released) ? Math.max(0, now - Math.max(inputEnded, released)) : 0;
          // The share of the workers' time spent on batches, from their release to the last answer
          // (null when no batch ran: no flow, or no model).
          if (after.busyMs > 0 && Number.isFinite(released) && now > released) busyShare = after.busyMs / ((now - released) * after.workers);
          // CPU time, which the other threads' share of the cores does not inflate as it does wall
          // time: the workers' on their batches, and this thread's (flow meter, records, publishing).
          if (after.busyMs > 0 && Number.isFinite(after.cpuMs)) workerCpuMs = after.cpuMs;
          // And how long this thread was ready to run but had no core: the other threads' demand on them.
          const mainAtEnd = threadTimes();
          if (mainAtStart !== undefined && mainAtEnd !== undefined) main = { cpuMs: mainAtEnd.cpuMs - mainAtStart.cpuMs, waitMs: mainAtEnd.waitMs - mainAtStart.waitMs };
          await opening; // the model or sink error, if startup failed (then nothing was published)
        } finally {
          await pipeline.close();
          if (sinkOpened) {
            const waiting = sink.stats().buffered_records;
            if (waiting > 0 && !quiet) {
              // Where they are kept is said now: a second Ctrl-C ends the process before the end's message (found by review).
              io.stderr.write(`waiting up to ${waitS} s for the broker to take ${waiting} buffered records (kept in ${publish.buffer.dir} if not; Ctrl-C stops waiting)\n`);
            }
            // The last stats go out once the records are delivered: a short replay may end before
            // the first connection is up, and stats published then were skipped.
            // Ctrl-C ends the wait (it went on for --wait seconds: found by review); the records stay buffered.
            await sink.close(waitS * 1000, { untilDelivered: true, finalStats: () => pipeline.stats(), signal: io.signal });
          }
          progress.done();
        }
        if (stop.signal.aborted && !io.signal.aborted) return 0;
        const ss = sink.stats();
        const undelivered = ss.buffered_records;
        const lost = Object.entries(ss.dropped).filter(([, n]) => n > 0);
        const problems: string[] = failure ? [failure] : [];
        if (undelivered > 0) {
          // Kept, not lost: say where, and how a later run sends them.
          const dir = publish.buffer.dir;
          const why = io.signal.aborted ? 'the wait was stopped' : `the broker did not take them within ${waitS} s`;
          problems.push(`${undelivered} records were not delivered to ${publish.mqtt.url} (${why}); `
            + `they are kept in ${dir}, and \`eta-sensor replay <file> --mqtt ${publish.mqtt.url} --set publish.buffer.dir=${dir}\` `
            + '(or `run` with that publish.buffer.dir) sends them first');
        }
        if (lost.length > 0) problems.push(`${lost.reduce((a, [, n]) => a + n, 0)} records were lost (${lost.map(([k, n]) => `${k}: ${n}`).join(', ')}; the log says why)`);
        failure = problems.length > 0 ? problems.join('; ') : undefined;
        const st = pipeline.stats() as { packets: number; skipped: Record<string, number>; flows: { created: number }; publish: { records: number }; infer: { unlabeled: Record<string, number> } };
        // Frames the flow meter or the capture reader skipped, by reason, as extract says them: a capture of an
        // unsupported link type read as "0 flows from 0 packets", a success (found by review).
        const src = source?.stats();
        const skipped = Object.entries({ ...st.skipped, ...(src?.skipped ?? {}) }).filter(([, n]) => n > 0);
        if (!quiet && undelivered === 0 && lost.length === 0) {
          const secs = (Date.now() - started) / 1000;
          const bad = t.counters.get('replay.bad-row');
          const badIdentity = t.counters.get('replay.bad-identity');
          io.stderr.write(`${input}: ${st.publish.records.toLocaleString('en-US')} flows published in ${secs.toFixed(2)} s` +
            `${header ? '' : ` from ${st.packets.toLocaleString('en-US')} packets`}` +
            inputShortfalls(skipped, src) +
            `${bad ? (badRows === 'fail' ? '; stopped at a bad row' : `; ${bad} bad row${bad > 1 ? 's' : ''} skipped`) : ''}` +
            `${badIdentity ? `; ${badIdentity} unreadable identity cell${badIdentity > 1 ? 's' : ''} (address, port, protocol, VLAN, time or end reason) published as unknown, the log names the first` : ''}` +
            `${Object.keys(st.infer.unlabeled).length ? `; unlabeled: ${JSON.stringify(st.infer.unlabeled)}` : ''}` +
            // As extract says it: the count is of what was read before the signal (found by review).
            `${cutShort ? '; stopped before the end of the input (signal)' : ''}\n`);
        }
        if (summary === 'json') {
          const usage = process.resourceUsage();
          io.stderr.write(JSON.stringify({
            input, flows: st.publish.records, packets: header ? null : st.packets, skipped: header ? null : Object.fromEntries(skipped),
            bad_rows: t.counters.get('replay.bad-row'),
            bad_identity_cells: t.counters.get('replay.bad-identity'),
            unlabeled: st.infer.unlabeled, seconds: (Date.now() - started) / 1000,
            cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKiB: usage.maxRSS,
            main_thread_cpu_ms: main === undefined ? null : Math.round(main.cpuMs),
            main_thread_wait_ms: main === undefined || Number.isNaN(main.waitMs) ? null : Math.round(main.waitMs),
            // Inference kept up when the input never waited for it and the flows waiting when the input ended went quickly.
            inference: {
              input_waited_ms: Math.round(lag.waitedMs), waiting_at_input_end: lag.waiting, drained_ms: Math.round(drainedMs),
              // Flows the flow meter ended while the workers opened the models, and how long after the start they took their first batch.
              waiting_at_start: workersStart.waiting, workers_started_ms: workersStart.ms,
              workers_busy: busyShare === null ? null : Math.round(busyShare * 1000) / 1000,
              // To a tenth: a few flows' batch takes under half a millisecond, which rounded to 0.
              worker_cpu_ms: workerCpuMs === null ? null : Math.round(workerCpuMs * 10) / 10,
            },
            ...(failure ? { failure } : {}),
          }) + '\n');
        }
        if (failure) {
          // In JSON the failure is in the object, the one line a script reads.
          if (summary !== 'json') io.stderr.write(`eta-sensor replay: ${failure}\n`);
          return 1;
        }
        return cutShort ? 130 : 0;
      }
    } finally {
      csv?.close();
      // Caught: a failure here must not replace the error that ended startup.
      if (pool) await closeInferencePool(pool);
    }
  },
};
