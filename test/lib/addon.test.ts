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

t.test('every addon exports exactly the functions it declares, nothing read from past its table', async (t) => {
  // Found by review: packet_socket.c told Node-API its table had 2 entries for 1, and Node read a
  // second, garbage descriptor from the stack (a property whose getter crashed the process).
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../../../build/Release/', import.meta.url).pathname;
  const names = readdirSync(dir).filter((f) => f.endsWith('.node')).map((f) => f.slice(0, -5));
  t.ok(names.includes('packet_socket'), `addons: ${names.join(', ')}`);
  for (const name of names) {
    const addon = loadAddon<Record<string, unknown>>(name, name);
    for (const key of Object.getOwnPropertyNames(addon)) {
      t.match(key, /^[A-Za-z_][A-Za-z0-9_]*$/, `${name}.${key}: a plain identifier`);
      const d = Object.getOwnPropertyDescriptor(addon, key)!;
      t.ok(d.get === undefined && d.set === undefined, `${name}.${key}: a value, not an accessor`);
    }
  }
});
