/**
 * Token bucket for one client's messages: `burst` tokens, refilled at
 * `perSecond`. Refusals are grouped into bursts: a burst is a run of
 * refusals with less than a second between any two, so it ends with a
 * whole second without one. Besides yes/no the bucket says two things
 * about the current burst:
 * - `burstStarted`: the refusal just made is its first, so a client gets
 *   one reply per burst, however it is spread over the refill;
 * - `floodSeconds`: how long it has lasted. A client above the rate keeps
 *   being refused in every second whatever the refill does, so this is
 *   what closes a steady flood.
 */
/** A pause in refusals this long ends a burst. */
const BURST_GAP_MS = 1000;

export class RateLimiter {
  #tokens: number;
  #last: number;
  /** When the last refusal and the current burst's first refusal were, ms. */
  #lastRefusal = Number.NEGATIVE_INFINITY;
  #burstStart = Number.NEGATIVE_INFINITY;
  #burstStarted = false;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes a token if there is one. */
  tryTake(): boolean {
    const now = this.now();
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + ((now - this.#last) / 1000) * this.perSecond,
    );
    this.#last = now;
    this.#burstStarted = false;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    if (now - this.#lastRefusal >= BURST_GAP_MS) {
      // A whole second without refusals ended the last burst.
      this.#burstStart = now;
      this.#burstStarted = true;
    }
    this.#lastRefusal = now;
    return false;
  }

  /** Whether the refusal just made is the first of a burst. */
  get burstStarted(): boolean {
    return this.#burstStarted;
  }

  /** Seconds from the current burst's first refusal to its latest. Read it right after a refusal. */
  get floodSeconds(): number {
    return (this.#lastRefusal - this.#burstStart) / 1000;
  }
}
