/** The shipped app model's classes as build-models makes them (scripts/models/tables.ts). */
import t from 'tap';
import { appClasses, appTable } from '../../scripts/models/tables.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import type { LabeledFlow } from '../../scripts/models/ndpi-flows.js';

const flow = (app: string, pcap: string, encrypted = true): LabeledFlow => ({
  pcap, app, ndpiCategory: 'Web', usage: null, encrypted, sni: '', features: new Float64Array(FEATURE_NAMES.length),
});

t.test('`unknown` (what label writes for verdicts naming no app) is no app class: it comes once, last of the table\'s classes', async (t) => {
  // Found by rebuilding the models: `unknown` counted as an app, then added again as the table's
  // own, made 22 classes (one of them empty) where the shipped model has 21.
  const flows: LabeledFlow[] = [];
  for (let i = 0; i < 12; i++) {
    flows.push(flow('Zoom', `z${i % 2}.pcap`), flow('unknown', `u${i % 3}.pcap`), flow('', `e${i % 2}.pcap`), flow('TLS', `t${i % 2}.pcap`));
  }
  t.same(appClasses(flows), ['Zoom']);
  const table = appTable(flows, { cleartext: 'none' });
  t.same(table.classes, ['Zoom', 'unknown']);
  t.same([...new Set(table.y)].sort(), [0, 1], 'both classes have rows');
});
