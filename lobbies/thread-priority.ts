/**
 * Scheduling priority of the calling thread. Lobby workers raise theirs so
 * that, on a machine whose cores are busy with socket fan-out, the kernel
 * runs a due tick before a send: a late send only delays one frame for some
 * clients (and frames for slow clients are dropped anyway), a late tick
 * delays the world for everyone.
 *
 * Two levers, both per thread on Linux (the calling thread's id comes from
 * /proc/thread-self):
 * - nice (setpriority): a bigger share of the CPU, but a woken thread may
 *   still wait for the running one's slice, a few ms under load;
 * - realtime (SCHED_RR through util-linux `chrt`, as Node has no binding):
 *   a woken thread preempts every ordinary one at once. The kernel's
 *   realtime throttling still leaves others 5% of each second, and the
 *   caller must leave a core free of realtime threads (see app.ts).
 * Both need root or CAP_SYS_NICE; what was refused is reported, not thrown.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface PriorityRequest {
  /** Nice value to set; null leaves it. */
  nice: number | null;
  /** SCHED_RR priority (1-99) to set; null stays with the ordinary scheduler. */
  realtime: number | null;
}

export interface ThreadPriority {
  tid: number;
  nice: number;
  /** SCHED_RR priority in effect, or null. */
  realtime: number | null;
  /** Why a requested change did not happen, one line each. */
  refused: string[];
}

const NEEDS_PRIVILEGE = 'needs root or CAP_SYS_NICE';

export function raiseThreadPriority(request: PriorityRequest): ThreadPriority {
  if (process.platform !== 'linux') {
    return {
      tid: 0,
      nice: getPriority(),
      realtime: null,
      refused: [`per-thread priority is not supported on ${process.platform}`],
    };
  }
  // "<pid>/task/<tid>"
  const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  const refused: string[] = [];
  if (request.nice !== null) {
    try {
      setPriority(tid, request.nice);
    } catch (error) {
      // os.setPriority throws ERR_SYSTEM_ERROR with the errno name in `info`.
      const code = (error as { info?: { code?: string } }).info?.code;
      refused.push(
        code === 'EACCES' || code === 'EPERM'
          ? `nice ${request.nice}: ${NEEDS_PRIVILEGE}`
          : `nice ${request.nice}: ${String(error)}`,
      );
    }
  }
  let realtime: number | null = null;
  if (request.realtime !== null) {
    try {
      execFileSync('chrt', ['--rr', '--pid', String(request.realtime), String(tid)], {
        stdio: 'pipe',
      });
      realtime = request.realtime;
    } catch (error) {
      const { code, stderr } = error as NodeJS.ErrnoException & { stderr?: Buffer };
      const why =
        code === 'ENOENT'
          ? 'chrt (util-linux) is not installed'
          : /not permitted/i.test(String(stderr))
            ? NEEDS_PRIVILEGE
            : String(stderr ?? error).trim();
      refused.push(`realtime ${request.realtime}: ${why}`);
    }
  }
  return { tid, nice: getPriority(tid), realtime, refused };
}
