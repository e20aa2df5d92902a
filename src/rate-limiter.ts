/**
 * Token bucket for one client's messages: `burst` tokens, refilled at
 * `perSecond`. Counts refusals in a row so the session can close a client
 * that keeps flooding instead of answering each message forever.
 */
export class RateLimiter {
  #tokens: number;
  #last: number;
  #refusedInARow = 0;

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
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#refusedInARow = 0;
      return true;
    }
    this.#refusedInARow++;
    return false;
  }

  get refusedInARow(): number {
    return this.#refusedInARow;
  }
}
