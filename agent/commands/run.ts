/**
 * `eta-sensor run`: the daemon. Captures live, classifies every flow,
 * publishes. SIGHUP re-reads the configuration and the models without losing
 * flows; SIGTERM (or SIGINT) drains in order within service.shutdown_timeout:
 * stop capture, end every flow, finish inference, publish, disconnect.
 */
import { takeEarlyHup } from '../lib/early-hup.js';
import { notifySystemd, reloadingState } from '../lib/sd-notify.js';
import { LiveSource } from '../capture/live-source.js';
import { loadConfig, type AgentConfig } from '../config.js';
import { createLogger, createTelemetry, type Telemetry } from '../events.js';
import { ConfigError, describeError, OpenInterrupted } from '../errors.js';
import { inferWorkers } from '../infer/config.js';
import { Pipeline } from '../pipeline.js';
import { createSink, startStatsTimer, type Sink } from '../publish/index.js';
import { logModels, modelsFor, sensorIdOf } from '../service.js';
import { startupIssues } from '../startup-check.js';
import { optString, optStrings, type Command, type CommandIO, type ParsedArgs } from './command.js';

async function reload(path: string | undefined, sets: string[], env: NodeJS.ProcessEnv, current: AgentConfig, pipeline: Pipeline, sink: Sink, t: Telemetry): Promise<void> {
  // First, whatever the configuration says: logrotate's postrotate asks for it (README).
  sink.reopen?.();
  try {
    const cfg = await loadConfig(path, { sets, env });
    // What `run` would refuse at its next start is refused now, while the old configuration still
    // runs: the models are opened by swapModels' workers below.
    const issues = await startupIssues(cfg, { models: false, warn: (m) => t.log.warn(m) });
    if (issues.length > 0) throw new ConfigError(issues, path);
    const models = await modelsFor(cfg, undefined, undefined, t.log);
    await pipeline.swapModels(models);
    logModels(t, models);
    // Only the models and their thresholds are swapped in a running pipeline; every other change is
    // named, so the log does not say "reloaded" over settings still in force from the start.
    const kept = (c: AgentConfig, k: keyof AgentConfig): string =>
      JSON.stringify(k === 'infer' ? { ...c.infer, app: null, attribution: null } : c[k]);
    const restart = (Object.keys(cfg) as Array<keyof AgentConfig>).filter((k) => kept(cfg, k) !== kept(current, k));
    if (restart.length) t.log.warn({ sections: restart }, 'reloaded models; changes to these sections take effect at the next restart');
    else t.log.info('reloaded configuration and models');
  } catch (e) {
    // A bad new configuration must not take a running sensor down: keep the old one.
    t.log.error({ err: describeError(e) }, 'reload failed; still running with the previous configuration and models');
  }
}

/** sd_notify: a failure is worth a warning (systemd then times the start out and says so). */
function tellSystemd(state: string, env: NodeJS.ProcessEnv, t: Telemetry): void {
  const why = notifySystemd(state, env);
  if (why !== undefined) t.log.warn({ state: state.split('\n')[0], err: why }, 'cannot notify systemd (NOTIFY_SOCKET)');
}

export const command: Command = {
  name: 'run',
  summary: 'capture live, classify every flow and publish the labels (the daemon)',
  usage: 'eta-sensor run [-c FILE] [--set KEY=VALUE]',
  description: `
Captures on the configured interfaces, assembles flows, classifies each
ended flow with both models on a worker pool and publishes the records
(MQTT with an on-disk buffer, or stdout/file). Without -c it runs on the
built-in defaults (config/agent.example.yaml shows them). Logs are JSON lines
on standard output (journald collects them), or on standard error when the
records themselves go to standard output (publish.sink: stdout). SIGHUP reloads the
models and their thresholds (other changes are named in the log and need a
restart); SIGTERM drains and exits. See systemd/eta-sensor.service and the README for
running it as a service.

Examples:
  eta-sensor run -c /etc/eta-sensor/agent.yaml
  eta-sensor run --set capture.interfaces=lo --set publish.sink=stdout`,
  positionals: [0, 0],
  options: {
    config: { type: 'string', short: 'c', arg: 'FILE', doc: 'YAML configuration (default: built-in defaults)' },
    set: { type: 'string', multiple: true, arg: 'KEY=VALUE', doc: 'override one option' },
  },
  async run(args, io) {
    // A reload asked for while starting (systemctl reload right after start) is done once started;
    // without a handler, SIGHUP's default action would end the process, and systemd would not restart it.
    let hupWhileStarting = false;
    const onEarlyHup = (): void => void (hupWhileStarting = true);
    process.on('SIGHUP', onEarlyHup);
    // And one that came while this module loaded, caught by the entry point (lib/early-hup.ts).
    if (takeEarlyHup()) hupWhileStarting = true;
    try {
      return await runDaemon(args, io, () => {
        process.off('SIGHUP', onEarlyHup);
        return hupWhileStarting;
      });
    } finally {
      process.off('SIGHUP', onEarlyHup);
    }
  },
};

/** `run` proper; `started()` says the daemon is up and whether a reload was asked for before. */
async function runDaemon(args: ParsedArgs, io: CommandIO, started: () => boolean): Promise<number> {
  const path = optString(args, 'config');
  const sets = optStrings(args, 'set');
  const cfg = await loadConfig(path, { sets, env: io.env });
  // Records on stdout and logs on stdout would mix: with the stdout sink, logs go to stderr.
  const t = createTelemetry(createLogger({ level: cfg.log.level, destination: cfg.publish.sink === 'stdout' ? 'stderr' : 'stdout' }));
  const sensorId = sensorIdOf(cfg);
  try {
    return await runWith(cfg, path, sets, io, started, t, sensorId);
  } catch (e) {
    // Said in the log too, as JSON: a collector reading the daemon's log lines saw nothing of why
    // it stopped, only the two text lines on standard error (found by review).
    // A stop asked while the output waited for its reader is no error: said as any stop is.
    if (e instanceof OpenInterrupted) t.log.info({ reason: e.message }, 'eta-sensor stopped');
    else t.log.fatal({ err: describeError(e) }, 'eta-sensor stopped on an error');
    throw e;
  }
}

async function runWith(cfg: AgentConfig, path: string | undefined, sets: string[], io: CommandIO, started: () => boolean, t: Telemetry, sensorId: string): Promise<number> {
  const models = await modelsFor(cfg, undefined, undefined, t.log);
  const source = new LiveSource({
    interfaces: cfg.capture.interfaces, filter: cfg.capture.filter, snaplen: cfg.capture.snaplen,
    promiscuous: cfg.capture.promiscuous, bufferSize: cfg.capture.buffer_size,
    // An interface going down or away stops only its own capture; it is retried until it is back.
    onEvent: (e) => {
      // Every outage is logged (not only the 1st, 10th, 100th... as data-path reports are): they are
      // rare, and an operator matches each with its "resumed" line.
      if (e.kind === 'stopped') {
        t.counters.inc('capture.interface_stopped');
        t.log.error({ stage: 'capture', reason: 'interface_stopped', count: t.counters.get('capture.interface_stopped'), iface: e.iface, error: e.message,
          effect: 'retried every 5 s' }, `capture: ${e.iface} stopped`);
      } else if (e.kind === 'retry_failed') {
        t.counters.inc('capture.interface_retry_failed');
        t.log.error({ stage: 'capture', reason: 'interface_retry_failed', iface: e.iface, error: e.message, effect: 'retried every 5 s' }, `capture: ${e.iface} cannot be reopened`);
      } else {
        t.log.warn({ stage: 'capture', iface: e.iface }, `capture: ${e.iface} resumed`);
      }
    },
  });
  // The workers open the models first, then the capture opens, then the sink: the status topic
  // says "online" only once flows can be labelled. Frames read before the pipeline reads them
  // (while the sink opens) are counted as skipped (before_start), never dropped unsaid.
  let sink: Sink | undefined;
  let pipeline: Pipeline | undefined;
  try {
    sink = await createSink(cfg.publish, t);
    pipeline = new Pipeline({ cfg, t, sink, models, sensorId, mode: 'live' });
    await pipeline.ready;
    source.open();
    for (const w of source.warnings) t.log.warn(w);
    await sink.open(io.signal);
  } catch (e) {
    // The capture may be open (its socket and timers keep the process alive), and so are the
    // workers: close both, or the error would leave a process that neither works nor exits,
    // which systemd would never restart. Nothing was published.
    source.stop();
    await pipeline?.close();
    throw e;
  }
  logModels(t, models);
  t.log.info({ sensor: sensorId, interfaces: cfg.capture.interfaces, sink: cfg.publish.sink, workers: inferWorkers(cfg.infer.workers) }, 'eta-sensor running');
  const stopStats = startStatsTimer(sink, cfg.publish.stats_interval, () => pipeline.stats(source), t);
  // One reload at a time, in the order asked: opening models takes the workers a while, and two
  // reloads running at once could finish out of order and leave the older configuration in force.
  // Signals that arrive while one waits merge into it (it reads the files as they are then).
  let reloading: Promise<void> = Promise.resolve();
  let queued = false;
  let stopping = false;
  const onHup = (): void => {
    if (queued || stopping || io.signal.aborted) return;
    queued = true;
    reloading = reloading.then(() => {
      queued = false;
      // A stop asked meanwhile (SIGTERM right after SIGHUP) wins: no workers started to be closed at once.
      if (stopping || io.signal.aborted) return undefined;
      tellSystemd(reloadingState(), io.env, t);
      return reload(path, sets, io.env, cfg, pipeline, sink, t).finally(() => tellSystemd('READY=1', io.env, t));
    });
  };
  process.on('SIGHUP', onHup);
  if (started()) onHup();
  tellSystemd('READY=1\nSTATUS=running', io.env, t);
  // The stop's time counts from the signal (found by review: it counted from after every open
  // flow had been ended and labelled, 18 s for 600,000 flows with shutdown_timeout 2). Half of
  // it for labels: flows still waiting then are published unlabeled ("shutdown"). The last
  // part (up to a second) is the sink's, to deliver and say "offline".
  const budget = cfg.service.shutdown_timeout * 1000;
  let deadline = Infinity;
  const onStop = (): void => {
    if (deadline !== Infinity) return; // a signal after the capture ended by itself: the stop is under way
    tellSystemd('STOPPING=1', io.env, t);
    deadline = Date.now() + budget;
    pipeline.shutDownAt(deadline - budget / 2);
  };
  if (io.signal.aborted) onStop();
  else io.signal.addEventListener('abort', onStop, { once: true });
  const until = (at: number): Promise<'timeout'> => new Promise((r) => setTimeout(() => r('timeout'), Math.max(0, at - Date.now())).unref());
  try {
    await pipeline.runPackets(source, io.signal);
    if (deadline === Infinity) onStop(); // the capture ended by itself
    // A reload under way finishes before the drain (a queued one is skipped): the classifier
    // drained and closed is the one in force. Within the stop's time: new workers that never open
    // their models must not hold the stop.
    stopping = true;
    const sinkTime = Math.min(1000, budget / 4);
    await Promise.race([reloading, until(deadline - sinkTime)]);
    t.log.info('stopping: capture stopped, all flows ended');
    if ((await Promise.race([pipeline.drain().then(() => 'done' as const), until(deadline - sinkTime)])) === 'timeout') {
      // Only MQTT has a disk buffer (found by review: stdout's stop said so too).
      const kept = sink.name === 'mqtt' ? '; those in the disk buffer are kept' : '; those not written are counted as dropped';
      t.log.warn(`the flows did not all reach the sink within the shutdown timeout${kept}`);
    }
    stopStats();
    await Promise.race([pipeline.close().catch(() => undefined), until(deadline - sinkTime)]);
    // Out of time, inference may still answer: those records are counted, the closed sink not written.
    pipeline.sealOutbox();
    // Published by close() once the buffered records are delivered (skipped if the broker is away).
    await sink.close(Math.max(250, deadline - Date.now()), { finalStats: () => pipeline.stats(source) });
    pipeline.sinkClosed();
    t.log.info(pipeline.stats(source), 'eta-sensor stopped');
  } finally {
    process.off('SIGHUP', onHup);
  }
  return 0;
}
