import { describe, expect, it } from 'vitest';
import { Timing, WindowedRate } from '../../../client/src/rates.js';

describe('WindowedRate', () => {
  it('reports a steady rate per second', () => {
    const rate = new WindowedRate(1000);
    for (let t = 0; t < 3000; t += 1000 / 60) rate.add(1, t);
    expect(rate.perSecond(3000)).toBeGreaterThan(55);
    expect(rate.perSecond(3000)).toBeLessThan(65);
  });

  it('forgets what is older than the window', () => {
    const rate = new WindowedRate(1000);
    rate.add(5000, 100);
    // One second's worth of window (7 full buckets of 125 ms and 75 ms of the 8th).
    expect(rate.perSecond(200)).toBeCloseTo(5000 / 0.95, 6);
    expect(rate.perSecond(1500)).toBe(0);
    expect(rate.perSecond(60_000)).toBe(0);
  });
});

describe('Timing', () => {
  it('keeps mean and a recent p95', () => {
    const timing = new Timing(100);
    for (let i = 1; i <= 100; i++) timing.add(i);
    expect(timing.meanMs).toBe(50.5);
    expect(timing.recentQuantile(0.95)).toBe(96);
    for (let i = 0; i < 100; i++) timing.add(1);
    expect(timing.recentQuantile(0.95)).toBe(1);
    expect(timing.count).toBe(200);
  });
});
