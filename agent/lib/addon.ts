/** Loads one of the project's native addons (built by `npm ci` into build/Release). */
import { createRequire } from 'node:module';
import type { StartupError } from '../errors.js';

const requireHere = createRequire(import.meta.url);

/** The addon `name` (e.g. "flow_core"); when it is not built, throws what `missing` makes of the loader's message. */
export function loadAddon<T>(name: string, missing: (reason: string) => StartupError): T {
  try {
    return requireHere(`../../../build/Release/${name}.node`) as T;
  } catch (e) {
    throw missing((e as Error).message);
  }
}
