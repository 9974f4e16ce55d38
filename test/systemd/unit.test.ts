/**
 * The shipped unit file: valid for systemd, runs without root with only the
 * capture capabilities, and its sandbox scores an exposure of 2.5 or lower
 * in `systemd-analyze security`.
 */
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const UNIT = new URL('../../../systemd/eta-sensor.service', import.meta.url).pathname;
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

t.test('the unit declares a dedicated user, capture capabilities only, reload and restart', async (t) => {
  const text = readFileSync(UNIT, 'utf8');
  t.match(text, /^DynamicUser=yes$/m);
  t.match(text, /^User=eta-sensor$/m);
  // CAP_NET_RAW alone: promiscuous mode and the ring's size need no CAP_NET_ADMIN (found by review).
  t.match(text, /^CapabilityBoundingSet=CAP_NET_RAW$/m);
  t.match(text, /^AmbientCapabilities=CAP_NET_RAW$/m);
  t.match(text, /^NoNewPrivileges=yes$/m);
  t.match(text, /^Restart=on-failure$/m);
  t.match(text, /^RestartPreventExitStatus=2$/m, 'a configuration error is not retried');
  t.match(text, /^SystemCallFilter=setpriority$/m, 'the inference threads may lower their own priority (infer.nice) under ~@resources');
  t.match(text, /^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  t.match(text, /^ExecStart=.* run -c \/etc\/eta-sensor\/agent\.yaml$/m);
  t.notMatch(text.replace(/^#.*$/gm, ''), /ETA_MQTT_PASSWORD=\S|--password/, 'no secret set in the unit itself');
});

t.test('systemd-analyze verify accepts it', { skip: analyze ? false : 'systemd-analyze not installed' }, async (t) => {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', UNIT], { encoding: 'utf8' });
  // verify also complains that /opt/eta-sensor is not installed on this machine; only unit syntax problems count here.
  const problems = (r.stderr + r.stdout).split('\n').filter((l) => l.trim() && !/opt\/eta-sensor|Command .* is not executable|No such file/.test(l));
  t.same(problems, [], 'no unit syntax problems');
});

t.test('sandbox exposure is 2.5 or lower', { skip: analyze ? false : 'systemd-analyze not installed' }, async (t) => {
  const out = execFileSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
  const m = /Overall exposure level for eta-sensor\.service: (\d+\.\d+)/.exec(out);
  t.ok(m, 'exposure reported');
  const exposure = Number(m![1]);
  t.comment(`exposure ${exposure}`);
  t.ok(exposure <= 2.5, `exposure ${exposure} <= 2.5`);
});
