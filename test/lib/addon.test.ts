/** The native addons' loader: a missing build is a startup error that names the module and the fix. */
import t from 'tap';
import { StartupError } from '../../agent/errors.js';
import { loadAddon } from '../../agent/lib/addon.js';

t.test('a missing addon is E_INSTALL, naming what it is and the rebuild', async (t) => {
  const err = t.throws(() => loadAddon('no_such_addon', 'test module')) as StartupError;
  t.ok(err instanceof StartupError);
  t.equal(err.code, 'E_INSTALL');
  t.match(err.message, /^the test module is not built: .*no_such_addon/);
  t.match(err.hint, /npm ci/);
});

t.test('a caller with its own fix gives its own error', async (t) => {
  const err = t.throws(() => loadAddon('no_such_addon', 'x', (reason) => new StartupError('E_CAPTURE', `own: ${reason}`, 'install it'))) as StartupError;
  t.equal(err.code, 'E_CAPTURE');
  t.match(err.message, /^own: /);
});

t.test('a built addon loads', async (t) => {
  const core = loadAddon<{ layout: object }>('flow_core', 'flow core');
  t.type(core.layout, 'object');
});
