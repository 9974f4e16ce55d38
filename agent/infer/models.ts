/**
 * Startup check of the models (the model "manifest"): each file must exist,
 * parse as ONNX with eta-sensor metadata, need only features the caller can
 * supply, and open in onnxruntime (checked where the sessions are opened: in
 * the inference workers, or by check-config). Problems stop startup with a
 * message that names the file and the fix.
 */
import './ort-quiet.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../errors.js';
import { registryHash } from '../features/registry.js';
import { report, type Logger, type Telemetry } from '../events.js';
import { readModelMeta, type ModelMeta } from '../train/model-meta.js';
import { modelDamage } from './model-numbers.js';
import type { InferencePool } from './pool.js';
import type { ProbeResult } from './types.js';

export interface ModelSpec {
  readonly path: string | null;
  readonly threshold: number;
}

export interface LoadedModel {
  /** "app" or "attribution": the key of its labels in every record. */
  readonly kind: string;
  readonly path: string;
  readonly threshold: number;
  readonly meta: ModelMeta;
}

/** The package directory: relative model paths in the configuration are resolved from here. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../../', import.meta.url));

export function resolveModelPath(p: string): string {
  return isAbsolute(p) ? p : resolve(PACKAGE_DIR, p);
}

/**
 * Load and check the configured models. `available` names the feature columns the
 * caller will supply (the registry for live capture and pcap replay, a CSV's header
 * for CSV replay); `source` says which, for the message.
 */
export async function loadModels(
  specs: Readonly<Record<string, ModelSpec>>,
  available: readonly string[],
  source: string,
  log?: Logger,
): Promise<LoadedModel[]> {
  const out: LoadedModel[] = [];
  const have = new Set(available);
  for (const [kind, spec] of Object.entries(specs)) {
    if (spec.path === null) continue;
    const path = resolveModelPath(spec.path);
    if (!existsSync(path)) {
      // A relative path meant from the current folder (`--set infer.app.path=./x.onnx`) is the usual slip.
      const fromHere = isAbsolute(spec.path) ? undefined : resolve(spec.path);
      throw new StartupError('E_MODEL', `the ${kind} model ${path} does not exist`,
        fromHere !== undefined && existsSync(fromHere)
          ? `relative model paths are read from the package directory (${PACKAGE_DIR}), not the current one: set infer.${kind}.path to ${fromHere}`
          : `train one (eta-sensor train ... --out ${path}), regenerate the shipped ones (npm run build-models), or set infer.${kind}.path to null to run without it`);
    }
    const meta = await readModelMeta(path);
    const missing = meta.features.filter((f) => !have.has(f));
    if (missing.length > 0) {
      const shown = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '');
      throw new StartupError('E_FEATURES', `the ${kind} model ${path} needs features that ${source} does not have: ${shown}`,
        source === 'the flow meter'
          ? 'such a model was trained on foreign columns; it serves CSV replay and evaluate, not live capture. Train on `eta-sensor extract` output for the agent'
          // One column holding ; or tabs: another separator (found by review: the hint did not say so).
          : available.length === 1 && /[;\t|]/.test(available[0]!)
            ? `its header reads as one column ("${available[0]!.slice(0, 40)}..."): eta-sensor reads comma-separated files; convert it (e.g. from ; or tab)`
            : 'replay a CSV that has the columns the model was trained on, or a capture');
    }
    if (source === 'the flow meter' && meta.registryHash !== registryHash()) {
      log?.warn({ model: path, model_registry: meta.registryHash, agent_registry: registryHash() },
        `the ${kind} model was trained with another version of the feature definitions; its labels may be off until it is retrained`);
    }
    out.push({ kind, path, threshold: spec.threshold, meta });
  }
  return out;
}

/**
 * What onnxruntime said of a model file, as the startup error to stop with, or undefined when
 * the session opened with the names the agent feeds and reads. The workers open the sessions the
 * agent runs on and report here (Classifier.ready); check-config opens them itself.
 */
export function sessionProblem(path: string, opened: Omit<ProbeResult, 'kind'> | undefined): StartupError | undefined {
  if (opened === undefined || opened.error !== undefined) {
    return new StartupError('E_MODEL', `onnxruntime cannot load ${path}: ${(opened?.error ?? 'no answer from the inference worker').split('\n')[0]}`,
      'the file is damaged or not ONNX; retrain it or restore it');
  }
  if (opened.damaged !== undefined) {
    return new StartupError('E_MODEL', `${path} is damaged: ${opened.damaged}`,
      'restore the file or retrain it (`npm run build-models` regenerates the shipped ones)');
  }
  const inputs = opened.inputs ?? [];
  const outputs = opened.outputs ?? [];
  if (!inputs.includes('features') || !outputs.includes('probabilities')) {
    return new StartupError('E_MODEL', `${path} is not an eta-sensor classifier (inputs ${inputs.join(',')}, outputs ${outputs.join(',')})`,
      'export models with `eta-sensor train`: one input "features", outputs "label" and "probabilities"');
  }
  return undefined;
}

/**
 * The startup check through the workers: `probe` runs worker.ts's probe() on one of them, which
 * answers for the files (the same for all); a worker that opens them differently later fails
 * its batches, which are retried and then published unlabeled. Returns the worker's answers.
 */
export async function probeModels(probe: () => Promise<ProbeResult[]>, models: readonly LoadedModel[]): Promise<readonly ProbeResult[]> {
  let answers: ProbeResult[];
  try {
    answers = await probe();
  } catch (e) {
    throw new StartupError('E_MODEL', `the inference worker stopped while opening the models: ${(e as Error).message}`,
      'run `eta-sensor check-config` to check the model files; the log says more');
  }
  for (const m of models) {
    const problem = sessionProblem(m.path, answers.find((a) => a.kind === m.kind));
    if (problem) throw problem;
  }
  return answers;
}

/**
 * probeModels through a pool's workers, and a warning when they write the labels in JavaScript:
 * labels still come out right, more slowly (a partial build: npm ci builds the addon).
 */
export async function probeThrough(pool: InferencePool, models: readonly LoadedModel[], t: Telemetry): Promise<void> {
  const answers = await probeModels(() => pool.piscina.run({}, { name: 'probe' }) as Promise<ProbeResult[]>, models);
  const why = answers.find((a) => a.labelsInJs !== undefined)?.labelsInJs;
  if (why !== undefined) report(t, 'infer', 'labels-written-in-js', { err: why, fix: 'run `npm ci` (or `npx node-gyp rebuild`) in the eta-sensor directory' });
  const priority = answers.find((a) => a.priorityProblem !== undefined)?.priorityProblem;
  if (priority !== undefined) {
    report(t, 'infer', 'priority-not-lowered', { err: priority, fix: 'allow setpriority (systemd: SystemCallFilter=setpriority, as the shipped unit does), or set infer.nice to 0' });
  }
}

/** onnxruntime must accept the graph too (metadata alone does not prove the file is whole): check-config opens each model here. */
export async function checkModelsOpen(models: readonly LoadedModel[]): Promise<void> {
  const ort = await import('onnxruntime-node');
  for (const m of models) {
    let opened: Omit<ProbeResult, 'kind'>;
    try {
      const s = await ort.InferenceSession.create(m.path, { intraOpNumThreads: 1, logSeverityLevel: 4 });
      const damaged = modelDamage(await readFile(m.path));
      opened = { inputs: [...s.inputNames], outputs: [...s.outputNames], ...(damaged === undefined ? {} : { damaged }) };
      await s.release();
    } catch (e) {
      opened = { error: (e as Error).message };
    }
    const problem = sessionProblem(m.path, opened);
    if (problem) throw problem;
  }
}

/** Where each of the model's features sits in a feature vector laid out as `layout`. */
export function columnIndex(model: LoadedModel, layout: readonly string[]): Int32Array {
  const pos = new Map(layout.map((n, i) => [n, i]));
  return Int32Array.from(model.meta.features, (f) => pos.get(f) ?? -1);
}
