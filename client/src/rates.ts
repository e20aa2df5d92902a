/**
 * Counters the HUD and the benchmark read: events or bytes per second over a
 * sliding window, and timings of the per-frame work (decode, interpolate,
 * draw) with means and a recent p95. All times are caller-supplied
 * milliseconds, so tests drive them by hand.
 */

/** Sum of amounts added in the last `windowMs`, per second. */
export class WindowedRate {
  readonly #windowMs: number;
  readonly #bucketMs: number;
  readonly #buckets: Float64Array;
  #bucketIndex = -1;

  constructor(windowMs = 1000, buckets = 8) {
    this.#windowMs = windowMs;
    this.#bucketMs = windowMs / buckets;
    this.#buckets = new Float64Array(buckets);
  }

  add(amount: number, nowMs: number): void {
    this.#roll(nowMs);
    this.#buckets[this.#bucketIndex % this.#buckets.length] += amount;
  }

  /** Per second, over the window ending at `nowMs` (the current partial bucket included). */
  perSecond(nowMs: number): number {
    this.#roll(nowMs);
    let sum = 0;
    for (const value of this.#buckets) sum += value;
    // The buckets cover the full older ones plus the part of the current one elapsed so far.
    const covered = this.#windowMs - this.#bucketMs + (nowMs - this.#bucketIndex * this.#bucketMs);
    return (sum * 1000) / Math.max(covered, this.#bucketMs);
  }

  /** Moves to the bucket of `nowMs`, zeroing the ones passed over. */
  #roll(nowMs: number): void {
    const index = Math.floor(nowMs / this.#bucketMs);
    if (this.#bucketIndex < 0) this.#bucketIndex = index;
    const n = this.#buckets.length;
    for (let i = Math.max(this.#bucketIndex + 1, index - n + 1); i <= index; i++)
      this.#buckets[i % n] = 0;
    if (index > this.#bucketIndex) this.#bucketIndex = index;
  }
}

/** Timing of one kind of work: total, count, and the last `keep` samples for percentiles. */
export class Timing {
  count = 0;
  totalMs = 0;
  readonly #recent: Float64Array;
  #next = 0;

  constructor(keep = 600) {
    this.#recent = new Float64Array(keep);
  }

  add(ms: number): void {
    this.count++;
    this.totalMs += ms;
    this.#recent[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#recent.length;
  }

  get meanMs(): number {
    return this.count === 0 ? 0 : this.totalMs / this.count;
  }

  /** The p-quantile (0..1) of the recent samples. */
  recentQuantile(p: number): number {
    const n = Math.min(this.count, this.#recent.length);
    if (n === 0) return 0;
    const sorted = Array.from(this.#recent.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor(p * n))];
  }

  reset(): void {
    this.count = 0;
    this.totalMs = 0;
    this.#next = 0;
  }
}
