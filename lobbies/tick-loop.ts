/**
 * Fixed-timestep loop: owns the accumulator and the schedule, not the world.
 * Time comes from a monotonic Clock; each wake runs as many whole steps as
 * the accumulated time allows, at most `maxCatchUpSteps`, and drops the rest
 * (counted) so a stall cannot snowball into a burst of ticks. Never a bare
 * setInterval: each wake schedules the next for the remaining time to the
 * next step boundary, so timer drift does not accumulate.
 */
import type { Clock, TimerHandle } from './clock.js';

/** Shortest wait between wakes, ms. */
const MIN_WAIT_MS = 0.01;

export interface TickLoopOptions {
  clock: Clock;
  tickRate: number;
  maxCatchUpSteps: number;
  /** One fixed step. `lateMs`: how far past its ideal start time it runs (>= 0). */
  onTick: (lateMs: number) => void;
  /** Whole steps thrown away after a stall longer than the catch-up cap. */
  onDropped?: (steps: number) => void;
}

export class TickLoop {
  readonly stepMs: number;
  #options: TickLoopOptions;
  #timer: TimerHandle | undefined;
  #running = false;
  #accumulator = 0;
  #last = 0;
  #wake = () => this.#onWake();
  /**
   * A step is due a hair before stepMs: 1000/60 is not exact in binary, and
   * without the slack a wake on the right millisecond would miss its step by
   * a rounding error and run it one wake late.
   */
  #due: number;

  constructor(options: TickLoopOptions) {
    this.#options = options;
    this.stepMs = 1000 / options.tickRate;
    this.#due = this.stepMs - 1e-6;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#accumulator = 0;
    this.#last = this.#options.clock.now();
    this.#schedule(this.stepMs);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    // The clock decides the resolution (whole ms for Node timers, exact for
    // the precise worker clock); an early wake just schedules again.
    // Overdue: wake at once. Otherwise a floor on the wait keeps a
    // rounding-sized remainder from waking us at the same instant again and
    // again without time moving on.
    this.#timer = this.#options.clock.setTimeout(
      this.#wake,
      ms <= 0 ? 0 : Math.max(MIN_WAIT_MS, ms),
    );
  }

  #onWake(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const { clock, maxCatchUpSteps, onTick } = this.#options;
    const now = clock.now();
    this.#accumulator += now - this.#last;
    this.#last = now;
    let steps = 0;
    while (this.#accumulator >= this.#due && steps < maxCatchUpSteps && this.#running) {
      // The step's ideal start was `accumulator - stepMs` ago at wake time;
      // steps run back to back after a stall are later still by the work done.
      onTick(Math.max(0, this.#accumulator - this.stepMs + (clock.now() - now)));
      this.#accumulator -= this.stepMs;
      steps++;
    }
    if (this.#accumulator >= this.#due) {
      const dropped = Math.floor(this.#accumulator / this.stepMs);
      this.#accumulator -= dropped * this.stepMs;
      this.#options.onDropped?.(dropped);
    }
    // The next boundary is stepMs - accumulator after this wake began, and
    // the steps just run have used part of that already.
    if (this.#running) this.#schedule(this.stepMs - this.#accumulator - (clock.now() - now));
  }
}
