/**
 * The agent's publish latency (issue: the agent): from a flow's end to its MQTT message at a
 * subscriber (p50, p99), at a steady rate, through the real Mosquitto on 127.0.0.1:1883: the
 * classifier with both models, the outbox and the MQTT sink with its disk buffer, as `run` wires
 * them, fed records at the rate asked; a subscriber in its own process (lat-subscriber.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { defaultConfig } from '../agent/config.js';
import { createTelemetry } from '../agent/events.js';
import type { FlowRecord } from '../agent/features/record.js';
import { FEATURE_NAMES } from '../agent/features/registry.js';
import { Classifier } from '../agent/infer/classifier.js';
import { inferWorkers } from '../agent/infer/config.js';
import { Outbox } from '../agent/pipeline/outbox.js';
import { toPublishRecord } from '../agent/pipeline/record.js';
import { createSink } from '../agent/publish/index.js';
import { modelsFor } from '../agent/service.js';

/**
 * How the collector subscribes: its QoS, and the Receive Maximum it asks for (0: MQTT 3.1.1,
 * which cannot ask, so the broker applies its own window: Mosquitto's max_inflight_messages, 20).
 */
export interface Collector { qos: 0 | 1; receiveMaximum: number }

/** A collector sized for the rate: QoS 1 over MQTT 5 with 100 messages in flight (10 ms at 10,000/s). */
export const SIZED_COLLECTOR: Collector = { qos: 1, receiveMaximum: 100 };

/** Starts bench/lat-subscriber.js and waits until it is subscribed. */
async function subscriber(url: string, topic: string, c: Collector): Promise<{ finish(): Promise<Array<[number, number]>> }> {
  const args = [new URL('./lat-subscriber.js', import.meta.url).pathname, url, topic, String(c.qos), String(c.receiveMaximum)];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`latency subscriber exited (${code})`)));
    const poll = setInterval(() => {
      if (out.startsWith('ready\n')) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });
  return {
    async finish() {
      // Give the last messages time to arrive, then ask for the arrivals.
      await new Promise((r) => setTimeout(r, 1000));
      const ended = once(child, 'exit');
      child.stdin.end();
      await ended;
      return JSON.parse(out.slice('ready\n'.length).trim()) as Array<[number, number]>;
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function latency(rate: number, seconds: number, cfg = defaultConfig(), collector = SIZED_COLLECTOR): Promise<{ p50: number; p99: number; n: number; lost: number; unacked: number }> {
  const models = await modelsFor(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'eta-bench-lat-'));
  const t = createTelemetry();
  const prefix = `eta-bench-${process.pid}`;
  const sink = await createSink({ ...cfg.publish, sink: 'mqtt', topic_prefix: prefix, sensor_id: 'bench', mqtt: { ...cfg.publish.mqtt, url: 'mqtt://127.0.0.1:1883' }, buffer: { ...cfg.publish.buffer, dir } }, t);
  await sink.open();
  const sub = await subscriber('mqtt://127.0.0.1:1883', `${prefix}/bench/flows`, collector);
  const sent = new Map<number, number>();
  const now = (): number => performance.timeOrigin + performance.now(); // comparable across processes
  // ETA_BENCH_STAGES=1: also report when each flow left inference (classification vs publishing).
  const stage = process.env['ETA_BENCH_STAGES'] === '1' ? new Map<number, number>() : undefined;
  const outbox = new Outbox(sink, t, 100_000, 'shed');
  const c = new Classifier<FlowRecord>(models, FEATURE_NAMES, {
    workers: inferWorkers(cfg.infer.workers), batchSize: cfg.infer.batch_size, batchTimeoutMs: cfg.infer.batch_timeout_ms,
    maxQueue: cfg.infer.max_queue, maxWaitMs: cfg.infer.max_wait_ms, mode: 'shed',
  }, t, (rec, res) => {
    stage?.set(rec.srcPort + rec.dstPort * 65536, now());
    outbox.push(toPublishRecord(rec, res, 'bench'));
  });
  // Warm up the workers (onnxruntime sessions) before measuring.
  const features = new Float64Array(FEATURE_NAMES.length).fill(3);
  const mk = (id: number): FlowRecord => ({
    srcIp: '10.0.0.1', srcPort: id % 65536, dstIp: '10.0.0.2', dstPort: Math.floor(id / 65536), proto: 6, vlan: 0,
    firstTs: 1.7e15, lastTs: 1.7e15, endReason: 'idle', meta: null, features,
  });
  for (let i = 0; i < 512; i++) c.submit(mk(10_000_000 + i));
  await c.drain();
  await new Promise((r) => setTimeout(r, 500));
  sent.clear();
  // A steady load: the first second at the same rate warms the whole path (JIT, connections, the
  // subscriber) and is not counted; without it p99 measured the first half second's start-up.
  const warm = rate;
  const total = warm + rate * seconds;
  const tick = 1; // ms: the timer catches up with the flows due since its last turn
  let id = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (id < due) {
        // The flow ended when it was due, not when this timer got to it: a stall of the event
        // loop (results, outbox, sink) counts in the latency of every flow due during it (found by
        // review: the submit time left such stalls out).
        sent.set(id, performance.timeOrigin + start + (id * 1000) / rate);
        c.submit(mk(id));
        id++;
      }
      if (id >= total) {
        clearInterval(timer);
        resolve();
      }
    }, tick);
  });
  await c.drain();
  await outbox.drain();
  await sink.close(10_000, { untilDelivered: true });
  // Records the broker never acknowledged: the agent's share of what the subscriber misses. The
  // rest of a loss is the broker's, which drops a subscriber's messages beyond max_queued_messages.
  const { accepted, delivered } = sink.stats();
  await c.close();
  const arrivals = await sub.finish();
  rmSync(dir, { recursive: true, force: true });
  for (let i = 0; i < warm; i++) sent.delete(i);
  const lat: number[] = [];
  const classify: number[] = [];
  const publish: number[] = [];
  const seen = new Set<number>();
  for (const [fid, at] of arrivals) {
    const t0 = sent.get(fid);
    if (t0 === undefined || seen.has(fid)) continue; // warm-up, or a duplicate (at least once)
    seen.add(fid);
    lat.push(at - t0);
    const t1 = stage?.get(fid);
    if (t1 !== undefined) {
      classify.push(t1 - t0);
      publish.push(at - t1);
    }
  }
  for (const a of [lat, classify, publish]) a.sort((x, y) => x - y);
  if (stage) {
    process.stderr.write(`classify p50 ${percentile(classify, 50).toFixed(1)} p99 ${percentile(classify, 99).toFixed(1)}; `
      + `publish p50 ${percentile(publish, 50).toFixed(1)} p99 ${percentile(publish, 99).toFixed(1)} ms\n`);
  }
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), n: lat.length, lost: sent.size - seen.size, unacked: accepted - delivered };
}
