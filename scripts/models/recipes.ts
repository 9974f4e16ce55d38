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
 *   - app: 20 rounds at learning rate 0.5 score 0.1836, as 30 rounds at 0.3
 *     (0.1834) and 100 rounds did; over 10 fold seeds 0.1531 against 0.1484.
 *     5.2 µs per flow against 7.2. Accuracy falls from 0.529 to 0.500: fewer
 *     flows of the large `unknown` class are called `unknown`. 15 rounds cost
 *     4.2 µs and keep macro-F1 (0.1829) but lose more accuracy (0.489); 12
 *     and 10 rounds lose macro-F1 (0.181, 0.179), so do a higher rate (15 at
 *     0.7: 0.158, unstable) and depth 5 (0.176);
 *   - attribution: 70 trees score as 100 (0.4769 against 0.4767; encrypted
 *     flows 0.3307 against 0.3317 over 3 forest seeds x 3 fold seeds), 3.4-3.5
 *     µs per flow against 5.0; 60 trees lose 0.003, 50 lose 0.007, and
 *     leaves of >= 5 flows lose on encrypted flows (0.313 against 0.332).
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
    fit: { algo: 'gbdt', trees: 20, maxDepth: 6, learningRate: 0.5, classWeight: 'balanced', seed: 1 },
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
