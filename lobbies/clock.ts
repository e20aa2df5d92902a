/**
 * The monotonic clock a lobby runs on. Owns nothing but the seam: the tick
 * loop and the lifecycle machine's delays (xstate's `clock` option) both go
 * through it, so tests can swap in the fake clock and step time by hand.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps with wall-clock changes). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  // Node timers have whole-ms resolution: round up so a timer is never early.
  setTimeout: (fn, ms) => setTimeout(fn, Math.ceil(ms)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
