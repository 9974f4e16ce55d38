import t from 'tap';
import { COMMANDS } from '../../agent/cli.js';
import { runCli } from '../helpers/cli.js';

t.test('eta-sensor --help lists every command', async (t) => {
  const r = await runCli(['--help']);
  t.equal(r.code, 0);
  for (const [name] of COMMANDS) t.match(r.stdout, new RegExp(`^  ${name} `, 'm'), name);
});

for (const [name] of COMMANDS) {
  t.test(`eta-sensor ${name} --help`, async (t) => {
    const r = await runCli([name, '--help']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`^Usage: eta-sensor ${name}`, 'm'));
    t.match(r.stdout, /-h, --help/);
  });
}

t.test('an unknown command or option is a usage error', async (t) => {
  const r = await runCli(['frobnicate']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown command "frobnicate"/);
  const o = await runCli(['features', '--colour']);
  t.equal(o.code, 2);
  t.match(o.stderr, /Unknown option '--colour'/);
});

t.test('eta-sensor help <command> is that command\'s --help (it printed the overview: found by review)', async (t) => {
  const r = await runCli(['help', 'replay']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, (await runCli(['replay', '--help'])).stdout);
  const unknown = await runCli(['help', 'frobnicate']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "frobnicate"/);
  t.match((await runCli(['--help'])).stdout, /eta-sensor --version/, 'the overview names --version');
});
