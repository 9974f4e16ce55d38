/** `eta-sensor features`: the feature registry as a table, Markdown, CSV or JSON. */
import { usageError } from '../errors.js';
import { featureRows, featuresMarkdown, featuresTable } from '../features/docs.js';
import { registryHash } from '../features/registry.js';
import { csvField } from '../features/format.js';
import { optString, type Command } from './command.js';

export const command: Command = {
  name: 'features',
  summary: 'list the flow features: name, unit, basis, description',
  usage: 'eta-sensor features [--format table|markdown|csv|json]',
  description: `
Prints every column of an extracted flow row, in output order: identity
columns, handshake metadata, then the model features with their unit and the
byte count they use (ip: IP bytes, payload: transport payload bytes). Models
record these names and the registry hash; the agent refuses a model whose
features it does not compute.`,
  positionals: [0, 0],
  options: {
    format: { type: 'string', arg: 'FORMAT', doc: 'table (default), markdown, csv or json' },
  },
  async run(args, io) {
    const format = optString(args, 'format') ?? 'table';
    if (format === 'table') io.stdout.write(featuresTable((io.stdout as { columns?: number }).columns ?? 160));
    else if (format === 'markdown') io.stdout.write(featuresMarkdown());
    else if (format === 'json') io.stdout.write(JSON.stringify({ registry_hash: registryHash(), columns: featureRows() }, null, 2) + '\n');
    else if (format === 'csv') {
      io.stdout.write('name,kind,unit,basis,description\n');
      for (const r of featureRows()) io.stdout.write([r.name, r.kind, r.unit, r.basis, r.description].map(csvField).join(',') + '\n');
    } else throw usageError(`--format must be table, markdown, csv or json (got "${format}")`, 'features');
    return 0;
  },
};
