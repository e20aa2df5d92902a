import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../../lobbies/world/prng.js';
import { MAX_NEIGHBOUR_RANGES, SpatialGrid } from '../../../../lobbies/world/spatial-grid.js';

function torusDelta(a: number, b: number, size: number): number {
  let d = Math.abs(a - b);
  if (d > size / 2) d = size - d;
  return d;
}

function bruteForce(
  px: number,
  py: number,
  r: number,
  x: Float32Array,
  y: Float32Array,
  n: number,
  size: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const dx = torusDelta(x[i], px, size);
    const dy = torusDelta(y[i], py, size);
    if (dx * dx + dy * dy < r * r) out.push(i);
  }
  return out;
}

/** Particles spread uniformly plus clumps hugging the seams and corners. */
function scatter(size: number, n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = createPrng(seed);
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const edge = (): number =>
    rng.next() < 0.5 ? rng.next() * 2 : Math.fround(size - rng.next() * 2) % size;
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    x[i] = kind === 1 || kind === 3 ? edge() : Math.fround(rng.next() * size) % size;
    y[i] = kind === 2 || kind === 3 ? edge() : Math.fround(rng.next() * size) % size;
  }
  return { x, y };
}

describe('SpatialGrid', () => {
  it('lays out square cells no smaller than asked', () => {
    const grid = new SpatialGrid(1000, 16, 10);
    expect(grid.cols).toBe(62);
    expect(grid.cellSize).toBeGreaterThan(16);
    expect(grid.cells).toBe(62 * 62);
    expect(grid.cellStart.length).toBe(62 * 62 + 1);
    expect(grid.sortedIndex.length).toBe(10);
  });

  it('refuses a world under 3 cells across and bad arguments', () => {
    expect(() => new SpatialGrid(40, 16, 10)).toThrow(RangeError);
    expect(() => new SpatialGrid(0, 16, 10)).toThrow(RangeError);
    expect(() => new SpatialGrid(100, 0, 10)).toThrow(RangeError);
    expect(() => new SpatialGrid(100, 10, -1)).toThrow(RangeError);
  });

  it('counting-sorts particles into their cells, stably', () => {
    const size = 200;
    const n = 3000;
    const { x, y } = scatter(size, n, 1);
    const grid = new SpatialGrid(size, 16, n);
    grid.rebuild(x, y, n);
    expect(grid.count).toBe(n);
    expect(grid.cellStart[0]).toBe(0);
    expect(grid.cellStart[grid.cells]).toBe(n);
    const seen = new Uint8Array(n);
    for (let c = 0; c < grid.cells; c++) {
      expect(grid.cellStart[c + 1] - grid.cellStart[c]).toBe(grid.cellCount[c]);
      let prev = -1;
      for (let k = grid.cellStart[c]; k < grid.cellStart[c + 1]; k++) {
        const i = grid.sortedIndex[k];
        expect(i).toBeGreaterThan(prev);
        prev = i;
        seen[i]++;
        expect(grid.cellOf(x[i], y[i])).toBe(c);
        const col = c % grid.cols;
        const row = Math.floor(c / grid.cols);
        expect(x[i]).toBeGreaterThanOrEqual(col * grid.cellSize - 1e-9);
        expect(x[i]).toBeLessThan((col + 1) * grid.cellSize + 1e-9);
        expect(y[i]).toBeGreaterThanOrEqual(row * grid.cellSize - 1e-9);
        expect(y[i]).toBeLessThan((row + 1) * grid.cellSize + 1e-9);
      }
    }
    expect(seen.every((v) => v === 1)).toBe(true);
  });

  it('puts a point just under size in the last cell, not past it', () => {
    const grid = new SpatialGrid(100, 10, 1);
    const justUnder = Math.fround(100 - 1e-5);
    expect(grid.cellOf(justUnder, justUnder)).toBe(grid.cells - 1);
  });

  it('rebuilds with fewer particles and refuses more than its capacity', () => {
    const { x, y } = scatter(100, 50, 2);
    const grid = new SpatialGrid(100, 10, 50);
    grid.rebuild(x, y, 50);
    grid.rebuild(x, y, 20);
    expect(grid.cellStart[grid.cells]).toBe(20);
    expect(() => grid.rebuild(x, y, 51)).toThrow(RangeError);
  });

  it('describes every 3x3 neighbourhood as exactly its nine cells', () => {
    // size 30 with cells of 10 is the 3-column minimum, where every row wraps.
    for (const size of [30, 100]) {
      const n = 400;
      const { x, y } = scatter(size, n, 3);
      const grid = new SpatialGrid(size, 9.9, n);
      expect(grid.cols).toBe(size === 30 ? 3 : 10);
      grid.rebuild(x, y, n);
      const ranges = new Int32Array(2 * MAX_NEIGHBOUR_RANGES);
      const shifts = new Float64Array(2 * MAX_NEIGHBOUR_RANGES);
      const cols = grid.cols;
      for (let c = 0; c < grid.cells; c++) {
        const nr = grid.neighbourRanges(c, ranges, shifts);
        expect(nr).toBeGreaterThanOrEqual(3);
        expect(nr).toBeLessThanOrEqual(MAX_NEIGHBOUR_RANGES);
        const got: number[] = [];
        for (let r = 0; r < nr; r++) {
          for (let k = ranges[2 * r]; k < ranges[2 * r + 1]; k++) got.push(grid.sortedIndex[k]);
        }
        const row = Math.floor(c / cols);
        const col = c % cols;
        const want: number[] = [];
        for (let dr = -1; dr <= 1; dr++) {
          for (let dc = -1; dc <= 1; dc++) {
            const cell = ((row + dr + cols) % cols) * cols + ((col + dc + cols) % cols);
            for (let k = grid.cellStart[cell]; k < grid.cellStart[cell + 1]; k++) {
              want.push(grid.sortedIndex[k]);
            }
          }
        }
        expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
      }
    }
  });

  it("a quadrant block is the 2x2 cells on the point's side and holds its half-cell disc", () => {
    for (const size of [30, 100]) {
      const n = 1000;
      const { x, y } = scatter(size, n, 4);
      const grid = new SpatialGrid(size, 9.9, n);
      grid.rebuild(x, y, n);
      const ranges = new Int32Array(2 * MAX_NEIGHBOUR_RANGES);
      const shifts = new Float64Array(2 * MAX_NEIGHBOUR_RANGES);
      const cols = grid.cols;
      const c = grid.cellSize;
      const rng = createPrng(size);
      for (let q = 0; q < 300; q++) {
        // Every quadrant of corner, edge and inner cells.
        const px =
          q % 3 === 0 ? rng.next() * c : q % 3 === 1 ? size - rng.next() * c : rng.next() * size;
        const py =
          q % 5 < 2 ? rng.next() * c : q % 5 < 4 ? size - rng.next() * c : rng.next() * size;
        const cell = grid.cellOf(px, py);
        const row = Math.floor(cell / cols);
        const col = cell % cols;
        const lowX = px < (col + 0.5) * c;
        const lowY = py < (row + 0.5) * c;
        const nr = grid.quadrantRanges(cell, lowX, lowY, ranges, shifts);
        expect(nr).toBeGreaterThanOrEqual(2);
        expect(nr).toBeLessThanOrEqual(4);
        const got: number[] = [];
        let far = 0;
        for (let r = 0; r < nr; r++) {
          for (let k = ranges[2 * r]; k < ranges[2 * r + 1]; k++) {
            const i = grid.sortedIndex[k];
            got.push(i);
            // The shift must bring the particle next to the point.
            if (Math.abs(x[i] + shifts[2 * r] - px) > 2 * c + 1e-3) far++;
            if (Math.abs(y[i] + shifts[2 * r + 1] - py) > 2 * c + 1e-3) far++;
          }
        }
        expect(far).toBe(0);
        const lo = lowX ? col - 1 : col;
        const top = lowY ? row - 1 : row;
        const want: number[] = [];
        for (const rr of [top, top + 1]) {
          for (const cc of [lo, lo + 1]) {
            const k0 = ((rr + cols) % cols) * cols + ((cc + cols) % cols);
            for (let k = grid.cellStart[k0]; k < grid.cellStart[k0 + 1]; k++)
              want.push(grid.sortedIndex[k]);
          }
        }
        expect(got.sort((a, b) => a - b)).toEqual(want.sort((a, b) => a - b));
        const inDisc = bruteForce(px, py, c / 2, x, y, n, size);
        const block = new Set(got);
        expect(inDisc.filter((i) => !block.has(i))).toEqual([]);
      }
    }
  });

  it('query returns exactly the brute-force neighbour set, across the seams', () => {
    // size 30 with cells of 10 is the 3-column minimum, where every row wraps.
    for (const [size, minCell, n] of [
      [1000, 16, 20_000],
      [100, 8, 2_000],
      [30, 9.9, 300],
    ]) {
      const { x, y } = scatter(size, n, size);
      const grid = new SpatialGrid(size, minCell, n);
      grid.rebuild(x, y, n);
      const out = new Int32Array(n);
      const rng = createPrng(size + 1);
      let nonEmpty = 0;
      let seamPairs = 0;
      for (let q = 0; q < 400; q++) {
        // Half the query points sit within one radius of a seam or corner.
        const nearEdge = q % 2 === 0;
        const px = nearEdge
          ? q % 4 === 0
            ? rng.next() * minCell
            : size - rng.next() * minCell
          : rng.next() * size;
        const py = nearEdge && q % 8 < 4 ? size - rng.next() * minCell : rng.next() * size;
        // cellSize / 2 and below go through the quadrant block.
        for (const r of [minCell, grid.cellSize, grid.cellSize / 2, minCell / 3]) {
          const found = grid.query(px, py, r, x, y, out);
          const got = Array.from(out.subarray(0, found)).sort((a, b) => a - b);
          const want = bruteForce(px, py, r, x, y, n, size);
          expect(got).toEqual(want);
          if (found > 0) nonEmpty++;
          for (const i of want)
            if (Math.abs(x[i] - px) > size / 2 || Math.abs(y[i] - py) > size / 2) seamPairs++;
        }
      }
      // The comparison must not pass vacuously.
      expect(nonEmpty).toBeGreaterThan(400);
      expect(seamPairs).toBeGreaterThan(50);
    }
  });

  it('query wraps points given outside the world', () => {
    const { x, y } = scatter(100, 500, 9);
    const grid = new SpatialGrid(100, 10, 500);
    grid.rebuild(x, y, 500);
    const a = new Int32Array(500);
    const b = new Int32Array(500);
    const na = grid.query(2, 98, 9, x, y, a);
    const nb = grid.query(102, -2, 9, x, y, b);
    expect(na).toBeGreaterThan(0);
    expect(Array.from(b.subarray(0, nb)).sort()).toEqual(Array.from(a.subarray(0, na)).sort());
  });

  it('query refuses a radius beyond the cell size', () => {
    const grid = new SpatialGrid(100, 10, 1);
    expect(() =>
      grid.query(
        0,
        0,
        grid.cellSize * 1.01,
        new Float32Array(1),
        new Float32Array(1),
        new Int32Array(1),
      ),
    ).toThrow(RangeError);
  });
});
