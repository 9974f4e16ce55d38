/**
 * How each shipped model is made: which flows, which classes, which learner.
 * One place for the build script, the benchmark and the model cards.
 *
 * The choices were measured by 5-fold cross-validation by capture on the
 * shared nDPI data (macro-F1; the model cards have the per-class figures):
 * - app: encrypted flows only. Adding the cleartext flows of the same apps
 *   lowered macro-F1 on encrypted flows from 0.184 to 0.134; adding every
 *   cleartext flow as "unknown" to 0.118 (it would have called 91% of
 *   cleartext flows "unknown" instead of 10%: see the app card's limits).
 * - attribution: every flow with a usage type, cleartext too: usage types
 *   shape traffic alike with or without TLS, and cleartext triples the
 *   file_transfer and voip examples. Macro-F1 on encrypted flows rose from
 *   0.278 to 0.327.
 * - learners: boosted trees for app (0.183, against 0.156 for the forest
 *   below); for attribution a forest with leaves of >= 3 flows (0.477 on all
 *   flows, against 0.343 for boosted trees, which do badly on the cleartext
 *   part).
 * - size: the agent pays for every tree on every flow, and on a 2-core
 *   gateway inference shares the cores with the flow meter; so each model is
 *   the smallest that scored as the larger ones did (macro-F1, mean of fold
 *   seeds 1-3; onnxruntime, batch 256, one thread, on a replay's real rows):
 *   - app: boosting with shared trees (one tree per round scoring all 21
 *     classes, gbdt-shared-tree.ts), 60 rounds at rate 0.15: macro-F1
 *     0.1629 over fold seeds 1-7 against 0.1616 for the per-class trees
 *     shipped before (20 rounds at 0.5, 420 trees), accuracy 0.525 against
 *     0.466 (more of the large `unknown` class called `unknown`), and 4.4 µs
 *     per flow against 6.8-7.5. 100 shared rounds at 0.1 score 0.1855 on
 *     seeds 1-3 (0.1836 per-class) but cost as much as the per-class trees;
 *     40 rounds lose macro-F1 (0.157 at 0.2 on seed 1), so do depths 5 and
 *     8 there. Of the per-class trees, 20 rounds at 0.5 had scored as 30 at 0.3
 *     and 100 did; fewer lost macro-F1 or accuracy.
 *   - attribution: 70 trees score as 100 (0.4769 against 0.4767; encrypted
 *     flows 0.3307 against 0.3317 over 3 forest seeds x 3 fold seeds), 3.4-3.5
 *     µs per flow against 5.0; 60 trees lose 0.003, 50 lose 0.007, and
 *     leaves of >= 5 flows lose on encrypted flows (0.313 against 0.332).
 *     Depth limits lose too (12: 0.4717, 10: 0.4657 on seeds 1-2, 0.4736
 *     unlimited) and save little time, as do shared boosted trees (0.39-0.41):
 *     onnxruntime's cost is mostly per tree, not per level.
 * - classes are weighted "balanced": without it the small classes are all but
 *   ignored (app 0.147 -> 0.183, attribution on encrypted flows 0.314 -> 0.327).
 */
import type { FitOptions } from '../../agent/train/fit.js';
import type { LabeledFlow } from './ndpi-flows.js';
import { appTable, attributionTable, type Table } from './tables.js';

export interface Recipe {
  readonly kind: 'app' | 'attribution';
  /** Label column of the training CSV. */
  readonly label: 'app' | 'category';
  readonly table: (flows: readonly LabeledFlow[]) => Table;
  /** One line for the model card: which flows. */
  readonly flowsText: string;
  readonly fit: Omit<FitOptions, 'threads' | 'onTree' | 'signal'>;
  /** The forest the benchmark times against scikit-learn's (same trees, leaf size, weights). */
  readonly forest: Omit<FitOptions, 'threads' | 'onTree' | 'signal'>;
}

const FOREST = { algo: 'rf', trees: 100, minSamplesLeaf: 3, classWeight: 'balanced', seed: 1 } as const;

export const RECIPES: readonly Recipe[] = [
  {
    kind: 'app',
    label: 'app',
    table: (f) => appTable(f, { cleartext: 'none' }),
    flowsText: 'flows nDPI marks as encrypted',
    fit: { algo: 'gbdt', trees: 60, maxDepth: 6, learningRate: 0.15, sharedTrees: true, classWeight: 'balanced', seed: 1 },
    forest: FOREST,
  },
  {
    kind: 'attribution',
    label: 'category',
    table: (f) => attributionTable(f, { cleartext: true }),
    flowsText: 'flows whose app or nDPI category maps to a usage type in config/categories.yaml, encrypted or not',
    fit: { ...FOREST, trees: 70 },
    forest: FOREST,
  },
];

/** Folds of the cross-validation by capture (model cards and benchmark). */
export const CV_FOLDS = 5;
