/**
 * The training tables of the shipped models, built from the labelled nDPI
 * flows. The choices (which flows, which classes) are the ones the model
 * cards document; `AppPolicy`/`AttributionPolicy` exist so the build script
 * and the benchmark can measure the alternatives on the same folds.
 */
import { writeFileSync } from 'node:fs';
import { csvField, formatNumber } from '../../agent/features/format.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { USAGE_TYPES } from '../../agent/label/categories.js';
import { namesApp } from '../../agent/label/labeler.js';
import { UNKNOWN } from '../../agent/train/split.js';
import type { LabeledFlow } from './ndpi-flows.js';

export interface Table {
  readonly featureNames: readonly string[];
  readonly nRows: number;
  /** Column-major float32, values as the CSV carries them (6 decimals). */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly classes: readonly string[];
  readonly group: Int32Array;
  readonly groupNames: readonly string[];
  /** 1 for flows nDPI calls encrypted. */
  readonly encrypted: Uint8Array;
  readonly flows: readonly LabeledFlow[];
}

/** App classes need this many encrypted flows, in at least this many captures. */
export const APP_MIN_FLOWS = 10;
export const APP_MIN_CAPTURES = 2;

export interface AppPolicy {
  /** Cleartext flows: none, those of the app classes only, or all (others as unknown). */
  readonly cleartext: 'none' | 'classes' | 'all';
}

export interface AttributionPolicy {
  readonly cleartext: boolean;
}

/** The app classes: apps with enough encrypted flows in enough captures, not generic; sorted. */
export function appClasses(flows: readonly LabeledFlow[]): string[] {
  const n = new Map<string, { flows: number; caps: Set<string> }>();
  for (const f of flows) {
    // nDPI's verdicts that name no app train the `unknown` class, as `eta-sensor label` writes them:
    // as `unknown`, which is no app class either. Counted as one, `unknown` came twice in the
    // cross-validation's classes, one empty (found by rebuilding the models: 22 classes where the
    // shipped model has 21, and other figures on the card).
    if (!f.encrypted || !namesApp(f.app) || f.app === UNKNOWN) continue;
    const e = n.get(f.app) ?? { flows: 0, caps: new Set<string>() };
    e.flows++;
    e.caps.add(f.pcap);
    n.set(f.app, e);
  }
  return [...n].filter(([, e]) => e.flows >= APP_MIN_FLOWS && e.caps.size >= APP_MIN_CAPTURES).map(([a]) => a).sort();
}

function table(flows: readonly LabeledFlow[], labels: readonly string[], classes: readonly string[]): Table {
  const N = flows.length;
  const F = FEATURE_NAMES.length;
  const x = new Float32Array(new SharedArrayBuffer(Math.max(4, 4 * N * F)));
  flows.forEach((fl, r) => {
    for (let f = 0; f < F; f++) x[f * N + r] = Number(formatNumber(fl.features[f] as number) || 0);
  });
  const ci = new Map(classes.map((c, i) => [c, i]));
  const groupNames = [...new Set(flows.map((f) => f.pcap))].sort();
  const gi = new Map(groupNames.map((g, i) => [g, i]));
  return {
    featureNames: FEATURE_NAMES, nRows: N, x, classes,
    y: Int32Array.from(labels, (l) => ci.get(l) as number),
    group: Int32Array.from(flows, (f) => gi.get(f.pcap) as number), groupNames,
    encrypted: Uint8Array.from(flows, (f) => (f.encrypted ? 1 : 0)), flows,
  };
}

export function appTable(all: readonly LabeledFlow[], p: AppPolicy): Table {
  const classes = appClasses(all);
  const known = new Set(classes);
  const flows = all.filter((f) => f.encrypted || p.cleartext === 'all' || (p.cleartext === 'classes' && known.has(f.app)));
  const labels = flows.map((f) => (known.has(f.app) ? f.app : UNKNOWN));
  return table(flows, labels, [...classes, UNKNOWN].sort());
}

export function attributionTable(all: readonly LabeledFlow[], p: AttributionPolicy): Table {
  const flows = all.filter((f) => f.usage !== null && (f.encrypted || p.cleartext));
  return table(flows, flows.map((f) => f.usage as string), [...USAGE_TYPES].filter((u) => flows.some((f) => f.usage === u)).sort());
}

/** The table as a labelled flow CSV for `train`: features, then pcap, sni, encrypted as text, and the label. */
export function writeTableCsv(t: Table, path: string, label: string): void {
  const lines = [[...t.featureNames, 'pcap', 'sni', 'ndpi_app', label].join(',')];
  const F = t.featureNames.length;
  for (let r = 0; r < t.nRows; r++) {
    const fl = t.flows[r] as LabeledFlow;
    const cells: string[] = [];
    for (let f = 0; f < F; f++) cells.push(formatNumber(fl.features[f] as number) || '0');
    cells.push(csvField(fl.pcap), csvField(fl.sni), csvField(fl.app), csvField(t.classes[t.y[r] as number] as string));
    lines.push(cells.join(','));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
