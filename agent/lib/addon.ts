/** Loads one of the project's native addons (built by `npm ci` into build/Release). */
import { createRequire } from 'node:module';
import { StartupError } from '../errors.js';

const requireHere = createRequire(import.meta.url);

/** What a missing build usually needs: the addons are compiled by npm ci's install step. */
const notBuilt = (what: string) => (reason: string): StartupError =>
  new StartupError('E_INSTALL', `the ${what} is not built: ${reason}`, 'run `npm ci` (or `npx node-gyp rebuild`) in the eta-sensor directory');

/**
 * The addon `name` (e.g. "flow_core"); when it is not built, throws what `missing` makes of the
 * loader's message (by default E_INSTALL, naming `what` and the rebuild).
 */
export function loadAddon<T>(name: string, what: string, missing: (reason: string) => StartupError = notBuilt(what)): T {
  try {
    return requireHere(`../../../build/Release/${name}.node`) as T;
  } catch (e) {
    throw missing((e as Error).message);
  }
}
