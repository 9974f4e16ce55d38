/** The registry as documentation: the `features` command and the README's feature list. */
import { FEATURES, IDENTITY_COLUMNS, META_COLUMNS, REGISTRY_VERSION, registryHash } from './registry.js';

interface Row {
  name: string;
  kind: 'identity' | 'metadata' | 'feature';
  unit: string;
  basis: string;
  description: string;
}

export function featureRows(): Row[] {
  return [
    ...IDENTITY_COLUMNS.map((c): Row => ({ name: c.name, kind: 'identity', unit: c.unit, basis: '', description: c.description })),
    ...META_COLUMNS.map((c): Row => ({ name: c.name, kind: 'metadata', unit: c.unit, basis: '', description: c.description })),
    ...FEATURES.map((f): Row => ({ name: f.name, kind: 'feature', unit: f.unit, basis: f.basis, description: f.description })),
  ];
}

export function featuresMarkdown(): string {
  const lines = [
    `Registry version ${REGISTRY_VERSION}, hash \`${registryHash()}\`: ${FEATURES.length} model features after ${IDENTITY_COLUMNS.length} identity and ${META_COLUMNS.length} metadata columns.`,
    'Basis: `ip` = IP bytes (header + payload as the IP header states), `payload` = transport payload bytes.',
    '',
    '| column | kind | unit | basis | description |',
    '|---|---|---|---|---|',
    ...featureRows().map((r) => `| \`${r.name}\` | ${r.kind} | ${r.unit} | ${r.basis} | ${r.description.replace(/\|/g, '\\|')} |`),
  ];
  return lines.join('\n') + '\n';
}

export function featuresTable(width = 120): string {
  const rows = featureRows();
  const w0 = Math.max(...rows.map((r) => r.name.length));
  const w1 = Math.max(...rows.map((r) => r.unit.length));
  const w2 = 7;
  const head = `${'NAME'.padEnd(w0)}  ${'UNIT'.padEnd(w1)}  ${'BASIS'.padEnd(w2)}  DESCRIPTION`;
  const out = [head];
  for (const r of rows) {
    const prefix = `${r.name.padEnd(w0)}  ${r.unit.padEnd(w1)}  ${(r.kind === 'feature' ? r.basis : r.kind === 'identity' ? '(id)' : '(meta)').padEnd(w2)}  `;
    // A description cut at the width says so: a sentence cut mid-way read as a whole one (found by review).
    const line = prefix + r.description;
    const max = Math.max(width, prefix.length + 20);
    out.push(line.length > max ? `${line.slice(0, max - 1)}…` : line);
  }
  return out.join('\n') + '\n';
}
