/**
 * What the frame encoder refuses to encode (RangeError) and what the decoder
 * refuses to apply (FrameDecodeError, its frames unchanged).
 */
import { describe, expect, it } from 'vitest';
import {
  canPredict,
  DELTA_BLOCK,
  encodeDelta,
  encodeKeyframe,
  FrameDecodeErrorCode,
  type FrameDecodeErrorCodeValue,
  FrameDecoder,
  MAX_PREDICTION_GAP,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';
import {
  codes,
  decoderAt,
  decoderWith,
  expectDecodeError,
  frame,
  moved,
  prng,
  randomFrame,
} from './frame-test-helpers.js';

describe('encoder errors', () => {
  it('refuses a frame with fewer particles than its base', () => {
    const rand = prng(40);
    const base = randomFrame(0, 10, 14, rand);
    expect(() => encodeDelta(base, { ...base, tick: 1, count: 9 }, 14)).toThrow(RangeError);
  });

  it('refuses codes that do not fit the bits, in any frame or the tail', () => {
    const ok = frame(0, [1, 2]);
    expect(() => encodeDelta(ok, frame(1, [1, 16384]), 14)).toThrow(RangeError);
    expect(() => encodeDelta(frame(0, [16384, 2]), frame(1, [1, 2]), 14)).toThrow(RangeError);
    expect(() => encodeDelta(ok, frame(1, [1, 2, 3, 0xffff]), 14)).toThrow(RangeError);
    expect(() => encodeDelta(frame(1, [1, 2]), frame(2, [1, 2]), 14, frame(0, [1, 16384]))).toThrow(
      RangeError,
    );
    expect(() => encodeKeyframe(frame(0, [1, 16384]), 14)).toThrow(RangeError);
  });

  it('refuses bad bits and positions shorter than 2*count', () => {
    const ok = frame(0, [1, 2]);
    expect(() => encodeDelta(ok, ok, 0)).toThrow(RangeError);
    expect(() => encodeDelta(ok, ok, 17)).toThrow(RangeError);
    expect(() => encodeDelta(ok, { ...ok, count: 2 }, 14)).toThrow(RangeError);
    expect(() => encodeKeyframe({ ...ok, count: 2 }, 14)).toThrow(RangeError);
    expect(() => encodeKeyframe(ok, 0)).toThrow(RangeError);
    expect(() => new FrameDecoder(0)).toThrow(RangeError);
  });

  it('refuses a prior that cannot predict: not before base, gaps over the bound, more particles', () => {
    const at = (tick: number, count = 1): QuantizedFrame => ({
      tick,
      count,
      positions: new Uint16Array(2 * count),
    });
    const ok = (prior: QuantizedFrame, base: QuantizedFrame, next: QuantizedFrame): boolean =>
      canPredict(prior, base, next);
    expect(ok(at(0), at(1), at(2))).toBe(true);
    expect(ok(at(1), at(1), at(2))).toBe(false);
    expect(ok(at(0), at(MAX_PREDICTION_GAP), at(2 * MAX_PREDICTION_GAP))).toBe(true);
    expect(ok(at(0), at(MAX_PREDICTION_GAP + 1), at(MAX_PREDICTION_GAP + 2))).toBe(false);
    expect(ok(at(0), at(1), at(MAX_PREDICTION_GAP + 2))).toBe(false);
    expect(ok(at(0, 2), at(1, 1), at(2, 1))).toBe(false);
    expect(() => encodeDelta(at(1), at(2), 14, at(1))).toThrow(RangeError);
    expect(() => encodeDelta(at(300), at(301), 14, at(0))).toThrow(RangeError);
  });
});

describe('decoder refusals', () => {
  const bits = 14;
  const rand = prng(50);
  const prior = randomFrame(4, 100, bits, rand);
  const base = moved(prior, bits, 16, rand);
  base.tick = 5;
  const next = moved(base, bits, 16, rand, 3);
  const good = encodeDelta(base, next, bits, prior);
  const first = encodeDelta(base, next, bits);

  /** Runs `fn` on a decoder holding base (prior before it), expects `code`, and that nothing changed. */
  function refused(code: FrameDecodeErrorCodeValue, fn: (dec: FrameDecoder) => void): void {
    const dec = decoderWith(prior, base, bits);
    expectDecodeError(() => fn(dec), code);
    expect(dec.tick).toBe(base.tick);
    expect(dec.priorTick).toBe(prior.tick);
    expect(dec.count).toBe(base.count);
    expect(dec.positions).toEqual(codes(base));
    // Still usable afterwards, with its prior.
    dec.applyDelta(next.tick, base.tick, next.count, good, prior.tick);
    expect(dec.positions).toEqual(codes(next));
  }

  it('refuses a delta before any keyframe', () => {
    const dec = new FrameDecoder(bits);
    expectDecodeError(() => dec.applyDelta(6, 5, 103, first), FrameDecodeErrorCode.baseMismatch);
    expect(dec.tick).toBe(-1);
  });

  it('refuses a delta against a base it does not hold', () => {
    refused('base_mismatch', (dec) => dec.applyDelta(7, 4, 103, good, 3));
    refused('base_mismatch', (dec) => dec.applyDelta(7, 6, 103, first));
  });

  it('refuses a second-order delta whose prior it does not hold', () => {
    refused('prior_mismatch', (dec) => dec.applyDelta(6, 5, 103, good, 3));
    refused('prior_mismatch', (dec) => dec.applyDelta(6, 5, 103, good, 5));
    const fresh = decoderAt(base, bits);
    expectDecodeError(
      () => fresh.applyDelta(6, 5, 103, good, 4),
      FrameDecodeErrorCode.priorMismatch,
    );
  });

  it('refuses bad headers, prediction gaps over the bound and a shrinking count', () => {
    refused('bad_header', (dec) => dec.applyDelta(5, 5, 103, good, 4));
    refused('bad_header', (dec) => dec.applyDelta(6.5, 5, 103, good, 4));
    refused('bad_header', (dec) => dec.applyDelta(6, 5, Number.NaN, good, 4));
    refused('bad_header', (dec) => dec.applyDelta(5 + MAX_PREDICTION_GAP + 1, 5, 103, good, 4));
    refused('count_shrink', (dec) => dec.applyDelta(6, 5, 99, good, 4));
    refused('bad_header', (dec) => dec.applyKeyframe(-1, 0, new Uint8Array(0)));
    refused('bad_header', (dec) => dec.applyKeyframe(1, 1.5, new Uint8Array(6)));
  });

  it('refuses every truncation of a delta', () => {
    for (let cut = 0; cut < good.length; cut++) {
      refused('truncated', (dec) => dec.applyDelta(6, 5, 103, good.subarray(0, cut), 4));
    }
    for (let cut = 0; cut < first.length; cut++) {
      refused('truncated', (dec) => dec.applyDelta(6, 5, 103, first.subarray(0, cut)));
    }
  });

  it('refuses a delta with trailing bytes or a count that disagrees with the tail', () => {
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    refused('overlong', (dec) => dec.applyDelta(6, 5, 103, longer, 4));
    // One spawned particle fewer leaves 28 bits: three whole bytes over.
    refused('overlong', (dec) => dec.applyDelta(6, 5, 102, good, 4));
    refused('truncated', (dec) => dec.applyDelta(6, 5, 104, good, 4));
    // A huge count is caught by the length check, before any allocation.
    refused('truncated', (dec) => dec.applyDelta(6, 5, 2 ** 40, good, 4));
  });

  it('refuses a Rice parameter not below bits', () => {
    const block = randomFrame(0, DELTA_BLOCK, bits, rand);
    for (const k of [bits, 15]) {
      // Header kx = k, ky = 0; then 64 codes of one bit each, whatever they are.
      const data = new Uint8Array(1 + 64);
      data[0] = k;
      const dec = decoderAt(block, bits);
      expectDecodeError(
        () => dec.applyDelta(1, 0, DELTA_BLOCK, data),
        FrameDecodeErrorCode.badWidth,
      );
      expect(dec.positions).toEqual(codes(block));
    }
    // k = bits − 1 is legal: 32 x codes of '0' + 13 zero bits, 32 y codes of '0'.
    const legal = new Uint8Array(Math.ceil((8 + 32 * 14 + 32) / 8));
    legal[0] = bits - 1;
    const dec = decoderAt(block, bits);
    dec.applyDelta(1, 0, DELTA_BLOCK, legal);
    expect(dec.positions).toEqual(codes(block));
  });

  it('refuses non-zero padding', () => {
    // One particle: 8 + 4 + 3 bits used, the top bit of the second byte is padding.
    const one = frame(0, [100, 200]);
    const data = encodeDelta(one, frame(1, [103, 198]), bits);
    expect(data.length).toBe(2);
    data[1] |= 0x80;
    const dec = decoderAt(one, bits);
    expectDecodeError(() => dec.applyDelta(1, 0, 1, data), FrameDecodeErrorCode.badPadding);
    expect(Array.from(dec.positions)).toEqual([100, 200]);
  });

  it('refuses a Rice-coded residual of 2**bits or more', () => {
    const one = frame(0, [100, 200]);
    // kx = 10: '1' × 16 (escape), then a 14-bit 0: z = 16·2^10 = 2^14.
    const escaped = Uint8Array.from([0x0a, 0xff, 0xff, 0x00, 0x00]);
    const dec = decoderAt(one, bits);
    expectDecodeError(() => dec.applyDelta(1, 0, 1, escaped), FrameDecodeErrorCode.valueOutOfRange);
    // kx = 13: '1' × 2, '0', then 13 bits of ones: z = 2·2^13 + 8191 ≥ 2^14.
    const plain = Uint8Array.from([0x0d, 0xfb, 0xff, 0x00]);
    expectDecodeError(() => dec.applyDelta(1, 0, 1, plain), FrameDecodeErrorCode.valueOutOfRange);
    expect(Array.from(dec.positions)).toEqual([100, 200]);
  });

  it('refuses keyframes of the wrong length or with non-zero padding', () => {
    const data = encodeKeyframe(base, bits);
    expect(data.length).toBe(350);
    refused('truncated', (dec) => dec.applyKeyframe(9, 100, data.subarray(0, 349)));
    refused('overlong', (dec) => dec.applyKeyframe(9, 99, data));
    const odd = encodeKeyframe(frame(0, [1, 2, 3, 4, 5, 6]), 3); // 18 bits: 6 padding bits
    const bad = odd.slice();
    bad[2] |= 0x40;
    const dec = new FrameDecoder(3);
    expectDecodeError(() => dec.applyKeyframe(0, 3, bad), FrameDecodeErrorCode.badPadding);
    dec.applyKeyframe(0, 3, odd);
    expect(Array.from(dec.positions)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
