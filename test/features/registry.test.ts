import t from 'tap';
import { readFileSync } from 'node:fs';
import { featuresMarkdown, featuresTable } from '../../agent/features/docs.js';
import { ALL_COLUMNS, FEATURES, GROUPS, IDENTITY_COLUMNS, missingFeatures, registryHash } from '../../agent/features/registry.js';

t.test('names are unique, documented, and identity columns come first', async (t) => {
  t.equal(new Set(ALL_COLUMNS).size, ALL_COLUMNS.length, 'no duplicate column');
  for (const f of FEATURES) {
    if (!/^[a-z0-9_]+$/.test(f.name) || f.unit === '' || f.description.length < 10) t.fail(`feature ${f.name} is not fully declared`);
  }
  t.same(ALL_COLUMNS.slice(0, 5), ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto']);
  t.equal(IDENTITY_COLUMNS.length, 9);
  t.equal(GROUPS.reduce((n, g) => n + g.defs.length, 0), FEATURES.length);
});

t.test('every size feature states its byte basis', async (t) => {
  for (const f of FEATURES) {
    if (f.unit === 'bytes' && f.basis !== 'ip' && f.basis !== 'payload' && !f.name.endsWith('init_window')) t.fail(`${f.name} has no byte basis`);
  }
  t.pass();
});

t.test('the registry hash identifies the definitions', async (t) => {
  t.match(registryHash(), /^[0-9a-f]{16}$/);
  t.same(missingFeatures(['src2dst_packets', 'Flow Bytes/s']), ['Flow Bytes/s']);
});

t.test('the README feature list is the registry', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const m = /<!-- features:begin -->\n([\s\S]*?)<!-- features:end -->/.exec(readme);
  t.ok(m, 'README has the generated feature section');
  t.equal(m?.[1], featuresMarkdown(), 'regenerate with: npx eta-sensor features --format markdown');
});

t.test('the table cuts long descriptions at the width with a mark', async (t) => {
  const lines = featuresTable(100).trimEnd().split('\n');
  t.ok(lines.every((l) => l.length <= 100), 'none past the width');
  const cut = lines.filter((l) => l.endsWith('…'));
  t.ok(cut.length > 0 && cut.every((l) => l.length === 100), `${cut.length} cut, each marked at the width`);
});
