/**
 * How many cores this process may really use: its CPU affinity
 * (availableParallelism), capped by a cgroup CPU quota, which is how
 * containers limit CPU (Kubernetes `limits.cpu`, `docker run --cpus`) while
 * the affinity still shows every core of the host. The worker count and the
 * realtime guard (worker-priority.ts) are sized from it.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function usableCores(readFile = (path: string) => readFileSync(path, 'utf8')): number {
  const quota = cgroupCpuQuota(readFile);
  const cores = availableParallelism();
  // A fractional quota (1.5 CPUs) gives only the whole cores it guarantees.
  return quota === null ? cores : Math.max(1, Math.min(cores, Math.floor(quota)));
}

/** The CPU quota in cores, or null where there is none or it cannot be read. */
export function cgroupCpuQuota(readFile: (path: string) => string): number | null {
  const read = (path: string): string | null => {
    try {
      return readFile(path).trim();
    } catch {
      return null;
    }
  };
  // cgroup v2: "<quota> <period>" or "max <period>", in this process's cgroup.
  const own = read('/proc/self/cgroup')
    ?.split('\n')
    .find((line) => line.startsWith('0::'))
    ?.slice(3);
  for (const dir of own && own !== '/' ? [own, ''] : ['']) {
    const max = read(`/sys/fs/cgroup${dir}/cpu.max`);
    if (max === null) continue;
    const [quota, period] = max.split(/\s+/);
    return quota === 'max' ? null : Number(quota) / Number(period);
  }
  // cgroup v1: a quota of -1 means none.
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return quota > 0 && period > 0 ? quota / period : null;
}
