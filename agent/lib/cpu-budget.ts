/**
 * How many cores this process may use: the CPUs it may run on (os.availableParallelism), lowered
 * by a CPU quota on its cgroup (systemd's CPUQuota=, a container's CPU limit). Node 20 counts only
 * the first: an agent limited to 2 CPUs on a 32-core host would start 31 inference workers.
 * Both cgroup versions are read (v2 cpu.max; v1 cpu.cfs_quota_us / cpu.cfs_period_us); anything
 * unreadable means no quota.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1').trim();
  } catch {
    return undefined;
  }
}

/** The quota in CPUs (e.g. 1.5), or undefined when there is none. `root` is for tests. */
export function cgroupCpuQuota(root = ''): number | undefined {
  const lines = read(`${root}/proc/self/cgroup`)?.split('\n') ?? [];
  for (const line of lines) {
    // "<id>:<controllers>:<path>"; the path may itself hold colons.
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    const controllers = line.slice(i + 1, j);
    const path = line.slice(j + 1);
    if (controllers === '') {
      // v2 (unified): "max 100000" or "<quota> <period>" in microseconds.
      const [quota, period] = (read(`${root}/sys/fs/cgroup${path}/cpu.max`) ?? '').split(' ');
      if (quota && period && quota !== 'max') return Number(quota) / Number(period);
    } else if (controllers.split(',').includes('cpu')) {
      for (const mount of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
        const quota = Number(read(`${root}/sys/fs/cgroup/${mount}${path}/cpu.cfs_quota_us`));
        const period = Number(read(`${root}/sys/fs/cgroup/${mount}${path}/cpu.cfs_period_us`));
        if (quota > 0 && period > 0) return quota / period;
      }
    }
  }
  return undefined;
}

/** Whole cores available to this process: at least 1. */
export function cpuBudget(cpus = availableParallelism(), quota = cgroupCpuQuota()): number {
  return Math.max(1, quota === undefined || !Number.isFinite(quota) ? cpus : Math.min(cpus, Math.ceil(quota)));
}
