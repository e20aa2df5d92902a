/**
 * FrameDecoder and its errors: what bots and the browser keep per connection
 * to rebuild quantized positions from keyframes and deltas, refusing data
 * that does not match the layout in frame-codec.ts (and docs/PROTOCOL.md).
 * Isomorphic: imports only the layout constants and bits check of its
 * sibling encoder.
 */
import { checkBits, DELTA_BLOCK, RAW_PARTICLE_BYTES } from './frame-encode.js';

/** Why a FrameDecoder refused data: one table, values stable for logs and metrics. */
export const FrameDecodeErrorCode = {
  /** A delta against a tick the decoder does not hold (or before any keyframe): resync with a keyframe. */
  baseMismatch: 'base_mismatch',
  /** tick, base or count is not a usable integer, or a delta does not move forward in time. */
  badHeader: 'bad_header',
  /** A delta whose count is below the base's: particles are only appended between keyframes. */
  countShrink: 'count_shrink',
  /** Data ends before the layout says it should. */
  truncated: 'truncated',
  /** Bytes left over after the layout is complete. */
  overlong: 'overlong',
  /** A block width greater than the quantization bits. */
  badWidth: 'bad_width',
  /** Non-zero padding bits at the end of a block. */
  badPadding: 'bad_padding',
  /** A raw code >= 2**bits. */
  valueOutOfRange: 'value_out_of_range',
} as const;

export type FrameDecodeErrorCodeValue =
  (typeof FrameDecodeErrorCode)[keyof typeof FrameDecodeErrorCode];

/** Refused frame data. The decoder's state is unchanged when this is thrown. */
export class FrameDecodeError extends Error {
  readonly code: FrameDecodeErrorCodeValue;

  constructor(code: FrameDecodeErrorCodeValue, message: string) {
    super(message);
    this.name = 'FrameDecodeError';
    this.code = code;
  }
}

const isTick = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;

/**
 * Rebuilds quantized positions from keyframes and deltas, for one stream
 * (one connection). Holds the newest frame only: a delta must be against
 * exactly that tick, which is what the server encodes against once it knows
 * the client holds it.
 *
 * Two buffers alternate: each frame is decoded into the spare one and swapped
 * in only when it decoded completely, so a refused frame leaves the previous
 * frame intact and no copy is needed per frame.
 */
export class FrameDecoder {
  readonly #bits: number;
  readonly #mask: number;
  #front = new Uint16Array(0);
  #back = new Uint16Array(0);
  #view = new Uint16Array(0);
  #tick = -1;
  #count = 0;

  constructor(bits: number) {
    checkBits(bits);
    this.#bits = bits;
    this.#mask = (1 << bits) - 1;
  }

  get bits(): number {
    return this.#bits;
  }

  /** Tick of the frame held; -1 before the first keyframe. */
  get tick(): number {
    return this.#tick;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Interleaved x, y codes of the frame held, length 2*count. A view into an
   * internal buffer: read it before the second-next apply call (which reuses
   * that buffer); copy it to keep it longer.
   */
  get positions(): Uint16Array {
    return this.#view;
  }

  /** Replaces the held frame with a keyframe. */
  applyKeyframe(tick: number, count: number, data: Uint8Array): void {
    if (!isTick(tick)) {
      this.#fail('badHeader', `keyframe tick ${tick} is not a non-negative integer`);
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      this.#fail('badHeader', `keyframe count ${count} is not a non-negative integer`);
    }
    const expected = count * RAW_PARTICLE_BYTES;
    this.#checkLength(data.length, expected, 'keyframe');
    const out = this.#spare(count);
    this.#readRaw(data, 0, 0, count, out);
    this.#commit(tick, count);
  }

  /**
   * Applies a delta from tick `base` (which must be the tick held) to `tick`,
   * ending with `count` particles.
   */
  applyDelta(tick: number, base: number, count: number, data: Uint8Array): void {
    if (this.#tick < 0 || base !== this.#tick) {
      this.#fail(
        'baseMismatch',
        this.#tick < 0
          ? `delta against tick ${base} before any keyframe`
          : `delta against tick ${base}, but the decoder holds tick ${this.#tick}`,
      );
    }
    if (!isTick(tick) || tick <= base) {
      this.#fail('badHeader', `delta tick ${tick} does not follow its base ${base}`);
    }
    if (!Number.isSafeInteger(count)) {
      this.#fail('badHeader', `delta count ${count} is not an integer`);
    }
    const m = this.#count;
    if (count < m) this.#fail('countShrink', `delta count ${count} is below the base count ${m}`);

    // Walk the block headers first: the exact length is known before any
    // allocation, so a lying count cannot make us allocate beyond the data.
    const bits = this.#bits;
    const len = data.length;
    let p = 0;
    for (let start = 0; start < m; start += DELTA_BLOCK) {
      if (p + 2 > len) {
        this.#fail('truncated', `delta ends inside the block headers (${len} bytes)`);
      }
      const wx = data[p];
      const wy = data[p + 1];
      if (wx > bits || wy > bits) {
        this.#fail('badWidth', `block at byte ${p} has widths ${wx}/${wy} above ${bits} bits`);
      }
      p += 2 + ((Math.min(DELTA_BLOCK, m - start) * (wx + wy) + 7) >> 3);
      if (p > len) this.#fail('truncated', `delta ends inside the block ending at byte ${p}`);
    }
    this.#checkLength(len, p + (count - m) * RAW_PARTICLE_BYTES, 'delta');

    const out = this.#spare(count);
    const prev = this.#front;
    const mask = this.#mask;
    p = 0;
    for (let start = 0; start < m; start += DELTA_BLOCK) {
      const blockStart = p;
      const wx = data[p++];
      const wy = data[p++];
      const j0 = 2 * start;
      const stop = 2 * Math.min(start + DELTA_BLOCK, m);
      let acc = 0;
      let held = 0;
      for (let axis = 0; axis < 2; axis++) {
        const w = axis === 0 ? wx : wy;
        if (w === 0) {
          for (let j = j0 + axis; j < stop; j += 2) out[j] = prev[j];
          continue;
        }
        const wmask = (1 << w) - 1;
        for (let j = j0 + axis; j < stop; j += 2) {
          // held < w <= 16 before a load, so acc stays within 24 bits.
          while (held < w) {
            acc |= data[p++] << held;
            held += 8;
          }
          const z = acc & wmask;
          acc >>>= w;
          held -= w;
          out[j] = (prev[j] + ((z >>> 1) ^ -(z & 1))) & mask;
        }
      }
      // Every bit left in the accumulator is padding; demanding zeros keeps
      // one canonical encoding per frame.
      if (acc !== 0) {
        this.#fail('badPadding', `non-zero padding in the block at byte ${blockStart}`);
      }
    }
    this.#readRaw(data, p, m, count, out);
    this.#commit(tick, count);
  }

  /** Reads raw u16 LE pairs for particles [from, to) starting at data[p]. */
  #readRaw(data: Uint8Array, p: number, from: number, to: number, out: Uint16Array): void {
    let seen = 0;
    for (let j = 2 * from, end = 2 * to; j < end; j++, p += 2) {
      const v = data[p] | (data[p + 1] << 8);
      seen |= v;
      out[j] = v;
    }
    if (seen > this.#mask) {
      this.#fail('valueOutOfRange', `a raw position code is >= 2**${this.#bits}`);
    }
  }

  #checkLength(actual: number, expected: number, what: string): void {
    if (actual < expected) {
      this.#fail('truncated', `${what} has ${actual} bytes, needs ${expected}`);
    }
    if (actual > expected) {
      this.#fail('overlong', `${what} has ${actual} bytes, expected ${expected}`);
    }
  }

  /** The spare buffer, grown geometrically so a slowly rising count reallocates rarely. */
  #spare(count: number): Uint16Array {
    if (this.#back.length < 2 * count) {
      this.#back = new Uint16Array(Math.max(2 * count, 2 * this.#back.length));
    }
    return this.#back;
  }

  #commit(tick: number, count: number): void {
    const held = this.#front;
    this.#front = this.#back;
    this.#back = held;
    this.#tick = tick;
    this.#count = count;
    this.#view = this.#front.subarray(0, 2 * count);
  }

  #fail(code: keyof typeof FrameDecodeErrorCode, message: string): never {
    throw new FrameDecodeError(FrameDecodeErrorCode[code], message);
  }
}
