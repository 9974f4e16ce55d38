/** Cores available to the agent: CPU count lowered by a cgroup CPU quota (v1 and v2). */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cgroupCpuQuota, cpuBudget } from '../../agent/lib/cpu-budget.js';

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'eta-cg-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

t.test('cgroup v2: cpu.max of the process\'s own cgroup', async (t) => {
  const root = fakeRoot({
    '/proc/self/cgroup': '0::/system.slice/eta-sensor.service\n',
    '/sys/fs/cgroup/system.slice/eta-sensor.service/cpu.max': '150000 100000\n',
  });
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(cgroupCpuQuota(root), 1.5);
  t.equal(cpuBudget(32, 1.5), 2, 'CPUQuota=150% on 32 cores: 2 cores');
});

t.test('cgroup v2 without a limit, and v1 (cpu,cpuacct) with one', async (t) => {
  const none = fakeRoot({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' });
  const v1 = fakeRoot({
    '/proc/self/cgroup': '4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '200000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
  });
  const v1Unlimited = fakeRoot({
    '/proc/self/cgroup': '1:cpu:/\n',
    '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
    '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
  });
  t.teardown(() => [none, v1, v1Unlimited].forEach((r) => rmSync(r, { recursive: true, force: true })));
  t.equal(cgroupCpuQuota(none), undefined);
  t.equal(cgroupCpuQuota(v1), 2);
  t.equal(cgroupCpuQuota(v1Unlimited), undefined);
  t.equal(cgroupCpuQuota('/nonexistent-root'), undefined, 'nothing readable: no quota');
});

t.test('the budget: CPUs, lowered by a quota, at least one', async (t) => {
  t.equal(cpuBudget(8, undefined), 8);
  t.equal(cpuBudget(8, 16), 8, 'a quota above the CPUs changes nothing');
  t.equal(cpuBudget(8, 0.5), 1);
  t.ok(cpuBudget() >= 1, 'this machine');
});
