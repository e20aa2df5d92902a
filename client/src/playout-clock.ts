/**
 * The playout clock: which (fractional) server tick to draw at a given local
 * time. Frames arrive with network jitter, sometimes several at once,
 * sometimes with ticks missing (the server skips frames for a slow client);
 * drawing the newest frame as it lands would stutter. Instead we draw a
 * fixed delay behind the newest tick and let the interpolation buffer fill
 * in between frames.
 *
 * The clock runs at the nominal tick rate and steers, gently, toward
 * `newest tick (extrapolated to now) - delay`: a little faster when it falls
 * behind, a little slower when it runs ahead, so jitter and a server that
 * ticks slightly slow or fast never show as jumps. Only a large error (a
 * stall, a resync) snaps it.
 */

export interface PlayoutOptions {
  /** Server ticks per second (from the welcome). */
  tickRate: number;
  /** How far behind the newest frame to draw, in ms. */
  delayMs: number;
}

/** Seconds over which an error between clock and target is steered away. */
const STEER_SECONDS = 0.5;
/** Bounds on the clock's speed while it steers (1 = nominal tick rate). */
const MIN_SPEED = 0.75;
const MAX_SPEED = 1.25;
/** An error larger than this (in seconds) is fixed by a jump, not by steering. */
const SNAP_SECONDS = 0.5;

export class PlayoutClock {
  readonly #ticksPerMs: number;
  readonly #delayTicks: number;
  readonly #tickRate: number;
  #newestTick = -1;
  #newestAt = 0;
  #renderTick = Number.NaN;
  #lastAt = Number.NaN;

  constructor(options: PlayoutOptions) {
    this.#tickRate = options.tickRate;
    this.#ticksPerMs = options.tickRate / 1000;
    this.#delayTicks = options.delayMs * this.#ticksPerMs;
  }

  get delayTicks(): number {
    return this.#delayTicks;
  }

  get newestTick(): number {
    return this.#newestTick;
  }

  /** Forget everything (a new connection: its ticks may restart). */
  reset(): void {
    this.#newestTick = -1;
    this.#renderTick = Number.NaN;
    this.#lastAt = Number.NaN;
  }

  /** A frame of `tick` arrived at local time `nowMs`. Older ticks are ignored. */
  onFrame(tick: number, nowMs: number): void {
    if (tick <= this.#newestTick) return;
    this.#newestTick = tick;
    this.#newestAt = nowMs;
  }

  /** The tick to draw at `nowMs` (monotonic ms); NaN before any frame. */
  advance(nowMs: number): number {
    if (this.#newestTick < 0) return Number.NaN;
    // Where the newest frame would be now at the nominal rate, extrapolated
    // no further than the delay: if frames stop, we glide onto the newest
    // one and hold there rather than run past it.
    const ahead = Math.min((nowMs - this.#newestAt) * this.#ticksPerMs, this.#delayTicks);
    const target = this.#newestTick + ahead - this.#delayTicks;
    const error = target - this.#renderTick;
    if (!(Math.abs(error) <= SNAP_SECONDS * this.#tickRate)) {
      // First frame, a stall or a resync (NaN lands here too).
      this.#renderTick = target;
    } else {
      const elapsedTicks = Math.max(0, nowMs - this.#lastAt) * this.#ticksPerMs;
      const speed = Math.min(
        MAX_SPEED,
        Math.max(MIN_SPEED, 1 + error / (this.#tickRate * STEER_SECONDS)),
      );
      // Never past the newest frame: beyond it there is nothing to draw.
      this.#renderTick = Math.min(this.#newestTick, this.#renderTick + elapsedTicks * speed);
    }
    this.#lastAt = nowMs;
    return this.#renderTick;
  }
}
