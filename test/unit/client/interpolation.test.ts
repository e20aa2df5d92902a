import { describe, expect, it } from 'vitest';
import { InterpolationBuffer } from '../../../client/src/interpolation.js';

// A 1000-unit world at 10 bits: one code is 1000 / 1024 world units.
const WORLD = 1000;
const BITS = 10;
const Q = WORLD / 2 ** BITS;
const RATE = 60;

const codes = (...xy: number[]) => Uint16Array.from(xy);

describe('InterpolationBuffer', () => {
  it('is empty before any frame', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    expect(buffer.sample(10).count).toBe(0);
    expect(buffer.newestTick).toBe(-1);
  });

  it('interpolates linearly between frames on their ticks, with velocity per second', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(10, codes(100, 200), 1);
    buffer.push(12, codes(110, 180), 1);
    const { count, data } = buffer.sample(11);
    expect(count).toBe(1);
    expect(data[0]).toBeCloseTo(105 * Q, 4);
    expect(data[1]).toBeCloseTo(190 * Q, 4);
    // 10 codes over 2 ticks at 60 ticks/s.
    expect(data[2]).toBeCloseTo(((10 * Q) / 2) * RATE, 3);
    expect(data[3]).toBeCloseTo(((-20 * Q) / 2) * RATE, 3);
  });

  it('takes the short way across the seam instead of sweeping the world', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    // x goes 1020 -> 4 (8 codes to the right, through 0); y goes 3 -> 1021 (6 codes up, through 0).
    buffer.push(1, codes(1020, 3), 1);
    buffer.push(2, codes(4, 1021), 1);
    const quarter = buffer.sample(1.25).data;
    expect(quarter[0]).toBeCloseTo(1022 * Q, 4);
    expect(quarter[1]).toBeCloseTo(1.5 * Q, 4);
    const threeQuarters = buffer.sample(1.75).data;
    expect(threeQuarters[0]).toBeCloseTo(2 * Q, 4);
    expect(threeQuarters[1]).toBeCloseTo(1022.5 * Q, 4);
    expect(threeQuarters[2]).toBeGreaterThan(0);
    expect(threeQuarters[3]).toBeLessThan(0);
    // Every sample stays inside the world.
    for (let t = 1; t <= 2; t += 0.05) {
      const d = buffer.sample(t).data;
      for (const v of [d[0], d[1]]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(WORLD);
      }
    }
  });

  it('spans a gap of skipped frames instead of stalling', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(100, codes(0, 0), 1);
    buffer.push(104, codes(40, 0), 1); // ticks 101-103 were skipped by the server
    expect(buffer.sample(101).data[0]).toBeCloseTo(10 * Q, 4);
    expect(buffer.sample(102).data[0]).toBeCloseTo(20 * Q, 4);
    expect(buffer.sample(103.5).data[0]).toBeCloseTo(35 * Q, 4);
  });

  it('holds the newest frame past its end and the oldest before its start', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(5, codes(10, 10), 1);
    buffer.push(6, codes(12, 10), 1);
    expect(buffer.sample(50).data[0]).toBeCloseTo(12 * Q, 4);
    // The last velocity is kept while holding, so colours stay put.
    expect(buffer.sample(50).data[2]).toBeCloseTo(2 * Q * RATE, 3);
    expect(buffer.sample(0).data[0]).toBeCloseTo(10 * Q, 4);
  });

  it('shows spawned particles where the newer frame has them', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(1, codes(10, 10), 1);
    buffer.push(2, codes(20, 10, 500, 600), 2);
    const { count, data } = buffer.sample(1.5);
    expect(count).toBe(2);
    expect(data[0]).toBeCloseTo(15 * Q, 4);
    expect(data[4]).toBeCloseTo(500 * Q, 4);
    expect(data[5]).toBeCloseTo(600 * Q, 4);
    expect(data[6]).toBe(0);
  });

  it('keeps a bounded number of frames, ignores stale ones, and copies what it is given', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE, 4);
    const shared = codes(0, 0);
    for (let tick = 1; tick <= 10; tick++) {
      shared[0] = tick;
      buffer.push(tick, shared, 1);
    }
    expect(buffer.size).toBe(4);
    expect(buffer.oldestTick).toBe(7);
    buffer.push(9, codes(999, 999), 1);
    expect(buffer.newestTick).toBe(10);
    expect(buffer.sample(8).data[0]).toBeCloseTo(8 * Q, 4);
    buffer.clear();
    expect(buffer.size).toBe(0);
  });
});
