/**
 * Scheduling priority of the calling thread. Lobby workers raise theirs so
 * that, on a machine whose cores are busy with socket fan-out, the kernel
 * runs a due tick before a send: a late send only delays one frame for some
 * clients (and frames for slow clients are dropped anyway), a late tick
 * delays the world for everyone.
 *
 * Linux only: setpriority(2) on a thread id changes that thread alone, and
 * /proc/thread-self names the calling thread's id. Raising priority (a
 * negative nice) needs root or CAP_SYS_NICE; without it the thread keeps
 * its priority and the caller hears why.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export type PriorityResult = { ok: true; nice: number } | { ok: false; reason: string };

export function setThreadNice(nice: number): PriorityResult {
  if (process.platform !== 'linux') {
    return { ok: false, reason: `per-thread priority is not supported on ${process.platform}` };
  }
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    setPriority(tid, nice);
    return { ok: true, nice: getPriority(tid) };
  } catch (error) {
    // os.setPriority throws ERR_SYSTEM_ERROR with the errno name in `info`.
    const code = (error as { info?: { code?: string } }).info?.code;
    return {
      ok: false,
      reason:
        code === 'EACCES' || code === 'EPERM'
          ? `not permitted to set nice ${nice} (needs root or CAP_SYS_NICE)`
          : String(error),
    };
  }
}
