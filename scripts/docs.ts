/**
 * Regenerates the documentation that is derived from code: the README's
 * feature list and config/agent.example.yaml. Tests fail when they drift.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configSchema, EXAMPLE_HEADER } from '../agent/config.js';
import { featuresMarkdown } from '../agent/features/docs.js';
import { exampleYaml } from '../agent/lib/schema-doc.js';

const root = new URL('../../', import.meta.url);
const readmePath = new URL('README.md', root);
const readme = readFileSync(readmePath, 'utf8');
const updated = readme.replace(/<!-- features:begin -->\n[\s\S]*?<!-- features:end -->/, `<!-- features:begin -->\n${featuresMarkdown()}<!-- features:end -->`);
writeFileSync(readmePath, updated);
writeFileSync(new URL('config/agent.example.yaml', root), exampleYaml(configSchema, EXAMPLE_HEADER));
console.log('README.md feature list and config/agent.example.yaml regenerated');
