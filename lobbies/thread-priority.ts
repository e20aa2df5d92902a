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
 *   caller must leave a core free of realtime threads (src/worker-priority.ts).
 * The kernel allows them to root, to CAP_SYS_NICE (for `chrt`, a separate
 * program, only as an ambient capability), or up to RLIMIT_NICE and
 * RLIMIT_RTPRIO. What was refused is reported, never thrown: a worker runs
 * either way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface PriorityRequest {
  /** Nice value to set; null leaves it. */
  nice: number | null;
  /** SCHED_RR priority (1-99) to set; null stays with the ordinary scheduler. */
  realtime: number | null;
}

export interface ThreadPriority {
  /** The thread's id (0 where it cannot be known). */
  tid: number;
  nice: number;
  /** SCHED_RR priority in effect, or null. */
  realtime: number | null;
  /** Why a requested change did not happen, one line each. */
  refused: string[];
}

const NOT_PERMITTED = 'not permitted (needs root, CAP_SYS_NICE or RLIMIT_NICE/RLIMIT_RTPRIO)';

/** Where Debian and most distributions put util-linux's chrt; never looked up on PATH. */
const CHRT_PATHS = ['/usr/bin/chrt', '/bin/chrt'];

export function raiseThreadPriority(request: PriorityRequest): ThreadPriority {
  const unchanged = (refused: string[]): ThreadPriority => ({
    tid: 0,
    nice: getPriority(),
    realtime: null,
    refused,
  });
  if (request.nice === null && request.realtime === null) return unchanged([]);
  if (process.platform !== 'linux') {
    return unchanged([`per-thread priority is not supported on ${process.platform}`]);
  }
  let tid: number;
  try {
    // "<pid>/task/<tid>"
    tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch (error) {
    return unchanged([`cannot name this thread (/proc/thread-self): ${String(error)}`]);
  }
  const refused: string[] = [];
  if (request.nice !== null) {
    try {
      setPriority(tid, request.nice);
    } catch (error) {
      // os.setPriority throws ERR_SYSTEM_ERROR with the errno name in `info`.
      const code = (error as { info?: { code?: string } }).info?.code;
      const why = code === 'EACCES' || code === 'EPERM' ? NOT_PERMITTED : String(error);
      refused.push(`nice ${request.nice}: ${why}`);
    }
  }
  let realtime: number | null = null;
  if (request.realtime !== null) {
    const chrt = CHRT_PATHS.find((path) => existsSync(path));
    if (!chrt) {
      refused.push(`realtime ${request.realtime}: chrt (util-linux) is not installed`);
    } else {
      try {
        execFileSync(chrt, ['--rr', '--pid', String(request.realtime), String(tid)], {
          stdio: 'pipe',
          timeout: 2000,
        });
        realtime = request.realtime;
      } catch (error) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
        const why = /not permitted/i.test(stderr) ? NOT_PERMITTED : stderr.trim() || String(error);
        refused.push(`realtime ${request.realtime}: ${why}`);
      }
    }
  }
  return { tid, nice: getPriority(tid), realtime, refused };
}
