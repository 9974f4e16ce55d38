/** A `publish` config for tests: parsed by the real schema, so defaults and checks apply. */
import { randomBytes } from 'node:crypto';
import { parseSection } from '../../../agent/lib/schema.js';
import { publishSchema, type PublishConfig } from '../../../agent/publish/config.js';

export function publishConfig(value: unknown): PublishConfig {
  const issues: string[] = [];
  const c = parseSection(publishSchema, value, 'publish', issues);
  if (issues.length) throw new Error(issues.join('; '));
  return c;
}

/** A topic prefix and sensor id of their own, so tests on the shared broker never see each other. */
export function uniqueNames(): { prefix: string; sensor: string } {
  const id = randomBytes(4).toString('hex');
  return { prefix: `eta-test-${id}`, sensor: `s${id}` };
}
