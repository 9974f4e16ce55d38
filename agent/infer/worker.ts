/**
 * Inference worker (piscina): one onnxruntime session per model, created once
 * per thread, run on matrices transferred (not copied) from the main
 * thread. Sessions use one intra-op thread each: parallelism comes from the
 * pool, and two levels of threads would fight over the same cores.
 */
import './ort-quiet.js';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { labelWriterProblem, Labels } from './labels.js';
import { modelDamage } from './model-numbers.js';
import { lowerThreadPriority } from './priority.js';
import { detachEarly } from '../lib/detach-early.js';
import { threadCpuMs } from '../lib/thread-cpu.js';
import type { InferAnswer, InferTask, ProbeResult, WorkerInit } from './types.js';

detachEarly(); // every answer transfers its buffers back (lib/detach-early.ts)

const init = (workerData as WorkerInit | undefined) ?? { models: {}, nice: 0 };
/** Why infer.nice could not be applied, for probe(); undefined when it was (priority.ts). */
const priorityProblem = lowerThreadPriority(init.nice);

// Opened in parallel, each on its own, so that probe() can name the file onnxruntime refused.
const sessions: Record<string, Promise<ort.InferenceSession>> = {};
/** The labels' writer for the models in init's order, which is every task's (classifier.ts sends them so). */
const labels = new Labels(Object.entries(init.models).map(([kind, m]) => ({ kind, classes: m.classes, threshold: m.threshold })));
const labelKinds = Object.keys(init.models).join();
for (const [kind, { path }] of Object.entries(init.models)) {
  // logSeverityLevel 4 (fatal only): onnxruntime's own log lines are not JSON, and would land in
  // the journal between pino's; what it refuses reaches the log through probe() instead.
  sessions[kind] = ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 4 });
  sessions[kind].catch(() => undefined); // reported by probe() and by every task, not as an unhandled rejection
}
/**
 * What is damaged in each file's numbers (model-numbers.ts), for probe(). Read here, while
 * onnxruntime opens the sessions, and not on the main thread: the walk takes tens of ms.
 */
const damage: Record<string, string | undefined> = {};
for (const [kind, { path }] of Object.entries(init.models)) {
  try {
    damage[kind] = modelDamage(readFileSync(path));
  } catch {
    damage[kind] = undefined; // unreadable: onnxruntime's refusal names it
  }
}

/**
 * The startup check of the models, answered from the sessions this worker runs on: whether
 * onnxruntime opened each file, and its input and output names. The main thread does not open
 * them itself (that cost a replay a quarter of a second of its main thread, before any packet).
 */
export async function probe(): Promise<ProbeResult[]> {
  if (process.env['ETA_FAULT_WORKER_EXIT_PROBE'] === '1') process.exit(1); // fault injection: see faultInjection
  const labelsInJs = labelWriterProblem();
  return Promise.all(Object.entries(sessions).map(async ([kind, opening]): Promise<ProbeResult> => {
    try {
      const s = await opening;
      const damaged = damage[kind];
      return {
        kind, inputs: [...s.inputNames], outputs: [...s.outputNames],
        ...(labelsInJs === undefined ? {} : { labelsInJs }), ...(damaged === undefined ? {} : { damaged }),
        ...(priorityProblem === undefined ? {} : { priorityProblem }),
      };
    } catch (e) {
      return { kind, error: (e as Error).message };
    }
  }));
}

/**
 * Fault injection for the reliability tests (never set in production):
 * ETA_FAULT_WORKER_EXIT=<file>: if the file exists, delete it and end this worker thread (dies once);
 * ETA_FAULT_WORKER_EXIT_MARK=<x>: end the thread whenever a batch's first value is x (a batch
 * that kills every worker it reaches);
 * ETA_FAULT_WORKER_THROW=1: every task fails;
 * ETA_FAULT_WORKER_EXIT_PROBE=1: the thread ends when asked the startup probe (checked in probe());
 * ETA_FAULT_WORKER_STALL=1: no task is ever answered (a worker stuck in a batch; checked in inferNow()).
 */
function faultInjection(task: InferTask): void {
  const once = process.env['ETA_FAULT_WORKER_EXIT'];
  if (once && existsSync(once)) {
    unlinkSync(once);
    process.exit(1); // in a worker thread this ends only the thread
  }
  const mark = process.env['ETA_FAULT_WORKER_EXIT_MARK'];
  if (mark !== undefined && Object.values(task.inputs)[0]?.[0] === Number(mark)) process.exit(1);
  if (process.env['ETA_FAULT_WORKER_THROW'] === '1') throw new Error('injected inference failure');
}

/**
 * Answers with each row's labels as JSON (labels.ts), not the probabilities: the main thread
 * runs the flow meter too, and scanning up to 128 classes per flow there, then building and
 * serializing label objects, cost it more than the worker, whose core has time to spare. The
 * answer travels in the task's own buffers, sent back for reuse.
 */
export default function infer(task: InferTask): Promise<InferAnswer> {
  // Piscina hands this thread several batches at once (TASKS_PER_WORKER); run them strictly one
  // after another. onnxruntime-node's run() yields (setImmediate) before each model, so without
  // the chain the batches' models interleave and the first batch finishes later than it need.
  const run = previous.then(() => inferNow(task));
  previous = run.catch(() => undefined);
  return run;
}

let previous: Promise<unknown> = Promise.resolve();

/** float32 copies of the task's matrices, one per distinct matrix, kept between tasks (which run one at a time). */
const narrowScratch: Float32Array[] = [];

async function inferNow(task: InferTask): Promise<InferAnswer> {
  const started = performance.now();
  const cpuAtStart = threadCpuMs();
  faultInjection(task);
  if (process.env['ETA_FAULT_WORKER_STALL'] === '1') await new Promise(() => undefined);
  const kinds = Object.keys(task.inputs);
  // Models reading the same columns share one matrix (structured clone keeps that): narrow each once,
  // all before any answer is written over the first.
  const narrowed = new Map<Float64Array, Float32Array>();
  for (const matrix of Object.values(task.inputs)) {
    if (narrowed.has(matrix)) continue;
    const i = narrowed.size;
    if ((narrowScratch[i]?.length ?? 0) < matrix.length) narrowScratch[i] = new Float32Array(matrix.length);
    const input = narrowScratch[i]!.subarray(0, matrix.length);
    input.set(matrix);
    narrowed.set(matrix, input);
  }
  const answers: Float32Array[] = [];
  for (const kind of kinds) {
    const opening = sessions[kind];
    if (!opening) throw new Error(`no session for model "${kind}"`);
    const session = await opening;
    const input = narrowed.get(task.inputs[kind]!)!;
    const out = await session.run({ features: new ort.Tensor('float32', input, [task.rows, input.length / task.rows]) }, ['probabilities']);
    answers.push(out['probabilities']!.data as Float32Array);
  }
  // Written over the first matrix, which batch-inputs.ts made large enough: the row ends, then the text.
  const first = Object.values(task.inputs)[0]!;
  const ends = new Uint32Array(first.buffer, first.byteOffset, task.rows);
  const text = new Uint8Array(first.buffer, first.byteOffset + 4 * task.rows, first.buffer.byteLength - first.byteOffset - 4 * task.rows);
  if (kinds.join() !== labelKinds) throw new Error(`a task for models ${kinds.join()}, not this worker's ${labelKinds}`);
  const at = labels.write(answers, task.rows, text, ends);
  const buffers = [...new Set(Object.values(task.inputs).map((x) => x.buffer as ArrayBuffer))];
  const cpuAtEnd = cpuAtStart === undefined ? undefined : threadCpuMs();
  const cpuMs = cpuAtStart === undefined || cpuAtEnd === undefined ? undefined : cpuAtEnd - cpuAtStart;
  const answer: InferAnswer = { text: text.subarray(0, at), ends, busyMs: performance.now() - started, cpuMs, buffers };
  // Transferred, not copied: the main thread writes its next batches into them (batch-inputs.ts).
  return move({ [transferableSymbol]: buffers, [valueSymbol]: answer }) as unknown as InferAnswer;
}
