/**
 * Frames, decoders and checks shared by the frame codec's unit tests
 * (frame-codec.test.ts, frame-refusals.test.ts): seeded random frames, moved
 * copies, a flock of constant-velocity particles, and an exact round trip.
 */
import { expect } from 'vitest';
import { createPrng } from '../../../lobbies/world/prng.js';
import {
  deltaSizeUpperBound,
  encodeDelta,
  encodeKeyframe,
  FrameDecodeError,
  type FrameDecodeErrorCodeValue,
  FrameDecoder,
  type QuantizedFrame,
} from '../../../protocol/frame-codec.js';
import { quantBitsFor, quantizePositions } from '../../../protocol/quantize.js';

/** The world's seeded PRNG (mulberry32), so a failure reproduces. */
export const prng = (seed: number): (() => number) => createPrng(seed).next;

export const frame = (tick: number, positions: ArrayLike<number>): QuantizedFrame => ({
  tick,
  count: positions.length / 2,
  positions: Uint16Array.from(positions),
});

export function randomFrame(
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
export function moved(
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

export const codes = (f: QuantizedFrame): Uint16Array => f.positions.subarray(0, 2 * f.count);

export function decoderAt(base: QuantizedFrame, bits: number): FrameDecoder {
  const dec = new FrameDecoder(bits);
  dec.applyKeyframe(base.tick, base.count, encodeKeyframe(base, bits));
  return dec;
}

/** A decoder holding `base` with `prior` before it (a keyframe of prior, then a first-order delta). */
export function decoderWith(
  prior: QuantizedFrame,
  base: QuantizedFrame,
  bits: number,
): FrameDecoder {
  const dec = decoderAt(prior, bits);
  dec.applyDelta(base.tick, prior.tick, base.count, encodeDelta(prior, base, bits));
  expect(dec.priorTick).toBe(prior.tick);
  return dec;
}

/**
 * Encodes base → next (second order from `prior` when given), decodes it on
 * a decoder holding them, checks exact equality.
 */
export function roundTrip(
  base: QuantizedFrame,
  next: QuantizedFrame,
  bits: number,
  prior?: QuantizedFrame,
): Uint8Array {
  const data = encodeDelta(base, next, bits, prior);
  expect(data.length).toBeLessThanOrEqual(deltaSizeUpperBound(base.count, next.count, bits));
  const dec = prior ? decoderWith(prior, base, bits) : decoderAt(base, bits);
  dec.applyDelta(next.tick, base.tick, next.count, data, prior?.tick);
  expect(dec.tick).toBe(next.tick);
  expect(dec.count).toBe(next.count);
  expect(dec.priorTick).toBe(base.tick);
  expect(dec.positions).toEqual(codes(next));
  return data;
}

export function expectDecodeError(fn: () => void, code: FrameDecodeErrorCodeValue): void {
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
export function flock(
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
