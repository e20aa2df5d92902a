import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/rate-limiter.js';

/** A hand-driven time source; steps are binary fractions so token sums are exact. */
function fakeNow(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function takeMany(limiter: RateLimiter, n: number): boolean[] {
  return Array.from({ length: n }, () => limiter.tryTake());
}

describe('RateLimiter', () => {
  it('allows exactly `burst` messages at once, then refuses', () => {
    const clock = fakeNow();
    const limiter = new RateLimiter(8, 3, clock.now);
    expect(takeMany(limiter, 5)).toEqual([true, true, true, false, false]);
  });

  it('starts full regardless of the clock value at construction', () => {
    const clock = fakeNow(123_456.5);
    const limiter = new RateLimiter(1, 2, clock.now);
    expect(takeMany(limiter, 3)).toEqual([true, true, false]);
  });

  it('refills at perSecond: one token per 1000/perSecond ms, not before', () => {
    const clock = fakeNow();
    const limiter = new RateLimiter(8, 2, clock.now); // one token per 125 ms
    expect(takeMany(limiter, 2)).toEqual([true, true]);
    clock.advance(124);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(1);
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(250);
    expect(takeMany(limiter, 3)).toEqual([true, true, false]);
  });

  it('keeps fractional refill across refused attempts', () => {
    const clock = fakeNow();
    const limiter = new RateLimiter(8, 1, clock.now);
    expect(limiter.tryTake()).toBe(true);
    // Half a token at a time: the refusal in between must not lose the half.
    clock.advance(62.5);
    expect(limiter.tryTake()).toBe(false);
    clock.advance(62.5);
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.tryTake()).toBe(false);
  });

  it('never holds more than burst tokens after a long quiet spell', () => {
    const clock = fakeNow();
    const limiter = new RateLimiter(8, 4, clock.now);
    expect(takeMany(limiter, 4)).toEqual([true, true, true, true]);
    clock.advance(60_000);
    expect(takeMany(limiter, 6)).toEqual([true, true, true, true, false, false]);
  });

  it('sustains exactly perSecond messages per second once the burst is spent', () => {
    const clock = fakeNow();
    const limiter = new RateLimiter(8, 8, clock.now);
    expect(takeMany(limiter, 8).every(Boolean)).toBe(true);
    let allowed = 0;
    // Ten seconds of a client trying every 1/64 s (15.625 ms, exact in binary).
    for (let i = 0; i < 640; i++) {
      clock.advance(15.625);
      if (limiter.tryTake()) allowed++;
    }
    expect(allowed).toBe(80);
  });

  it('marks the first refusal of a burst, and only that one', () => {
    const clock = fakeNow(0);
    const limiter = new RateLimiter(8, 1, clock.now);
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.burstStarted).toBe(false);
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.burstStarted).toBe(true);
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.burstStarted).toBe(false);
    // A refilled token does not end the burst: refusals go on in the same second.
    clock.advance(125);
    expect(limiter.tryTake()).toBe(true);
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.burstStarted).toBe(false);
    // A whole second without refusals does.
    clock.advance(2000);
    limiter.tryTake();
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.burstStarted).toBe(true);
  });

  it('uses performance.now by default', () => {
    const limiter = new RateLimiter(1, 2);
    expect(takeMany(limiter, 3)).toEqual([true, true, false]);
    expect(limiter.burstStarted).toBe(true);
  });

  it('measures how long a steady flood at 10x the rate has lasted, whatever the refill does', () => {
    const clock = fakeNow(0);
    const limiter = new RateLimiter(8, 8, clock.now);
    takeMany(limiter, 8);
    // 80 messages a second: one token refills every 125 ms, so about every
    // tenth message is accepted; the burst goes on regardless.
    let accepted = 0;
    let burstsStarted = 0;
    for (let i = 0; i < 80 * 3; i++) {
      clock.advance(12.5);
      if (limiter.tryTake()) accepted++;
      if (limiter.burstStarted) burstsStarted++;
    }
    expect(accepted).toBeGreaterThan(20);
    expect(burstsStarted).toBe(1);
    // The first refusal came at 12.5 ms, the last message at 3000 ms.
    expect(limiter.floodSeconds).toBeCloseTo(2.9875, 6);
  });

  it('ends a flood after a whole second without refusals', () => {
    const clock = fakeNow(0);
    const limiter = new RateLimiter(8, 1, clock.now);
    limiter.tryTake();
    expect(limiter.tryTake()).toBe(false);
    // Refusals 999 ms apart keep the burst going...
    clock.advance(999);
    limiter.tryTake();
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.floodSeconds).toBeCloseTo(0.999, 6);
    // ...a whole quiet second ends it; the next refusal starts a new one.
    clock.advance(1000);
    limiter.tryTake();
    expect(limiter.tryTake()).toBe(false);
    expect(limiter.burstStarted).toBe(true);
    expect(limiter.floodSeconds).toBe(0);
  });

  it('never reports a flood for a client at the rate after one burst', () => {
    const clock = fakeNow(0);
    const limiter = new RateLimiter(8, 8, clock.now);
    takeMany(limiter, 9);
    for (let i = 0; i < 8 * 10; i++) {
      clock.advance(125);
      expect(limiter.tryTake()).toBe(true);
    }
    expect(limiter.floodSeconds).toBe(0);
  });
});
