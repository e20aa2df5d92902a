import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DELTA_BLOCK,
  deltaSizeUpperBound,
  encodeDelta,
  encodeKeyframe,
  FrameDecoder,
  type QuantizedFrame,
  RICE_ESCAPE,
} from '../../../protocol/frame-codec.js';
import {
  codes,
  decoderAt,
  decoderWith,
  flock,
  frame,
  moved,
  prng,
  randomFrame,
  roundTrip,
} from './frame-test-helpers.js';

/** Reads `width`-bit LSB-first fields from `data`, as PROTOCOL.md specifies the bit stream. */
function fields(data: Uint8Array, widths: number[]): number[] {
  let bit = 0;
  return widths.map((w) => {
    let v = 0;
    for (let i = 0; i < w; i++, bit++) v |= ((data[bit >> 3] >> (bit & 7)) & 1) << i;
    return v;
  });
}

describe('keyframes', () => {
  it('packs x, y per particle as bits-bit fields, LSB-first, zero-padded to a byte', () => {
    // 0x1234, 0x2bcd, 0x0001, 0x3f00 at 14 bits: 56 bits, 7 bytes.
    const data = encodeKeyframe(frame(7, [0x1234, 0x2bcd, 0x0001, 0x3f00]), 14);
    expect(Array.from(data)).toEqual([0x34, 0x52, 0xf3, 0x1a, 0x00, 0x00, 0xfc]);
    expect(fields(data, [14, 14, 14, 14])).toEqual([0x1234, 0x2bcd, 0x0001, 0x3f00]);
    // 3 bits: 1,2,3 → 0b011_010_001 = 0xd1, 0b0; 2 particles = 12 bits → 2 bytes.
    expect(Array.from(encodeKeyframe(frame(0, [1, 2, 3, 4]), 3))).toEqual([0xd1, 0x08]);
  });

  it('round-trips exactly, ceil(2·n·bits/8) bytes, and ignores codes past count', () => {
    const rand = prng(10);
    for (const bits of [1, 10, 14, 16]) {
      const f = randomFrame(3, 1000, bits, rand);
      const data = encodeKeyframe({ ...f, count: 999 }, bits);
      expect(data.length).toBe(Math.ceil((2 * 999 * bits) / 8));
      const dec = new FrameDecoder(bits);
      expect(dec.tick).toBe(-1);
      expect(dec.count).toBe(0);
      dec.applyKeyframe(3, 999, data);
      expect(dec.tick).toBe(3);
      expect(dec.count).toBe(999);
      expect(dec.positions).toEqual(f.positions.subarray(0, 2 * 999));
    }
  });

  it('handles count 0', () => {
    const data = encodeKeyframe(frame(0, []), 14);
    expect(data.length).toBe(0);
    const dec = new FrameDecoder(14);
    dec.applyKeyframe(0, 0, data);
    expect(dec.tick).toBe(0);
    expect(dec.positions.length).toBe(0);
  });

  it('replaces whatever the decoder held, even an older tick, and drops its prior', () => {
    const rand = prng(11);
    const a = randomFrame(50, 100, 14, rand);
    const a2 = moved(a, 14, 10, rand);
    const b = randomFrame(5, 40, 14, rand);
    const dec = decoderWith(a, a2, 14);
    dec.applyKeyframe(b.tick, b.count, encodeKeyframe(b, 14));
    expect(dec.tick).toBe(5);
    expect(dec.priorTick).toBe(-1);
    expect(dec.positions).toEqual(codes(b));
  });
});

describe('delta layout', () => {
  it('matches the documented bits for a first-order block and a spawned tail', () => {
    const base = frame(1, [100, 200]);
    // dx = +3 → zigzag 6, kx = 2: '1' '0' then 6 mod 4 = 0b10 LSB-first '0' '1'.
    // dy = -2 → zigzag 3, ky = 1: '1' '0' then '1'. Header kx | ky << 4 = 0x12.
    // Then the spawned particle's 14-bit fields.
    const next = frame(2, [103, 198, 0x0102, 0x0304]);
    const data = encodeDelta(base, next, 14);
    expect(fields(data, [4, 4, 1, 1, 2, 1, 1, 1, 14, 14])).toEqual([
      2, 1, 1, 0, 2, 1, 0, 1, 0x0102, 0x0304,
    ]);
    expect(data.length).toBe(Math.ceil((8 + 4 + 3 + 28) / 8));
    const dec = decoderAt(base, 14);
    dec.applyDelta(2, 1, 2, data);
    expect(Array.from(dec.positions)).toEqual([103, 198, 0x0102, 0x0304]);
  });

  it('codes a second-order delta against base + (base − prior)', () => {
    const prior = frame(1, [100, 200]);
    const base = frame(2, [103, 198]);
    // Prediction (106, 196); actual (107, 196): residuals +1 (zigzag 2, k 1), 0 (k 0).
    const next = frame(3, [107, 196]);
    const data = roundTrip(base, next, 14, prior);
    expect(fields(data, [4, 4, 1, 1, 1, 1])).toEqual([1, 0, 1, 0, 0, 0]);
    expect(Array.from(data)).toEqual([0x01, 0x01]);
  });

  it('scales the prior motion by the gaps, rounding halves up', () => {
    // g0 = 2, g1 = 1: s = floor((2v + 2) / 4): v = 1 → 1, v = -1 → 0, v = 5 → 3, v = -5 → -2.
    const prior = frame(4, [1000, 1000, 2000, 2000]);
    const base = frame(6, [1001, 999, 2005, 1995]);
    const exact = frame(7, [1002, 999, 2008, 1993]);
    const data = roundTrip(base, exact, 14, prior);
    // Every residual is 0: header 0x00, then four '0' codes and padding.
    expect(Array.from(data)).toEqual([0, 0]);
  });

  it('predicts particles spawned between prior and base first order', () => {
    const prior = frame(10, [500, 600]);
    const base = frame(11, [505, 600, 9000, 42]);
    // Particle 1: first order from (9000, 42) → residuals 3, -1.
    const next = frame(12, [510, 600, 9003, 41, 16000, 3]);
    const data = roundTrip(base, next, 14, prior);
    const [kx, ky, ...rest] = fields(data, [4, 4]);
    expect(rest).toEqual([]);
    expect(kx).toBeGreaterThan(0); // x residuals 0 and 3
    expect(ky).toBe(0); // y residuals 0 and -1
  });

  it('gives each block of DELTA_BLOCK particles its own Rice parameters', () => {
    expect(DELTA_BLOCK).toBe(32);
    const bits = 14;
    const base = randomFrame(0, DELTA_BLOCK + 1, bits, prng(12));
    const next = { ...base, tick: 1, positions: base.positions.slice() };
    next.positions[2 * DELTA_BLOCK] = (next.positions[2 * DELTA_BLOCK] + 100) & 16383;
    const data = roundTrip(base, next, bits);
    // Block 0: nothing moved: k 0/0 and 64 one-bit zeros. Block 1: dx 100 → zigzag 200.
    const block0 = fields(data, [4, 4]);
    expect(block0).toEqual([0, 0]);
    const at = 8 + 64;
    const block1 = fields(data.subarray(at >> 3), [4, 4]);
    expect(block1[0]).toBe(7); // floor(log2(200)) = 7: 200 = 1·128 + 72 → '1' '0' + 7 bits
    expect(block1[1]).toBe(0);
  });

  it('codes a step across the wrap seam as a small number, both directions, both orders', () => {
    for (const bits of [1, 2, 14, 16]) {
      const top = 2 ** bits - 1;
      // x: top → 0 (+1), y: 0 → top (-1): each zigzag ≤ 2.
      const base = frame(0, [top, 0]);
      const next = frame(1, [0, top]);
      const data = roundTrip(base, next, bits);
      expect(data.length).toBeLessThanOrEqual(2);
      // And on: the second-order prediction crosses the seam too (exact: residual 0).
      const after = frame(2, [1 % 2 ** bits, (top - 1) & top]);
      expect(roundTrip(next, after, bits, base).length).toBeLessThanOrEqual(2);
    }
    const rand = prng(14);
    const bits = 14;
    const positions: number[] = [];
    for (let i = 0; i < 500; i++) {
      const near = Math.floor(rand() * 10);
      positions.push(i % 2 === 0 ? 16383 - near : near, i % 3 === 0 ? near : 16383 - near);
    }
    const base = frame(0, positions);
    const next = moved(base, bits, 20, rand);
    // |d| ≤ 20 → zigzag ≤ 40: at most k = 5, so about 7 bits per coordinate.
    expect(roundTrip(base, next, bits).length).toBeLessThan(500 * 2);
  });

  it('escapes a far jump: sixteen ones, then z − 16·2^k in bits bits', () => {
    const base = frame(0, [100, 100, 200, 200]);
    const next = frame(1, [101, 100, 8200, 201]);
    const data = roundTrip(base, next, 14);
    // x: zigzags 2 and 16000, mean 8001 → k 12: 16000 >> 12 = 3, no escape. Force one: many small, one far.
    expect(data.length).toBeGreaterThan(0);
    const many: number[] = [];
    for (let i = 0; i < 32; i++) many.push(1000 + i, 1000);
    const from = frame(0, many);
    const to = frame(
      1,
      many.map((q, j) => (j === 0 ? q + 8000 : j % 2 === 0 ? q + 1 : q)),
    );
    const escaped = roundTrip(from, to, 14);
    const [kx] = fields(escaped, [4]);
    expect(16000 >> kx).toBeGreaterThanOrEqual(RICE_ESCAPE);
    const head = fields(escaped, [4, 4, RICE_ESCAPE, 14]);
    expect(head[2]).toBe(2 ** RICE_ESCAPE - 1);
    expect(head[3]).toBe(16000 - (RICE_ESCAPE << kx));
  });
});

describe('delta round trips', () => {
  it('is exact for random small movement at several bit widths, both orders', () => {
    const rand = prng(20);
    for (const bits of [1, 3, 8, 14, 16]) {
      const prior = randomFrame(10, 777, bits, rand);
      const base = moved(prior, bits, 16, rand);
      roundTrip(base, moved(base, bits, 16, rand), bits);
      roundTrip(base, moved(base, bits, 16, rand), bits, prior);
    }
  });

  it('is exact for maximal movement (any codes to any codes), within the size bound', () => {
    const rand = prng(21);
    for (const bits of [1, 7, 14, 15, 16]) {
      const prior = randomFrame(0, 1000, bits, rand);
      const base = randomFrame(1, 1000, bits, rand);
      const next = randomFrame(2, 1000, bits, rand);
      roundTrip(base, next, bits);
      roundTrip(base, next, bits, prior);
    }
    // The extremes: each axis moves by exactly -B/2 (the most negative residual).
    for (const bits of [1, 14, 16]) {
      const half = 2 ** (bits - 1);
      const base = frame(0, [0, half, half, 0, 2 ** bits - 1, 1]);
      const next = frame(
        1,
        base.positions.map((q) => (q + half) % 2 ** bits),
      );
      roundTrip(base, next, bits);
    }
  });

  it('appends spawned particles as bits-bit fields after section 1', () => {
    const rand = prng(22);
    for (const [m, n] of [
      [70, 100],
      [0, 5],
      [32, 33],
      [1, 1000],
    ]) {
      const base = randomFrame(0, m, 14, rand);
      const next = moved(base, 14, 16, rand, n - m);
      roundTrip(base, next, 14);
      if (m === 0) {
        // No section 1: the data is exactly a keyframe of the spawned particles.
        expect(encodeDelta(base, next, 14)).toEqual(encodeKeyframe(next, 14));
      }
    }
  });

  it('handles counts that are not a multiple of the block size, and count 0', () => {
    const rand = prng(23);
    for (const count of [0, 1, 2, 31, 32, 33, 63, 64, 65, 1007]) {
      const prior = randomFrame(0, count, 14, rand);
      const base = moved(prior, 14, 16, rand);
      roundTrip(base, moved(base, 14, 16, rand), 14, prior);
    }
    expect(encodeDelta(frame(0, []), frame(1, []), 14).length).toBe(0);
  });

  it('ignores codes past count in every frame', () => {
    const rand = prng(24);
    const prior = randomFrame(0, 100, 14, rand);
    const base = moved(prior, 14, 8, rand);
    const next = moved(base, 14, 8, rand);
    const a = encodeDelta({ ...base, count: 90 }, { ...next, count: 95 }, 14, {
      ...prior,
      count: 80,
    });
    const b = encodeDelta(
      { ...base, count: 90, positions: base.positions.slice(0, 180) },
      { ...next, count: 95, positions: next.positions.slice(0, 190) },
      14,
      { ...prior, count: 80, positions: prior.positions.slice(0, 160) },
    );
    expect(a).toEqual(b);
  });

  it('stays exact over many chained ticks with spawns, gaps and both orders', () => {
    const rand = prng(25);
    const bits = 14;
    let prior: QuantizedFrame | undefined;
    let current = randomFrame(0, 300, bits, rand);
    const dec = decoderAt(current, bits);
    for (let t = 0; t < 500; t++) {
      const spawned = t % 37 === 0 ? Math.floor(rand() * 40) : 0;
      const maxStep = t % 50 === 0 ? 16383 : 20;
      const next = moved(current, bits, maxStep, rand, spawned);
      next.tick = current.tick + 1 + (t % 3);
      const predict = prior !== undefined && t % 11 !== 0 ? prior : undefined;
      const data = encodeDelta(current, next, bits, predict);
      dec.applyDelta(next.tick, current.tick, next.count, data, predict?.tick);
      expect(dec.tick).toBe(next.tick);
      expect(dec.positions).toEqual(codes(next));
      prior = current;
      current = next;
    }
    expect(current.count).toBeGreaterThan(300);
  });

  it('applies a delta against an older base to a decoder that skipped frames', () => {
    const { bits, frames } = flock(2000, 12, 26);
    const dec = decoderWith(frames[0], frames[1], bits);
    dec.applyDelta(11, 1, 2000, encodeDelta(frames[1], frames[11], bits, frames[0]), 0);
    expect(dec.positions).toEqual(codes(frames[11]));
  });
});

describe('delta size', () => {
  it('costs under 0.6 bytes per particle second order, under 1.5 first order (10k, 60 Hz)', () => {
    const { bits, frames } = flock(10_000, 10, 30);
    expect(bits).toBe(14);
    for (let t = 2; t <= 10; t++) {
      const second = encodeDelta(frames[t - 1], frames[t], bits, frames[t - 2]);
      expect(second.length / 10_000).toBeLessThan(0.6);
      const first = encodeDelta(frames[t - 1], frames[t], bits);
      expect(first.length / 10_000).toBeLessThan(1.5);
      expect(second.length).toBeLessThan(0.6 * first.length);
    }
    // A 10-tick-old base predicted from the frame before it stays below a keyframe.
    const old = encodeDelta(frames[1], frames[10], bits, frames[0]);
    expect(old.length).toBeLessThan(encodeKeyframe(frames[10], bits).length / 2);
    expect(encodeKeyframe(frames[10], bits).length).toBe(10_000 * 3.5);
  });

  it('bounds every delta by deltaSizeUpperBound (every code escaped)', () => {
    expect(deltaSizeUpperBound(0, 0, 14)).toBe(0);
    expect(deltaSizeUpperBound(32, 32, 14)).toBe(Math.ceil((8 + 64 * 30) / 8));
    expect(deltaSizeUpperBound(33, 40, 14)).toBe(Math.ceil((16 + 66 * 30 + 14 * 14) / 8));
  });
});

describe('the layout as documented', () => {
  it('frame-codec.ts carries the same byte layout as docs/PROTOCOL.md "Particle data"', () => {
    const root = new URL('../../../', import.meta.url);
    const doc = readFileSync(new URL('docs/PROTOCOL.md', root), 'utf8');
    const section = doc.slice(doc.indexOf('## Particle data'));
    const start = section.indexOf('```text\n') + 8;
    const fromDoc = section.slice(start, section.indexOf('\n```', start));
    const header = readFileSync(new URL('protocol/frame-codec.ts', root), 'utf8');
    const copy = header
      .slice(header.indexOf('── Byte layout'), header.indexOf(' * Why this shape'))
      .split('\n')
      .slice(2, -2)
      .map((line) => line.replace(/^ \* ?/, ''))
      .join('\n');
    expect(fromDoc.length).toBeGreaterThan(1000);
    expect(copy).toBe(fromDoc);
  });
});
