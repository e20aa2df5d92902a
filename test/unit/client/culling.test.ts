import { describe, expect, it } from 'vitest';
import { Culler, wrapSpans } from '../../../client/src/culling.js';

const W = 1000;

/** State (x, y, vx, vy per particle) from [x, y] pairs. */
const state = (points: [number, number][]) =>
  Float32Array.from(points.flatMap(([x, y]) => [x, y, 1, 2]));

describe('wrapSpans', () => {
  it('takes a view one world wide, up to rounding, as one copy', () => {
    expect(wrapSpans(0, 1000.0000000000001, W)).toEqual([{ offset: 0, from: 0, to: 1000 }]);
    expect(wrapSpans(-1e-13, 1000, W)).toEqual([{ offset: 0, from: 0, to: 1000 }]);
  });

  it('is one span when the view is inside the world', () => {
    expect(wrapSpans(100, 400, W)).toEqual([{ offset: 0, from: 100, to: 400 }]);
  });

  it('splits at the seam: the part past the edge is the next copy of the world', () => {
    expect(wrapSpans(900, 1100, W)).toEqual([
      { offset: 0, from: 900, to: 1000 },
      { offset: 1000, from: 0, to: 100 },
    ]);
    expect(wrapSpans(-50, 200, W)).toEqual([
      { offset: -1000, from: 950, to: 1000 },
      { offset: 0, from: 0, to: 200 },
    ]);
  });

  it('repeats the world when the view is wider than it', () => {
    const spans = wrapSpans(-500, 1700, W);
    expect(spans.map((s) => s.offset)).toEqual([-1000, 0, 1000]);
    expect(spans[1]).toEqual({ offset: 0, from: 0, to: 1000 });
  });
});

describe('Culler', () => {
  it('keeps only the particles in view, once each, with their velocities', () => {
    const culler = new Culler();
    const n = culler.cull(
      state([
        [50, 50],
        [500, 500],
        [950, 50],
        [550, 450],
      ]),
      4,
      { x0: 400, y0: 400, x1: 600, y1: 600 },
      W,
    );
    expect(n).toBe(2);
    expect(Array.from(culler.data.subarray(0, 8))).toEqual([500, 500, 1, 2, 550, 450, 1, 2]);
    expect(culler.copyCount).toBe(1);
    expect(Array.from(culler.copies.subarray(0, 2))).toEqual([0, 0]);
  });

  it('across the seam keeps the particles on both sides and asks for both copies', () => {
    const culler = new Culler();
    // View centred on the corner (1000, 1000) = (0, 0): four copies of the world meet there.
    const n = culler.cull(
      state([
        [980, 980],
        [10, 10],
        [980, 10],
        [10, 980],
        [500, 500],
      ]),
      5,
      { x0: 950, y0: 950, x1: 1050, y1: 1050 },
      W,
    );
    expect(n).toBe(4);
    expect(culler.copyCount).toBe(4);
    const copies = Array.from(culler.copies.subarray(0, 8));
    expect(copies).toEqual([0, 0, 0, 1000, 1000, 0, 1000, 1000]);
  });

  it('culls nothing away when the whole world is in view', () => {
    const culler = new Culler();
    const points: [number, number][] = Array.from({ length: 100 }, (_, i) => [
      i * 9.99,
      (i * 37) % 1000,
    ]);
    expect(culler.cull(state(points), 100, { x0: -200, y0: 0, x1: 1200, y1: 1000 }, W)).toBe(100);
    expect(culler.copyCount).toBe(3);
  });

  it('grows its buffer for more particles', () => {
    const culler = new Culler();
    const points: [number, number][] = Array.from({ length: 5000 }, (_, i) => [
      i % 1000,
      (i * 7) % 1000,
    ]);
    expect(culler.cull(state(points), 5000, { x0: 0, y0: 0, x1: 1000, y1: 1000 }, W)).toBe(5000);
    expect(culler.data.length).toBeGreaterThanOrEqual(20_000);
  });
});
