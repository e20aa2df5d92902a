/**
 * Token bucket for one client's messages: `burst` tokens, refilled at
 * `perSecond`. Refusals are grouped into bursts: a burst is a run of
 * seconds that each saw a refusal, and ends with a whole second without
 * one. Besides yes/no the bucket says two things about the current burst:
 * - `burstStarted`: the refusal just made is its first, so a client gets
 *   one reply per burst, however it is spread over the refill;
 * - `floodSeconds`: how long it has lasted. A client above the rate keeps
 *   being refused in every second whatever the refill does, so this is
 *   what closes a steady flood.
 */
export class RateLimiter {
  #tokens: number;
  #last: number;
  /** Index (now / 1000, floored) of the last second with a refusal; -2 if none. */
  #lastRefusedSecond = -2;
  /** First second of the current burst. */
  #burstStartSecond = -2;
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
    const second = Math.floor(now / 1000);
    if (second > this.#lastRefusedSecond + 1) {
      // A whole second without refusals ended the last burst.
      this.#burstStartSecond = second;
      this.#burstStarted = true;
    }
    this.#lastRefusedSecond = second;
    return false;
  }

  /** Whether the refusal just made is the first of a burst. */
  get burstStarted(): boolean {
    return this.#burstStarted;
  }

  /**
   * Whole seconds the current burst has lasted: 0 while its refusals have
   * come within one second, N once each of N + 1 consecutive seconds had
   * one. Read it right after a refusal.
   */
  get floodSeconds(): number {
    return this.#lastRefusedSecond - this.#burstStartSecond;
  }
}
