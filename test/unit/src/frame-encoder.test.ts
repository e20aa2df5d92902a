import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../lobbies/world/prng.js';
import {
  encodeDelta,
  encodeKeyframe,
  FrameDecoder,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';
import type { FrameKind } from '../../../protocol/messages.js';
import { FrameEncoder } from '../../../src/frame-encoder.js';

const BITS = 14;
const B = 2 ** BITS;

/** The world's seeded PRNG (mulberry32), so a failure reproduces. */
const prng = (seed: number): (() => number) => createPrng(seed).next;

const frame = (tick: number, positions: ArrayLike<number>): QuantizedFrame => ({
  tick,
  count: positions.length / 2,
  positions: Uint16Array.from(positions),
});

/** `count` random particles, some on the wrap seam. */
function randomFrame(tick: number, count: number, random: () => number): QuantizedFrame {
  const positions = new Uint16Array(2 * count);
  for (let j = 0; j < positions.length; j++) {
    positions[j] = j % 7 === 0 ? (j % 2 ? B - 1 : 0) : Math.floor(random() * B);
  }
  return { tick, count, positions };
}

/** `base` moved a few quanta per particle (wrapping), plus `spawned` new particles. */
function moved(
  base: QuantizedFrame,
  tick: number,
  random: () => number,
  spawned = 0,
): QuantizedFrame {
  const count = base.count + spawned;
  const positions = new Uint16Array(2 * count);
  for (let j = 0; j < 2 * base.count; j++) {
    // Mostly small steps, the odd large jump (an outlier widens its block).
    const step = j % 61 === 0 ? Math.floor(random() * B) : Math.floor(random() * 29) - 14;
    positions[j] = (base.positions[j] + step + B) % B;
  }
  for (let j = 2 * base.count; j < 2 * count; j++) positions[j] = Math.floor(random() * B);
  return { tick, count, positions };
}

interface Encoded {
  kind: FrameKind;
  seconds: number;
}

function recordingEncoder(): { encoder: FrameEncoder; calls: Encoded[] } {
  const calls: Encoded[] = [];
  const encoder = new FrameEncoder(BITS, (kind, seconds) => calls.push({ kind, seconds }));
  return { encoder, calls };
}

const f1 = frame(1, [0, 0, 10, 20, B - 1, 5]);
const f2 = frame(2, [1, B - 1, 12, 18, 0, 5]);
const f3 = frame(3, [2, 0, 15, 15, 3, 4, 100, 200]);

describe('FrameEncoder chooses keyframe or delta', () => {
  it('encodes a keyframe when the client holds no base', () => {
    const { encoder, calls } = recordingEncoder();
    const out = encoder.encode(f2, undefined);
    expect(out.kind).toBe('key');
    expect(out.base).toBeUndefined();
    expect(out.data).toEqual(encodeKeyframe(f2, BITS));
    expect(out.data).toHaveLength(Math.ceil((2 * f2.count * BITS) / 8));
    expect(calls.map((c) => c.kind)).toEqual(['key']);
    expect(calls[0].seconds).toBeGreaterThanOrEqual(0);
  });

  it('encodes a delta against an earlier frame', () => {
    const { encoder, calls } = recordingEncoder();
    const out = encoder.encode(f2, f1);
    expect(out.kind).toBe('delta');
    expect(out.base).toBe(1);
    expect(out.data).toEqual(encodeDelta(f1, f2, BITS));
    expect(calls.map((c) => c.kind)).toEqual(['delta']);
    expect(calls[0].seconds).toBeGreaterThanOrEqual(0);
  });

  it('encodes a delta against a base several ticks back, and across a spawn', () => {
    const encoder = new FrameEncoder(BITS);
    const later = { ...f3, tick: 9 };
    const out = encoder.encode(later, f1);
    expect(out).toMatchObject({ kind: 'delta', base: 1, data: encodeDelta(f1, later, BITS) });
  });

  it('encodes a keyframe when the base is the same tick', () => {
    const encoder = new FrameEncoder(BITS);
    const out = encoder.encode(f2, { ...f2 });
    expect(out).toMatchObject({ kind: 'key', base: undefined, data: encodeKeyframe(f2, BITS) });
  });

  it('encodes a keyframe when the base is a later tick', () => {
    const encoder = new FrameEncoder(BITS);
    const out = encoder.encode(f2, f3);
    expect(out).toMatchObject({ kind: 'key', base: undefined, data: encodeKeyframe(f2, BITS) });
  });

  it('encodes a keyframe when the base has more particles than the frame', () => {
    const encoder = new FrameEncoder(BITS);
    const bigBase = frame(1, [1, 2, 3, 4, 5, 6, 7, 8]);
    const out = encoder.encode(f2, bigBase);
    expect(out).toMatchObject({ kind: 'key', base: undefined, data: encodeKeyframe(f2, BITS) });
  });
});

describe('FrameEncoder predicts from the prior the client holds', () => {
  it('encodes a second-order delta when the client holds a prior before its base', () => {
    const { encoder, calls } = recordingEncoder();
    const f0 = frame(0, [5, 5, 9, 9, 1, 1]);
    const out = encoder.encode(f2, f1, f0);
    expect(out).toMatchObject({ kind: 'delta', base: 1, prior: 0 });
    expect(out.data).toEqual(encodeDelta(f1, f2, BITS, f0));
    expect(out.data).not.toEqual(encodeDelta(f1, f2, BITS));
    expect(calls.map((c) => c.kind)).toEqual(['delta']);
  });

  it('falls back to first order when the prior cannot predict, and says so', () => {
    const encoder = new FrameEncoder(BITS);
    const firstOrder = {
      kind: 'delta',
      base: 1,
      prior: undefined,
      data: encodeDelta(f1, f2, BITS),
    };
    // A prior from another incarnation of the lobby.
    expect(encoder.encode(f2, f1, { ...frame(0, [5, 5, 9, 9, 1, 1]), epoch: 1 })).toMatchObject(
      firstOrder,
    );
    // More particles than the base (it cannot be the frame before it).
    expect(encoder.encode(f2, f1, frame(0, [1, 1, 2, 2, 3, 3, 4, 4]))).toMatchObject(firstOrder);
    // Too far back to predict (MAX_PREDICTION_GAP = 255 ticks).
    const longAgo = frame(1, [0, 0, 10, 20, B - 1, 5]);
    const late = { ...f2, tick: 1 + 256 };
    expect(encoder.encode(late, longAgo, frame(0, [0, 0, 0, 0, 0, 0]))).toMatchObject({
      kind: 'delta',
      prior: undefined,
    });
    // No usable base: a keyframe, whatever the prior.
    expect(encoder.encode(f2, undefined, f1)).toMatchObject({
      kind: 'key',
      base: undefined,
      prior: undefined,
    });
  });

  it('keeps one entry per (prior, base) at the same tick', () => {
    const { encoder, calls } = recordingEncoder();
    const p1 = frame(1, [5, 5, 9, 9, 1, 1]);
    const p2 = frame(2, [6, 6, 9, 9, 2, 2]);
    const base = frame(3, [7, 7, 9, 9, 3, 3]);
    const latest = frame(5, [9, 9, 10, 10, 5, 5]);
    const fromTwo = encoder.encode(latest, base, p2);
    const fromOne = encoder.encode(latest, base, p1);
    const first = encoder.encode(latest, base);
    expect([fromTwo.prior, fromOne.prior, first.prior]).toEqual([2, 1, undefined]);
    expect(fromOne.data).toEqual(encodeDelta(base, latest, BITS, p1));
    expect(encoder.encode(latest, base, { ...p2 })).toBe(fromTwo);
    expect(encoder.encode(latest, base, p1)).toBe(fromOne);
    expect(encoder.encode(latest, base, undefined)).toBe(first);
    expect(calls.map((call) => call.kind)).toEqual(['delta', 'delta', 'delta']);
  });
});

describe('FrameEncoder memoisation', () => {
  it('returns the same object for the same (base, tick), encoding once', () => {
    const { encoder, calls } = recordingEncoder();
    const a = encoder.encode(f2, f1);
    const b = encoder.encode(f2, f1);
    // A different object holding the same base tick is the same base.
    const c = encoder.encode(f2, { ...f1 });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(calls.map((call) => call.kind)).toEqual(['delta']);
  });

  it('shares one keyframe per tick between no base and an unusable base', () => {
    const { encoder, calls } = recordingEncoder();
    const a = encoder.encode(f2, undefined);
    const b = encoder.encode(f2, undefined);
    const c = encoder.encode(f2, f3);
    const d = encoder.encode(f2, { ...f2 });
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(d).toBe(a);
    expect(calls.map((call) => call.kind)).toEqual(['key']);
  });

  it('keeps one entry per distinct base at the same tick', () => {
    const { encoder, calls } = recordingEncoder();
    const f0 = frame(0, [5, 5, 9, 9, 1, 1]);
    const fromZero = encoder.encode(f2, f0);
    const fromOne = encoder.encode(f2, f1);
    const key = encoder.encode(f2, undefined);
    expect(fromZero).not.toBe(fromOne);
    expect(fromZero.base).toBe(0);
    expect(fromOne.base).toBe(1);
    expect(key.kind).toBe('key');
    expect(encoder.encode(f2, f0)).toBe(fromZero);
    expect(encoder.encode(f2, f1)).toBe(fromOne);
    expect(encoder.encode(f2, undefined)).toBe(key);
    expect(calls.map((call) => call.kind)).toEqual(['delta', 'delta', 'key']);
  });

  it('clears the cache when a new tick is encoded', () => {
    const { encoder, calls } = recordingEncoder();
    const first = encoder.encode(f2, f1);
    const key = encoder.encode(f2, undefined);
    encoder.encode(f3, f2);
    // Back at tick 2: nothing of it is kept, so both are encoded afresh.
    const again = encoder.encode(f2, f1);
    const keyAgain = encoder.encode(f2, undefined);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    expect(keyAgain).not.toBe(key);
    expect(keyAgain).toEqual(key);
    expect(calls.map((call) => call.kind)).toEqual(['delta', 'key', 'delta', 'delta', 'key']);
  });
});

describe('FrameEncoder payloads decode exactly', () => {
  it('keyframe then deltas through FrameDecoder reproduce every frame', () => {
    const random = prng(0x5eed);
    const encoder = new FrameEncoder(BITS);
    const decoder = new FrameDecoder(BITS);
    // 100 particles: three full blocks of 32 and a short one of 4.
    let previous = randomFrame(10, 100, random);
    const key = encoder.encode(previous, undefined);
    expect(key.kind).toBe('key');
    decoder.applyKeyframe(previous.tick, previous.count, key.data);
    expect(decoder.positions).toEqual(previous.positions);

    for (let tick = 11; tick <= 30; tick++) {
      const next = moved(previous, tick, random, tick % 5 === 0 ? 7 : 0);
      const out = encoder.encode(next, previous);
      expect(out.kind).toBe('delta');
      expect(out.base).toBe(previous.tick);
      decoder.applyDelta(next.tick, out.base!, next.count, out.data);
      expect(decoder.tick).toBe(tick);
      expect(decoder.count).toBe(next.count);
      expect(decoder.positions).toEqual(next.positions.subarray(0, 2 * next.count));
      previous = next;
    }
    expect(previous.count).toBe(128);
  });

  it('a stream as the feed sends it (prior = the previous frame after a delta) decodes exactly', () => {
    const random = prng(0xfeed);
    const encoder = new FrameEncoder(BITS);
    const decoder = new FrameDecoder(BITS);
    let held = randomFrame(10, 70, random);
    let prior: QuantizedFrame | undefined;
    decoder.applyKeyframe(held.tick, held.count, encoder.encode(held, undefined).data);
    for (let tick = 11; tick <= 40; tick++) {
      const next = moved(held, tick, random, tick % 7 === 0 ? 5 : 0);
      const out = encoder.encode(next, held, prior);
      expect(out.prior).toBe(prior?.tick);
      decoder.applyDelta(next.tick, out.base!, next.count, out.data, out.prior);
      expect(decoder.positions).toEqual(next.positions.subarray(0, 2 * next.count));
      prior = held;
      held = next;
    }
  });

  it('a delta from an older base decodes on a client that holds that base', () => {
    const random = prng(7);
    const encoder = new FrameEncoder(BITS);
    const base = randomFrame(40, 70, random);
    const mid = moved(base, 41, random);
    const latest = moved(mid, 42, random, 3);

    // A client in step holds tick 41; a lagging one still holds tick 40.
    const inStep = new FrameDecoder(BITS);
    inStep.applyKeyframe(mid.tick, mid.count, encodeKeyframe(mid, BITS));
    const lagging = new FrameDecoder(BITS);
    lagging.applyKeyframe(base.tick, base.count, encodeKeyframe(base, BITS));

    const forInStep = encoder.encode(latest, mid);
    const forLagging = encoder.encode(latest, base);
    inStep.applyDelta(latest.tick, forInStep.base!, latest.count, forInStep.data);
    lagging.applyDelta(latest.tick, forLagging.base!, latest.count, forLagging.data);
    expect(inStep.positions).toEqual(latest.positions);
    expect(lagging.positions).toEqual(latest.positions);
  });

  it('a keyframe chosen because the base shrank decodes on a fresh decoder', () => {
    const random = prng(99);
    const encoder = new FrameEncoder(BITS);
    const base = randomFrame(5, 40, random);
    const shrunk = randomFrame(6, 33, random);
    const out = encoder.encode(shrunk, base);
    expect(out.kind).toBe('key');
    const decoder = new FrameDecoder(BITS);
    decoder.applyKeyframe(shrunk.tick, shrunk.count, out.data);
    expect(decoder.positions).toEqual(shrunk.positions);
  });
});
