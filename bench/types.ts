/**
 * The shape every benchmark section returns to bench/run.ts, which prints
 * them as tables: our figure, the reference tool's figure measured in the same
 * run, and the ratio (higher is better for us when `higherIsBetter`).
 */
export interface BenchRow {
  /** What was measured, e.g. "extract packets/s (1.0M packets)". */
  name: string;
  value: number;
  unit: string;
  /** The reference measured in the same run (ndpiReader, scikit-learn, ...), when there is one. */
  reference?: { name: string; value: number };
  /** true when a larger value is better (throughput), false for times and memory. */
  higherIsBetter?: boolean;
  /** The target the issue sets, e.g. "ratio >= 1.0" or "<= 1024 B/flow". */
  target?: string;
  /** Whether the target is met (undefined when there is no target). */
  met?: boolean;
}

export interface BenchSection {
  title: string;
  rows: BenchRow[];
  /** Free-form lines printed under the table (conditions, skipped references and why). */
  notes: string[];
}

export interface BenchContext {
  /** Fewer iterations / smaller inputs (for a smoke run in CI-like conditions). */
  quick: boolean;
  /** Directory for generated inputs (not committed). */
  outDir: string;
}

export type BenchFn = (ctx: BenchContext) => Promise<BenchSection>;

/** What bench reads of `replay --summary json`. */
export interface ReplaySummary {
  unlabeled: Record<string, number>; main_thread_cpu_ms: number | null; main_thread_wait_ms: number | null;
  /** The whole process's CPU time (all threads, start-up included). */
  cpuSeconds: number;
  inference: { input_waited_ms: number; waiting_at_input_end: number; drained_ms: number; workers_busy: number | null; worker_cpu_ms: number | null; waiting_at_start: number; workers_started_ms: number | null };
}
