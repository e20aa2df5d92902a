import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../../lobbies/world/prng.js';

function draw(seed: number, n: number): number[] {
  const rng = createPrng(seed);
  return Array.from({ length: n }, () => rng.next());
}

describe('createPrng', () => {
  it('replays the same sequence for the same seed', () => {
    expect(draw(1234, 100)).toEqual(draw(1234, 100));
  });

  it('gives different sequences for different seeds', () => {
    const a = draw(1, 100);
    const b = draw(2, 100);
    const same = a.filter((v, i) => v === b[i]).length;
    expect(same).toBe(0);
  });

  it('reduces seeds to uint32', () => {
    expect(draw(-1, 10)).toEqual(draw(0xffffffff, 10));
    expect(draw(2 ** 32 + 5, 10)).toEqual(draw(5, 10));
  });

  it('stays in [0, 1) and is roughly uniform', () => {
    const rng = createPrng(99);
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.next();
      if (!(v >= 0 && v < 1)) outside++;
      sum += v;
      bins[Math.floor(v * 10)]++;
    }
    expect(outside).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(n / 100);
  });

  it('int(n) covers exactly [0, n)', () => {
    const rng = createPrng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = rng.int(6);
      expect(Number.isInteger(v) && v >= 0 && v < 6).toBe(true);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => rng.int(0)).toThrow(RangeError);
    expect(() => rng.int(1.5)).toThrow(RangeError);
  });

  it('range(min, max) stays within its bounds', () => {
    const rng = createPrng(3);
    for (let i = 0; i < 1000; i++) {
      const v = rng.range(-5, 5);
      expect(v >= -5 && v < 5).toBe(true);
    }
  });

  it('restores a snapshot and replays from it', () => {
    const rng = createPrng(42);
    rng.next();
    const snap = rng.state();
    const after = [rng.next(), rng.next(), rng.next()];
    rng.next();
    rng.restore(snap);
    expect([rng.next(), rng.next(), rng.next()]).toEqual(after);
  });

  it('refuses a non-finite seed', () => {
    expect(() => createPrng(Number.NaN)).toThrow(RangeError);
  });
});
