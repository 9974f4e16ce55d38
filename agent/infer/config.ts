/** The `infer` section: the two models and the worker pool that runs them. */
import { cpuBudget } from '../lib/cpu-budget.js';
import { int, num, optStr, section } from '../lib/schema.js';

function modelSection(what: string, path: string) {
  return section(`The ${what} model.`, {
    path: optStr({
      default: path,
      doc: `ONNX model file (relative paths are from the package directory). null or "" disables the ${what} model.`,
    }),
    threshold: num({
      default: 0.5, min: 0, max: 1,
      doc: 'Confidence below which the label is published as "unknown" (the top 3 classes are still given).',
    }),
  });
}

export const inferSection = section('Inference: a pool of worker threads, each running both models on batches of flows.', {
  app: modelSection('application identification', 'models/app.onnx'),
  attribution: modelSection('attribution (usage type)', 'models/attribution.onnx'),
  workers: int({
    default: 0, min: 0, max: 64,
    doc: 'Worker threads, each holding one onnxruntime session per model. 0: one per core beyond the first (within a cgroup CPU quota), at least one '
      + '(the flow meter and publishing keep the main thread busy: on 2 cores a replay ran 5-10% faster with 1 worker than with 2).',
  }),
  nice: int({
    default: 10, min: 0, max: 19,
    doc: 'How far below the flow meter\'s the workers\' CPU priority is, in nice steps (Linux). When the cores are short the flow meter goes first: '
      + 'packets it misses are lost, flows waiting for inference are not (max_queue, max_wait_ms). 0: the workers compete as equals.',
  }),
  batch_size: int({
    default: 1024, min: 1, max: 65536,
    doc: 'A batch is sent to a worker when it holds this many flows (onnxruntime takes a sixth less time per flow in batches of 1024 than of 256)...',
  }),
  batch_timeout_ms: num({
    default: 2, min: 0, max: 10000,
    doc: '...or when its first flow has waited this long, whichever comes first.',
  }),
  max_queue: int({
    default: 100_000, min: 1,
    doc: 'Flows waiting for inference, at most. Live capture beyond it publishes flows unlabeled (reason "overload", counted); replay waits instead. '
      + 'The same bound holds the records waiting for the sink: beyond it live capture drops the newest (stats: publish.dropped.backlog_full).',
  }),
  max_wait_ms: num({
    default: 2000, min: 1,
    doc: 'Live capture: a flow waiting longer than this for a worker is published unlabeled (reason "overload", counted).',
  }),
});

/**
 * The worker threads `infer.workers` asks for. 0: one per core beyond the first, at least one and
 * at most 64, counting the cores a CPU quota leaves (systemd CPUQuota=, container limits).
 */
export function inferWorkers(configured: number, cores = cpuBudget()): number {
  return configured > 0 ? configured : Math.min(64, Math.max(1, cores - 1));
}
