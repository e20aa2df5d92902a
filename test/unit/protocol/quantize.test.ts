import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../lobbies/world/prng.js';
import {
  dequantize,
  MAX_QUANT_BITS,
  MAX_QUANT_ERROR,
  quantBitsFor,
  quantizePositions,
} from '../../../protocol/quantize.js';

/** The world's seeded PRNG (mulberry32), so a failure reproduces. */
const prng = (seed: number): (() => number) => createPrng(seed).next;

/** Distance on a circle of circumference `size`. */
function torusDistance(a: number, b: number, size: number): number {
  const d = Math.abs(a - b) % size;
  return Math.min(d, size - d);
}

function quantizeOne(v: number, size: number, bits: number): number {
  const out = new Uint16Array(2);
  quantizePositions([v], [0], 1, size, bits, out);
  return out[0];
}

describe('quantBitsFor', () => {
  it.each([
    [1000, 14],
    [6553, 16],
    [6553.6, 16],
    [100, 10],
    [102.4, 10],
    [102.41, 11],
    [819.2, 13],
    [819.3, 14],
    [1638.4, 14],
    [1638.5, 15],
    [0.2, 1],
    [0.1, 1],
    [0.2001, 2],
    [4000, 16],
    [2000, 15],
  ])('worldSize %d needs %d bits', (size, bits) => {
    expect(quantBitsFor(size)).toBe(bits);
  });

  it('picks the smallest bit count whose step meets the bound', () => {
    const rand = prng(1);
    for (let i = 0; i < 2000; i++) {
      const size = 0.01 + rand() * 6553;
      const bits = quantBitsFor(size);
      expect(size / 2 ** bits).toBeLessThanOrEqual(2 * MAX_QUANT_ERROR);
      if (bits > 1) expect(size / 2 ** (bits - 1)).toBeGreaterThan(2 * MAX_QUANT_ERROR);
    }
  });

  it.each([0, -1, 6553.7, 10000, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses worldSize %d with a RangeError',
    (size) => {
      expect(() => quantBitsFor(size)).toThrow(RangeError);
    },
  );
});

describe('quantizePositions / dequantize', () => {
  it('stays within MAX_QUANT_ERROR on the torus, including the edges', () => {
    const rand = prng(2);
    for (const size of [0.15, 1, 100, 1000, 1234.5, 4096, 6553, 6553.6]) {
      const bits = quantBitsFor(size);
      const step = size / 2 ** bits;
      const edges = [0, step / 2, step / 2 - 1e-9, step / 2 + 1e-9, size / 2, size - step / 2];
      edges.push(size - step / 2 + 1e-9, size - 1e-9, size - Number.EPSILON * size);
      const values = [...edges];
      for (let i = 0; i < 5000; i++) values.push(rand() * size);
      const out = new Uint16Array(2 * values.length);
      quantizePositions(values, values, values.length, size, bits, out);
      let worst = 0;
      for (let i = 0; i < values.length; i++) {
        expect(out[2 * i]).toBeLessThan(2 ** bits);
        expect(out[2 * i + 1]).toBe(out[2 * i]);
        const err = torusDistance(dequantize(out[2 * i], size, bits), values[i], size);
        worst = Math.max(worst, err);
      }
      // 1e-9 absorbs float rounding in the formula; the bound itself is exact.
      expect(worst, `size ${size}, bits ${bits}`).toBeLessThanOrEqual(MAX_QUANT_ERROR + 1e-9);
    }
  });

  it('wraps the top edge to code 0, matching the torus', () => {
    const size = 1000;
    const bits = 14;
    const step = size / 2 ** bits;
    expect(quantizeOne(size - 1e-9, size, bits)).toBe(0);
    expect(quantizeOne(size - step * 0.4, size, bits)).toBe(0);
    expect(quantizeOne(size - step * 0.6, size, bits)).toBe(2 ** bits - 1);
    // An unwrapped coordinate lands on the same code as its wrapped twin.
    expect(quantizeOne(size, size, bits)).toBe(0);
    expect(quantizeOne(-step * 0.6, size, bits)).toBe(2 ** bits - 1);
    expect(quantizeOne(size + 3 * step, size, bits)).toBe(3);
    // 16 bits: the mask is the whole u16 range.
    expect(quantizeOne(6553.6 - 1e-9, 6553.6, MAX_QUANT_BITS)).toBe(0);
  });

  it('uses the documented formula, interleaves x, y and writes nothing past 2*count', () => {
    const out = new Uint16Array(8).fill(0xbeef);
    // 999.99 * 16.384 = 16383.84 rounds to 16384, which wraps to 0.
    // 500.03 * 16.384 = 8192.49 rounds down; 10 * 16.384 = 163.84 rounds up.
    quantizePositions([0, 250, 500.03], [999.99, 1, 10], 3, 1000, 14, out);
    expect(Array.from(out)).toEqual([0, 0, 4096, 16, 8192, 164, 0xbeef, 0xbeef]);
  });

  it('dequantizes to q * size / 2**bits', () => {
    expect(dequantize(0, 1000, 14)).toBe(0);
    expect(dequantize(8192, 1000, 14)).toBe(500);
    expect(dequantize(16383, 1000, 14)).toBeCloseTo(1000 - 1000 / 16384, 12);
  });

  it('refuses bad parameters and short arrays', () => {
    const out = new Uint16Array(4);
    expect(() => quantizePositions([1, 2], [1, 2], 2, 1000, 0, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2], [1, 2], 2, 1000, 17, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2], [1, 2], 2, 1000, 2.5, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2], [1, 2], 2, 0, 14, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2], [1, 2], 3, 1000, 14, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2, 3], [1, 2, 3], 3, 1000, 14, out)).toThrow(RangeError);
    expect(() => quantizePositions([1, 2], [1, 2], -1, 1000, 14, out)).toThrow(RangeError);
  });
});
