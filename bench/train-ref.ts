/**
 * Runs the reference learners (bench/train_ref.py: scikit-learn's random
 * forest, XGBoost) on a table and its folds, with Debian's /usr/bin/python3.
 * A missing interpreter or library is reported as a reason, never thrown.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Table } from '../scripts/models/tables.js';

/** Debian's interpreter, where python3-sklearn and python3-xgboost install. */
export const PYTHON = process.env['ETA_BENCH_PYTHON'] ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../bench/train_ref.py', import.meta.url));

export type RefName = 'sklearn_rf' | 'xgboost';

export type RefOutcome =
  | { readonly ok: true; readonly pred: Record<string, number[]>; readonly fitSeconds: number }
  | { readonly ok: false; readonly reason: string };

export interface RefSettings {
  readonly learners: readonly RefName[];
  readonly threads: number;
  readonly seed: number;
  readonly class_weight: 'none' | 'balanced';
  readonly rf_trees: number;
  readonly rf_min_samples_leaf: number;
  readonly xgb: { readonly rounds: number; readonly max_depth: number; readonly eta: number };
}

/** Features, class index and one fold column per repetition; float32 values written exactly. */
function writeTable(t: Table, folds: readonly Int32Array[], path: string): void {
  const F = t.featureNames.length;
  const lines = [[...t.featureNames, 'y', ...folds.map((_, i) => `fold_${i}`)].join(',')];
  for (let r = 0; r < t.nRows; r++) {
    const cells: Array<string | number> = [];
    for (let f = 0; f < F; f++) cells.push(t.x[f * t.nRows + r] as number);
    cells.push(t.y[r] as number, ...folds.map((fo) => fo[r] as number));
    lines.push(cells.join(','));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

export async function runReferences(t: Table, folds: readonly Int32Array[], s: RefSettings, dir: string): Promise<Record<RefName, RefOutcome>> {
  const none = (reason: string): Record<RefName, RefOutcome> => ({ sklearn_rf: { ok: false, reason }, xgboost: { ok: false, reason } });
  const path = join(dir, 'train-ref.csv');
  writeTable(t, folds, path);
  const out = await new Promise<{ stdout: string; error: Error | null; stderr: string }>((resolve) => {
    execFile(PYTHON, [SCRIPT, path, JSON.stringify(s)], { maxBuffer: 1 << 28 }, (error, stdout, stderr) =>
      resolve({ stdout, error, stderr }));
  });
  if (out.error) {
    const e = out.error as NodeJS.ErrnoException;
    return none(e.code === 'ENOENT' ? `${PYTHON} not found` : `${PYTHON} failed: ${out.stderr.trim().split('\n').pop() ?? e.message}`);
  }
  const parsed = JSON.parse(out.stdout) as Record<string, { pred?: Record<string, number[]>; fit_seconds?: number; error?: string }>;
  const one = (n: RefName): RefOutcome => {
    const r = parsed[n];
    if (!r) return { ok: false, reason: 'not run' };
    if (r.error !== undefined || !r.pred) return { ok: false, reason: r.error ?? 'no output' };
    return { ok: true, pred: r.pred, fitSeconds: r.fit_seconds ?? NaN };
  };
  return { sklearn_rf: one('sklearn_rf'), xgboost: one('xgboost') };
}
