import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../lobbies/world/prng.js';
import {
  DELTA_BLOCK,
  deltaSizeUpperBound,
  encodeDelta,
  encodeKeyframe,
  FrameDecodeError,
  FrameDecodeErrorCode,
  type FrameDecodeErrorCodeValue,
  FrameDecoder,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';
import { quantBitsFor, quantizePositions } from '../../../protocol/quantize.js';

/** The world's seeded PRNG (mulberry32), so a failure reproduces. */
const prng = (seed: number): (() => number) => createPrng(seed).next;

const frame = (tick: number, positions: ArrayLike<number>): QuantizedFrame => ({
  tick,
  count: positions.length / 2,
  positions: Uint16Array.from(positions),
});

function randomFrame(
  tick: number,
  count: number,
  bits: number,
  rand: () => number,
): QuantizedFrame {
  const positions = new Uint16Array(2 * count);
  for (let i = 0; i < positions.length; i++) positions[i] = Math.floor(rand() * 2 ** bits);
  return { tick, count, positions };
}

/** `base` with every code moved by up to ±maxStep (mod 2**bits), plus `spawned` new particles. */
function moved(
  base: QuantizedFrame,
  bits: number,
  maxStep: number,
  rand: () => number,
  spawned = 0,
): QuantizedFrame {
  const count = base.count + spawned;
  const positions = new Uint16Array(2 * count);
  const mask = 2 ** bits - 1;
  for (let j = 0; j < 2 * base.count; j++) {
    const step = Math.round((rand() * 2 - 1) * maxStep);
    positions[j] = (base.positions[j] + step) & mask;
  }
  for (let j = 2 * base.count; j < 2 * count; j++) positions[j] = Math.floor(rand() * (mask + 1));
  return { tick: base.tick + 1, count, positions };
}

const codes = (f: QuantizedFrame): Uint16Array => f.positions.subarray(0, 2 * f.count);

function decoderAt(base: QuantizedFrame, bits: number): FrameDecoder {
  const dec = new FrameDecoder(bits);
  dec.applyKeyframe(base.tick, base.count, encodeKeyframe(base));
  return dec;
}

/** Encodes base → next, decodes it on a decoder holding base, checks exact equality. */
function roundTrip(base: QuantizedFrame, next: QuantizedFrame, bits: number): Uint8Array {
  const data = encodeDelta(base, next, bits);
  expect(data.length).toBeLessThanOrEqual(deltaSizeUpperBound(base.count, next.count, bits));
  const dec = decoderAt(base, bits);
  dec.applyDelta(next.tick, base.tick, next.count, data);
  expect(dec.tick).toBe(next.tick);
  expect(dec.count).toBe(next.count);
  expect(dec.positions).toEqual(codes(next));
  return data;
}

function expectDecodeError(fn: () => void, code: FrameDecodeErrorCodeValue): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FrameDecodeError);
    expect((error as FrameDecodeError).code).toBe(code);
    return;
  }
  expect.fail(`expected FrameDecodeError ${code}`);
}

/**
 * The realistic case: particles in a 1000-unit world at 20–50 units/s on
 * random headings, sampled at 60 Hz and quantized at the world's bits.
 */
function flock(
  count: number,
  ticks: number,
  seed: number,
): { bits: number; frames: QuantizedFrame[] } {
  const size = 1000;
  const bits = quantBitsFor(size);
  const rand = prng(seed);
  const x = new Float64Array(count);
  const y = new Float64Array(count);
  const vx = new Float64Array(count);
  const vy = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    x[i] = rand() * size;
    y[i] = rand() * size;
    const heading = rand() * 2 * Math.PI;
    const speed = 20 + rand() * 30;
    vx[i] = Math.cos(heading) * speed;
    vy[i] = Math.sin(heading) * speed;
  }
  const frames: QuantizedFrame[] = [];
  for (let tick = 0; tick <= ticks; tick++) {
    const positions = new Uint16Array(2 * count);
    quantizePositions(x, y, count, size, bits, positions);
    frames.push({ tick, count, positions });
    for (let i = 0; i < count; i++) {
      x[i] = (((x[i] + vx[i] / 60) % size) + size) % size;
      y[i] = (((y[i] + vy[i] / 60) % size) + size) % size;
    }
  }
  return { bits, frames };
}

describe('keyframes', () => {
  it('lays out u16 LE x, y per particle', () => {
    const data = encodeKeyframe(frame(7, [0x1234, 0xabcd, 0x0001, 0xff00]));
    expect(Array.from(data)).toEqual([0x34, 0x12, 0xcd, 0xab, 0x01, 0x00, 0x00, 0xff]);
  });

  it('round-trips exactly and ignores codes past count', () => {
    const rand = prng(10);
    for (const bits of [1, 10, 14, 16]) {
      const f = randomFrame(3, 1000, bits, rand);
      const data = encodeKeyframe({ ...f, count: 999 });
      expect(data.length).toBe(999 * 4);
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
    const data = encodeKeyframe(frame(0, []));
    expect(data.length).toBe(0);
    const dec = new FrameDecoder(14);
    dec.applyKeyframe(0, 0, data);
    expect(dec.tick).toBe(0);
    expect(dec.positions.length).toBe(0);
  });

  it('replaces whatever the decoder held, even an older tick (a restarted stream)', () => {
    const rand = prng(11);
    const a = randomFrame(50, 100, 14, rand);
    const b = randomFrame(5, 40, 14, rand);
    const dec = decoderAt(a, 14);
    dec.applyKeyframe(b.tick, b.count, encodeKeyframe(b));
    expect(dec.tick).toBe(5);
    expect(dec.positions).toEqual(codes(b));
  });
});

describe('delta layout', () => {
  it('matches the documented bytes for one block and a spawned tail', () => {
    const base = frame(1, [100, 200]);
    // dx = +3 → zigzag 6 (0b110, 3 bits); dy = -2 → zigzag 3 (0b11, 2 bits).
    // Stream LSB-first: x bits 0,1,1 then y bits 1,1 → 0b11110 = 30.
    // The spawned particle follows raw: 0x0102, 0x0304 little-endian.
    const next = frame(2, [103, 198, 0x0102, 0x0304]);
    const data = encodeDelta(base, next, 14);
    expect(Array.from(data)).toEqual([3, 2, 30, 0x02, 0x01, 0x04, 0x03]);
    const dec = decoderAt(base, 14);
    dec.applyDelta(2, 1, 2, data);
    expect(Array.from(dec.positions)).toEqual([103, 198, 0x0102, 0x0304]);
  });

  it('packs x values then y values LSB-first across byte boundaries', () => {
    // Five particles, dx = +1..+5 → zigzag 2,4,6,8,10 (width 4), dy = 0 (width 0).
    const base = frame(0, [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
    const next = frame(1, [11, 10, 12, 10, 13, 10, 14, 10, 15, 10]);
    const data = encodeDelta(base, next, 14);
    // 5 * 4 bits = 20 bits → 3 bytes: 0x42, 0x86, 0x0a.
    expect(Array.from(data)).toEqual([4, 0, 0x42, 0x86, 0x0a]);
  });

  it('splits particles into blocks of DELTA_BLOCK, each with its own widths', () => {
    expect(DELTA_BLOCK).toBe(32);
    const bits = 14;
    const base = randomFrame(0, DELTA_BLOCK + 1, bits, prng(12));
    const next = { ...base, tick: 1, positions: base.positions.slice() };
    next.positions[2 * DELTA_BLOCK] = (next.positions[2 * DELTA_BLOCK] + 1) & 16383; // dx = 1 in block 1
    const data = encodeDelta(base, next, bits);
    // Block 0: no movement → [0, 0]. Block 1: one particle, dx zigzag 2 (2 bits) → [2, 0, 0b10].
    expect(Array.from(data)).toEqual([0, 0, 2, 0, 2]);
    roundTrip(base, next, bits);
  });

  it('costs 2 bytes per block when nothing moved (width 0)', () => {
    const rand = prng(13);
    for (const count of [1, 31, 32, 33, 1000]) {
      const base = randomFrame(0, count, 14, rand);
      const data = roundTrip(base, { ...base, tick: 1 }, 14);
      expect(data.length).toBe(2 * Math.ceil(count / DELTA_BLOCK));
      expect(data.every((b) => b === 0)).toBe(true);
    }
  });

  it('encodes a step across the wrap seam as a small number, both directions', () => {
    for (const bits of [1, 2, 14, 16]) {
      const top = 2 ** bits - 1;
      // x: top → 0 (+1), y: 0 → top (-1): each zigzag ≤ 2, so width ≤ 2.
      const base = frame(0, [top, 0]);
      const next = frame(1, [0, top]);
      const data = roundTrip(base, next, bits);
      expect(data[0]).toBeLessThanOrEqual(2);
      expect(data[1]).toBeLessThanOrEqual(2);
      expect(data.length).toBe(3);
    }
    // Larger steps across the seam, many particles, both directions.
    const rand = prng(14);
    const bits = 14;
    const positions: number[] = [];
    for (let i = 0; i < 500; i++) {
      const near = Math.floor(rand() * 10);
      positions.push(i % 2 === 0 ? 16383 - near : near, i % 3 === 0 ? near : 16383 - near);
    }
    const base = frame(0, positions);
    const next = moved(base, bits, 20, rand);
    const data = roundTrip(base, next, bits);
    for (let p = 0; p < data.length; ) {
      expect(data[p]).toBeLessThanOrEqual(6); // |d| ≤ 20 → zigzag ≤ 40 → 6 bits
      expect(data[p + 1]).toBeLessThanOrEqual(6);
      p += 2 + ((DELTA_BLOCK * (data[p] + data[p + 1]) + 7) >> 3);
    }
  });
});

describe('delta round trips', () => {
  it('is exact for random small movement at several bit widths', () => {
    const rand = prng(20);
    for (const bits of [1, 3, 8, 14, 16]) {
      const base = randomFrame(10, 777, bits, rand);
      roundTrip(base, moved(base, bits, 16, rand), bits);
    }
  });

  it('is exact for maximal movement (any codes to any codes)', () => {
    const rand = prng(21);
    for (const bits of [1, 7, 14, 15, 16]) {
      const base = randomFrame(0, 1000, bits, rand);
      const next = randomFrame(1, 1000, bits, rand);
      const data = roundTrip(base, next, bits);
      // Random codes need (almost surely) the full width in every block.
      expect(data.length).toBe(deltaSizeUpperBound(1000, 1000, bits));
    }
    // The extremes: each axis moves by exactly -B/2 (the most negative d).
    for (const bits of [1, 14, 16]) {
      const half = 2 ** (bits - 1);
      const base = frame(0, [0, half, half, 0, 2 ** bits - 1, 1]);
      const next = frame(
        1,
        base.positions.map((q) => (q + half) % 2 ** bits),
      );
      const data = roundTrip(base, next, bits);
      expect(data[0]).toBe(bits);
      expect(data[1]).toBe(bits);
    }
  });

  it('appends spawned particles as a raw tail', () => {
    const rand = prng(22);
    for (const [m, n] of [
      [70, 100],
      [0, 5],
      [32, 33],
      [1, 1000],
    ]) {
      const base = randomFrame(0, m, 14, rand);
      const next = moved(base, 14, 16, rand, n - m);
      const data = roundTrip(base, next, 14);
      const tail = data.subarray(data.length - (n - m) * 4);
      for (let i = m; i < n; i++) {
        const k = (i - m) * 4;
        expect(tail[k] | (tail[k + 1] << 8)).toBe(next.positions[2 * i]);
        expect(tail[k + 2] | (tail[k + 3] << 8)).toBe(next.positions[2 * i + 1]);
      }
    }
  });

  it('handles counts that are not a multiple of the block size, and count 0', () => {
    const rand = prng(23);
    for (const count of [0, 1, 2, 31, 32, 33, 63, 64, 65, 1007]) {
      const base = randomFrame(0, count, 14, rand);
      roundTrip(base, moved(base, 14, 16, rand), 14);
    }
    expect(encodeDelta(frame(0, []), frame(1, []), 14).length).toBe(0);
  });

  it('ignores codes past count in both frames', () => {
    const rand = prng(24);
    const base = randomFrame(0, 100, 14, rand);
    const next = moved(base, 14, 8, rand);
    const a = encodeDelta({ ...base, count: 90 }, { ...next, count: 95 }, 14);
    const b = encodeDelta(
      { ...base, count: 90, positions: base.positions.slice(0, 180) },
      { ...next, count: 95, positions: next.positions.slice(0, 190) },
      14,
    );
    expect(a).toEqual(b);
  });

  it('stays exact over many chained ticks with spawns', () => {
    const rand = prng(25);
    const bits = 14;
    let current = randomFrame(0, 300, bits, rand);
    const dec = decoderAt(current, bits);
    for (let t = 0; t < 500; t++) {
      const spawned = t % 37 === 0 ? Math.floor(rand() * 40) : 0;
      const maxStep = t % 50 === 0 ? 16383 : 20;
      const next = moved(current, bits, maxStep, rand, spawned);
      dec.applyDelta(next.tick, current.tick, next.count, encodeDelta(current, next, bits));
      expect(dec.tick).toBe(next.tick);
      expect(dec.positions).toEqual(codes(next));
      current = next;
    }
    expect(current.count).toBeGreaterThan(300);
  });

  it('applies a delta against an older base to a decoder that skipped frames', () => {
    const { bits, frames } = flock(2000, 10, 26);
    const dec = decoderAt(frames[0], bits);
    dec.applyDelta(10, 0, 2000, encodeDelta(frames[0], frames[10], bits));
    expect(dec.positions).toEqual(codes(frames[10]));
  });
});

describe('delta size', () => {
  it('costs well under 2 bytes per particle for the realistic case (10k, 20–50 u/s, 60 Hz)', () => {
    const { bits, frames } = flock(10_000, 10, 30);
    expect(bits).toBe(14);
    for (let t = 1; t <= 10; t++) {
      const data = encodeDelta(frames[t - 1], frames[t], bits);
      expect(data.length / 10_000).toBeLessThan(1.5);
    }
    // A 10-tick-old base (a client that skipped frames) is still below a keyframe.
    const old = encodeDelta(frames[0], frames[10], bits);
    expect(old.length / 10_000).toBeLessThan(3);
    expect(old.length).toBeLessThan(encodeKeyframe(frames[10]).length);
  });

  it('bounds every delta by deltaSizeUpperBound, below a keyframe at bits ≤ 15', () => {
    expect(deltaSizeUpperBound(0, 0, 14)).toBe(0);
    expect(deltaSizeUpperBound(32, 32, 14)).toBe(2 + 112);
    expect(deltaSizeUpperBound(33, 40, 14)).toBe(2 + 112 + 2 + 4 + 7 * 4);
    expect(deltaSizeUpperBound(10_000, 10_000, 15)).toBeLessThan(40_000);
  });
});

describe('encoder errors', () => {
  it('refuses a frame with fewer particles than its base', () => {
    const rand = prng(40);
    const base = randomFrame(0, 10, 14, rand);
    expect(() => encodeDelta(base, { ...base, tick: 1, count: 9 }, 14)).toThrow(RangeError);
  });

  it('refuses codes that do not fit the bits, in either frame or the tail', () => {
    const ok = frame(0, [1, 2]);
    expect(() => encodeDelta(ok, frame(1, [1, 16384]), 14)).toThrow(RangeError);
    expect(() => encodeDelta(frame(0, [16384, 2]), frame(1, [1, 2]), 14)).toThrow(RangeError);
    expect(() => encodeDelta(ok, frame(1, [1, 2, 3, 0xffff]), 14)).toThrow(RangeError);
  });

  it('refuses bad bits and positions shorter than 2*count', () => {
    const ok = frame(0, [1, 2]);
    expect(() => encodeDelta(ok, ok, 0)).toThrow(RangeError);
    expect(() => encodeDelta(ok, ok, 17)).toThrow(RangeError);
    expect(() => encodeDelta(ok, { ...ok, count: 2 }, 14)).toThrow(RangeError);
    expect(() => encodeKeyframe({ ...ok, count: 2 })).toThrow(RangeError);
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
  });
});

describe('decoder refusals', () => {
  const bits = 14;
  const rand = prng(50);
  const base = randomFrame(5, 100, bits, rand);
  const next = moved(base, bits, 16, rand, 3);
  const good = encodeDelta(base, next, bits);

  /** Runs `fn` on a decoder holding `base`, expects `code`, and that nothing changed. */
  function refused(code: FrameDecodeErrorCodeValue, fn: (dec: FrameDecoder) => void): void {
    const dec = decoderAt(base, bits);
    expectDecodeError(() => fn(dec), code);
    expect(dec.tick).toBe(base.tick);
    expect(dec.count).toBe(base.count);
    expect(dec.positions).toEqual(codes(base));
    // Still usable afterwards.
    dec.applyDelta(next.tick, base.tick, next.count, good);
    expect(dec.positions).toEqual(codes(next));
  }

  it('refuses a delta before any keyframe', () => {
    const dec = new FrameDecoder(bits);
    expectDecodeError(() => dec.applyDelta(6, 5, 103, good), FrameDecodeErrorCode.baseMismatch);
    expect(dec.tick).toBe(-1);
  });

  it('refuses a delta against a base it does not hold', () => {
    refused('base_mismatch', (dec) => dec.applyDelta(7, 4, 103, good));
    refused('base_mismatch', (dec) => dec.applyDelta(7, 6, 103, good));
  });

  it('refuses bad headers and a shrinking count', () => {
    refused('bad_header', (dec) => dec.applyDelta(5, 5, 103, good));
    refused('bad_header', (dec) => dec.applyDelta(6.5, 5, 103, good));
    refused('bad_header', (dec) => dec.applyDelta(6, 5, Number.NaN, good));
    refused('count_shrink', (dec) => dec.applyDelta(6, 5, 99, good));
    refused('bad_header', (dec) => dec.applyKeyframe(-1, 0, new Uint8Array(0)));
    refused('bad_header', (dec) => dec.applyKeyframe(1, 1.5, new Uint8Array(6)));
  });

  it('refuses every truncation of a delta', () => {
    for (let cut = 0; cut < good.length; cut++) {
      refused('truncated', (dec) => dec.applyDelta(6, 5, 103, good.subarray(0, cut)));
    }
  });

  it('refuses a delta with trailing bytes or a count that disagrees with the tail', () => {
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    refused('overlong', (dec) => dec.applyDelta(6, 5, 103, longer));
    refused('overlong', (dec) => dec.applyDelta(6, 5, 102, good));
    refused('truncated', (dec) => dec.applyDelta(6, 5, 104, good));
    // A huge count is caught by the length check, before any allocation.
    refused('truncated', (dec) => dec.applyDelta(6, 5, 2 ** 40, good));
  });

  it('refuses a width above bits and non-zero padding', () => {
    const wide = good.slice();
    wide[0] = bits + 1;
    refused('bad_width', (dec) => dec.applyDelta(6, 5, 103, wide));

    // Widths 15 and 16 fit a u16 but not 14-bit codes; the lengths agree with
    // those widths, so only the width check can catch them.
    const block = randomFrame(0, DELTA_BLOCK, bits, rand);
    for (const w of [bits + 1, 16]) {
      const data = new Uint8Array(2 + (DELTA_BLOCK * (w + 1)) / 8);
      data[0] = w;
      data[1] = 1;
      const dec = decoderAt(block, bits);
      expectDecodeError(
        () => dec.applyDelta(1, 0, DELTA_BLOCK, data),
        FrameDecodeErrorCode.badWidth,
      );
      data[0] = bits - 1;
      data[1] = w + 2 - bits; // same total bits, legal widths: accepted
      dec.applyDelta(1, 0, DELTA_BLOCK, data);
      expect(dec.positions).toEqual(codes(block));
    }

    // One particle, widths 3 and 2: 5 bits used, the top 3 bits of the byte are padding.
    const one = frame(0, [100, 200]);
    const data = encodeDelta(one, frame(1, [103, 198]), bits);
    data[2] |= 0x80;
    const dec = decoderAt(one, bits);
    expectDecodeError(() => dec.applyDelta(1, 0, 1, data), FrameDecodeErrorCode.badPadding);
    expect(Array.from(dec.positions)).toEqual([100, 200]);
  });

  it('refuses keyframes of the wrong length or with codes >= 2**bits', () => {
    const data = encodeKeyframe(base);
    refused('truncated', (dec) => dec.applyKeyframe(9, 100, data.subarray(0, 399)));
    refused('overlong', (dec) => dec.applyKeyframe(9, 99, data));
    const big = data.slice();
    big[399] = 0xff; // y of the last particle ≥ 2**14
    refused('value_out_of_range', (dec) => dec.applyKeyframe(9, 100, big));
  });

  it('refuses a spawned tail with codes >= 2**bits', () => {
    const bad = good.slice();
    bad[bad.length - 1] = 0xff;
    refused('value_out_of_range', (dec) => dec.applyDelta(6, 5, 103, bad));
  });
});
