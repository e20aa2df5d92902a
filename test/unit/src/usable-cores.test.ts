import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, usableCores } from '../../../src/usable-cores.js';

/** A fake filesystem: paths not listed do not exist. */
const files =
  (entries: Record<string, string>) =>
  (path: string): string => {
    if (!(path in entries)) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return entries[path];
  };

describe('cgroupCpuQuota', () => {
  it('reads a cgroup v2 quota from the process cgroup, else the root', () => {
    expect(
      cgroupCpuQuota(
        files({
          '/proc/self/cgroup': '0::/pod/abc\n',
          '/sys/fs/cgroup/pod/abc/cpu.max': '150000 100000\n',
        }),
      ),
    ).toBe(1.5);
    expect(
      cgroupCpuQuota(
        files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000' }),
      ),
    ).toBe(2);
  });

  it('"max" and a v1 quota of -1 mean no quota; v1 quotas count too', () => {
    expect(cgroupCpuQuota(files({ '/sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeNull();
    const v1 = (quota: string) =>
      cgroupCpuQuota(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': quota,
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
        }),
      );
    expect(v1('-1')).toBeNull();
    expect(v1('300000')).toBe(3);
    expect(cgroupCpuQuota(files({}))).toBeNull();
  });
});

describe('usableCores', () => {
  it('caps the affinity by whole cores of the quota, at least 1', () => {
    const cores = availableParallelism();
    expect(usableCores(files({}))).toBe(cores);
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(usableCores(files({ '/sys/fs/cgroup/cpu.max': `${cores * 400000} 100000` }))).toBe(
      cores,
    );
  });
});
