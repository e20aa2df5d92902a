/**
 * Interpolation with view frames (presence masks): a particle present in
 * both frames glides (also from one tile to another, or across the seam:
 * identity is its index), one that just entered is drawn where it is now,
 * one that left is not drawn; whole frames and view frames mix.
 */
import { describe, expect, it } from 'vitest';
import { InterpolationBuffer } from '../../../client/src/interpolation.js';

const WORLD = 1000;
const BITS = 10;
const Q = WORLD / 2 ** BITS;
const RATE = 60;
const codes = (...xy: number[]) => Uint16Array.from(xy);
const mask = (...bits: number[]) => Uint8Array.from(bits);

/** The drawn particles as [x, y] in codes, sorted (the sample is packed, order is not identity). */
function drawn(buffer: InterpolationBuffer, tick: number): number[][] {
  const { count, data } = buffer.sample(tick);
  const out: number[][] = [];
  for (let i = 0; i < count; i++) out.push([data[4 * i] / Q, data[4 * i + 1] / Q]);
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

describe('InterpolationBuffer with view frames', () => {
  it('glides what both frames hold, places what entered, drops what left', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    // 0: stays in view and moves from one tile to another (100 → 140);
    // 1: leaves the view; 2: enters it (its stale codes 999 would slide it); 3: never in view.
    buffer.push(10, codes(100, 100, 300, 300, 999, 999, 7, 7), 4, mask(1, 1, 0, 0));
    buffer.push(12, codes(140, 100, 0, 0, 500, 500, 0, 0), 4, mask(1, 0, 1, 0));
    const mid = drawn(buffer, 11);
    expect(mid.length).toBe(2);
    expect(mid[0][0]).toBeCloseTo(120, 3);
    expect(mid[0][1]).toBeCloseTo(100, 3);
    expect(mid[1]).toEqual([500, 500]);
    // The one that entered has no velocity to show yet; the glider does.
    const { data } = buffer.sample(11);
    const glider = data[0] / Q < 200 ? 0 : 4;
    expect(data[glider + 2]).toBeCloseTo(((40 * Q) / 2) * RATE, 2);
    expect(data[4 - glider + 2]).toBe(0);
  });

  it('glides a held particle across the seam', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(1, codes(1020, 5), 1, mask(1));
    buffer.push(2, codes(4, 5), 1, mask(1));
    expect(drawn(buffer, 1.5)[0][0]).toBeCloseTo(0, 3);
  });

  it('mixes whole frames and view frames both ways', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(1, codes(10, 10, 20, 20, 30, 30), 3); // whole world
    buffer.push(2, codes(12, 10, 0, 0, 0, 0), 3, mask(1, 0, 0)); // zoomed in
    buffer.push(3, codes(14, 10, 22, 20, 32, 30), 3); // whole again
    expect(drawn(buffer, 1.5)).toEqual([[11, 10]]);
    const back = drawn(buffer, 2.5);
    // 0 glides; 1 and 2 come back where the whole frame has them.
    expect(back.length).toBe(3);
    expect(back[0][0]).toBeCloseTo(13, 3);
    expect(back.slice(1)).toEqual([
      [22, 20],
      [32, 30],
    ]);
    expect(buffer.newestCount).toBe(3);
  });

  it('counts the particles a view frame holds', () => {
    const buffer = new InterpolationBuffer(WORLD, BITS, RATE);
    buffer.push(1, codes(1, 1, 2, 2, 3, 3), 3, mask(0, 1, 1));
    expect(buffer.newestCount).toBe(2);
  });
});
