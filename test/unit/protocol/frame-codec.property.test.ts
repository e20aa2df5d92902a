import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canPredict,
  encodeDelta,
  encodeKeyframe,
  FrameDecodeError,
  FrameDecoder,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';

/** One step of a stream: how far ticks advance, how particles move, how many spawn. */
interface Step {
  gap: number;
  /** 'small' steps of up to ±reach, 'any' code anywhere, 'seam' codes parked near 0 / B−1. */
  motion: 'small' | 'any' | 'seam';
  reach: number;
  spawned: number;
  /** Whether the encoder may use the prior (when it can predict). */
  second: boolean;
  seed: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  gap: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(255, 256, 1000)),
  motion: fc.constantFrom('small', 'small', 'any', 'seam'),
  reach: fc.constantFrom(0, 1, 3, 20, 500),
  spawned: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
  second: fc.boolean(),
  seed: fc.integer(),
});

/** A small deterministic generator per step, so shrinking stays meaningful. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function nextFrame(current: QuantizedFrame, step: Step, bits: number): QuantizedFrame {
  const B = 2 ** bits;
  const rand = lcg(step.seed);
  const count = current.count + step.spawned;
  const positions = new Uint16Array(2 * count);
  for (let j = 0; j < 2 * count; j++) {
    const old = j < 2 * current.count ? current.positions[j] : Math.floor(rand() * B);
    if (step.motion === 'any') positions[j] = Math.floor(rand() * B);
    else if (step.motion === 'seam')
      positions[j] =
        rand() < 0.5 ? Math.floor(rand() * 3) % B : B - 1 - (Math.floor(rand() * 3) % B);
    else {
      const delta = Math.round((rand() * 2 - 1) * step.reach);
      positions[j] = (((old + delta) % B) + B) % B;
    }
  }
  return { tick: current.tick + step.gap, count, positions };
}

const initialArb = fc.record({
  bits: fc.oneof(fc.constantFrom(1, 2, 14, 15, 16), fc.integer({ min: 1, max: 16 })),
  count: fc.integer({ min: 0, max: 80 }),
  seed: fc.integer(),
});

describe('frame codec properties', () => {
  it('any stream of keyframe, first- and second-order deltas decodes exactly', () => {
    fc.assert(
      fc.property(
        initialArb,
        fc.array(stepArb, { maxLength: 12 }),
        ({ bits, count, seed }, steps) => {
          const B = 2 ** bits;
          const rand = lcg(seed);
          const positions = Uint16Array.from({ length: 2 * count }, () => Math.floor(rand() * B));
          let current: QuantizedFrame = { tick: 0, count, positions };
          let prior: QuantizedFrame | undefined;
          const decoder = new FrameDecoder(bits);
          decoder.applyKeyframe(0, count, encodeKeyframe(current, bits));
          for (const step of steps) {
            const next = nextFrame(current, step, bits);
            const predict =
              step.second && prior !== undefined && canPredict(prior, current, next)
                ? prior
                : undefined;
            const data = encodeDelta(current, next, bits, predict);
            decoder.applyDelta(next.tick, current.tick, next.count, data, predict?.tick);
            expect(Array.from(decoder.positions)).toEqual(Array.from(next.positions));
            expect(decoder.priorTick).toBe(current.tick);
            prior = current;
            current = next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses random or damaged data only with FrameDecodeError, its frames untouched', () => {
    const damageArb = fc.oneof(
      fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 200 }) }),
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(),
        bit: fc.integer({ min: 0, max: 7 }),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), byte: fc.integer({ min: 0, max: 255 }) }),
    );
    const headerArb = fc.record({
      tickShift: fc.integer({ min: -2, max: 300 }),
      baseShift: fc.constantFrom(0, 0, 0, -1, 1),
      prior: fc.constantFrom('held', 'held', 'none', 'wrong'),
      countShift: fc.integer({ min: -3, max: 50 }),
    });
    fc.assert(
      fc.property(
        initialArb,
        fc.array(stepArb, { minLength: 1, maxLength: 3 }),
        damageArb,
        headerArb,
        ({ bits, count, seed }, steps, damage, header) => {
          const B = 2 ** bits;
          const rand = lcg(seed);
          const positions = Uint16Array.from({ length: 2 * count }, () => Math.floor(rand() * B));
          let prior: QuantizedFrame | undefined;
          let current: QuantizedFrame = { tick: 0, count, positions };
          const decoder = new FrameDecoder(bits);
          decoder.applyKeyframe(0, count, encodeKeyframe(current, bits));
          const held = steps.slice(0, -1);
          for (const step of held) {
            const next = nextFrame(current, { ...step, gap: Math.min(step.gap, 4) }, bits);
            decoder.applyDelta(
              next.tick,
              current.tick,
              next.count,
              encodeDelta(current, next, bits),
            );
            prior = current;
            current = next;
          }
          const next = nextFrame(current, { ...steps.at(-1)!, gap: 1 }, bits);
          const good =
            prior !== undefined
              ? encodeDelta(current, next, bits, prior)
              : encodeDelta(current, next, bits);
          let data: Uint8Array;
          if (damage.kind === 'random') data = damage.bytes;
          else if (damage.kind === 'cut')
            data = good.subarray(0, good.length ? damage.at % good.length : 0);
          else if (damage.kind === 'extend') data = Uint8Array.from([...good, damage.byte]);
          else {
            data = good.slice();
            if (data.length) data[damage.at % data.length] ^= 1 << damage.bit;
          }
          const priorTick =
            header.prior === 'held'
              ? prior?.tick
              : header.prior === 'wrong'
                ? current.tick - 7
                : undefined;
          const before = {
            tick: decoder.tick,
            prior: decoder.priorTick,
            count: decoder.count,
            codes: Array.from(decoder.positions),
          };
          for (const kind of ['delta', 'key'] as const) {
            try {
              if (kind === 'key')
                decoder.applyKeyframe(next.tick, next.count + header.countShift, data);
              else {
                decoder.applyDelta(
                  next.tick + header.tickShift,
                  current.tick + header.baseShift,
                  next.count + header.countShift,
                  data,
                  priorTick,
                );
              }
              return; // accepted: a valid (if different) frame; nothing more to check
            } catch (error) {
              if (!(error instanceof FrameDecodeError)) throw error;
              expect({
                tick: decoder.tick,
                prior: decoder.priorTick,
                count: decoder.count,
                codes: Array.from(decoder.positions),
              }).toEqual(before);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
