/**
 * A clock for worker threads whose timers fire on time, not up to a few ms
 * late. It sleeps on an ordinary timer until `SPIN_MS` before the deadline,
 * then blocks in Atomics.wait for exactly the rest: the wait is precise to
 * well under a millisecond and uses no CPU. Blocking is fine here because a
 * lobby worker has nothing else to do at that moment; never use this clock
 * on the main thread, which must keep serving sockets.
 */
import type { Clock, TimerHandle } from './clock.js';

/** How much of each wait is done blocking rather than on a timer. */
const SPIN_MS = 2;

export function createPreciseClock(): Clock {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const now = () => performance.now();
  return {
    now,
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const deadline = now() + ms;
      const handle: { timer: ReturnType<typeof setTimeout> | undefined; cancelled: boolean } = {
        timer: undefined,
        cancelled: false,
      };
      const finish = () => {
        if (handle.cancelled) return;
        const remaining = deadline - now();
        // Atomics.wait on a value that never changes is a precise sleep.
        if (remaining > 0) Atomics.wait(sleeper, 0, 0, remaining);
        fn();
      };
      handle.timer = setTimeout(finish, Math.max(0, Math.floor(ms - SPIN_MS)));
      return handle;
    },
    clearTimeout(handle: TimerHandle): void {
      const h = handle as { timer: ReturnType<typeof setTimeout> | undefined; cancelled: boolean };
      h.cancelled = true;
      if (h.timer !== undefined) clearTimeout(h.timer);
    },
  };
}
