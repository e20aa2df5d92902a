/**
 * FrameDecoder and its errors: what bots and the browser keep per connection
 * to rebuild quantized positions from keyframes and deltas, refusing data
 * that does not match the layout in frame-codec.ts (and docs/PROTOCOL.md).
 * Isomorphic: imports only the layout's constants and shared arithmetic.
 */
import {
  checkBits,
  DELTA_BLOCK as LAYOUT_DELTA_BLOCK,
  MAX_PREDICTION_GAP as LAYOUT_MAX_PREDICTION_GAP,
  RICE_ESCAPE as LAYOUT_RICE_ESCAPE,
  rawSize,
  scaledStep as LAYOUT_scaledStep,
} from './frame-layout.js';

// Local copies of the layout's constants: where a loader turns imports into
// getters (tsx, vitest), every read in a hot loop was a call (measured 4x
// slower encodes). One read each at load time instead.
const DELTA_BLOCK = LAYOUT_DELTA_BLOCK;
const MAX_PREDICTION_GAP = LAYOUT_MAX_PREDICTION_GAP;
const RICE_ESCAPE = LAYOUT_RICE_ESCAPE;
const scaledStep = LAYOUT_scaledStep;

/** Why a FrameDecoder refused data: one table, values stable for logs and metrics. */
export const FrameDecodeErrorCode = {
  /** A delta against a tick the decoder does not hold (or before any keyframe): resync with a keyframe. */
  baseMismatch: 'base_mismatch',
  /** A second-order delta whose prior is not the frame the decoder held before its base. */
  priorMismatch: 'prior_mismatch',
  /**
   * tick, base, prior or count is not a usable integer, a delta does not
   * move forward in time, or a prediction gap exceeds MAX_PREDICTION_GAP.
   */
  badHeader: 'bad_header',
  /** A delta whose count is below the base's: particles are only appended between keyframes. */
  countShrink: 'count_shrink',
  /** Data ends before the layout says it should. */
  truncated: 'truncated',
  /** A whole byte or more left over after the layout is complete. */
  overlong: 'overlong',
  /** A block's Rice parameter is not below the quantization bits. */
  badWidth: 'bad_width',
  /** Non-zero padding bits after the last field. */
  badPadding: 'bad_padding',
  /** A Rice-coded residual >= 2**bits (no frame encodes to it). */
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
 * (one connection). Holds the newest frame and, after a delta, the frame
 * before it (its `prior`): a delta must be against exactly the newest tick,
 * and a second-order one must name exactly that prior, which is what the
 * server encodes against once it knows the client holds them.
 *
 * Three buffers rotate: each frame is decoded into the spare one and
 * rotated in only when it decoded completely, so a refused frame leaves the
 * held frames intact and no copy is needed per frame.
 */
export class FrameDecoder {
  readonly #bits: number;
  readonly #mask: number;
  #front = new Uint16Array(0);
  #prior = new Uint16Array(0);
  #back = new Uint16Array(0);
  #view = new Uint16Array(0);
  #tick = -1;
  #count = 0;
  #priorTick = -1;
  #priorCount = 0;

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

  /** Tick of the frame held before it (a second-order delta's `prior`); -1 after a keyframe. */
  get priorTick(): number {
    return this.#priorTick;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Interleaved x, y codes of the frame held, length 2*count. A view into an
   * internal buffer: read it before the second-next apply call (which may
   * reuse that buffer); copy it to keep it longer.
   */
  get positions(): Uint16Array {
    return this.#view;
  }

  /** Replaces the held frames with a keyframe. */
  applyKeyframe(tick: number, count: number, data: Uint8Array): void {
    if (!isTick(tick)) {
      this.#fail('badHeader', `keyframe tick ${tick} is not a non-negative integer`);
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      this.#fail('badHeader', `keyframe count ${count} is not a non-negative integer`);
    }
    const expected = rawSize(count, this.#bits);
    if (data.length < expected) {
      this.#fail('truncated', `keyframe has ${data.length} bytes, needs ${expected}`);
    }
    if (data.length > expected) {
      this.#fail('overlong', `keyframe has ${data.length} bytes, expected ${expected}`);
    }
    const out = this.#spare(count);
    const bits = this.#bits;
    const mask = this.#mask;
    let p = 0;
    let acc = 0;
    let held = 0;
    // held < bits <= 16 before a load, so acc stays within 24 bits.
    for (let j = 0, end = 2 * count; j < end; j++) {
      while (held < bits) {
        acc |= data[p++] << held;
        held += 8;
      }
      out[j] = acc & mask;
      acc >>>= bits;
      held -= bits;
    }
    // The length is exact, so every byte was read: what acc holds is padding.
    if (acc !== 0) this.#fail('badPadding', 'non-zero padding after the last keyframe field');
    this.#commit(tick, count, false);
  }

  /**
   * Applies a delta from tick `base` (which must be the tick held) to `tick`,
   * ending with `count` particles. With `prior` (which must be the tick held
   * before `base`), residuals are against the second-order prediction.
   */
  applyDelta(tick: number, base: number, count: number, data: Uint8Array, prior?: number): void {
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
    if (prior !== undefined) {
      if (this.#priorTick < 0 || prior !== this.#priorTick) {
        this.#fail(
          'priorMismatch',
          this.#priorTick < 0
            ? `second-order delta with prior ${prior}, but the decoder holds no prior`
            : `second-order delta with prior ${prior}, but the decoder's prior is ${this.#priorTick}`,
        );
      }
      if (base - prior > MAX_PREDICTION_GAP || tick - base > MAX_PREDICTION_GAP) {
        this.#fail(
          'badHeader',
          `prediction gaps ${base - prior}/${tick - base} exceed ${MAX_PREDICTION_GAP} ticks`,
        );
      }
    }
    const bits = this.#bits;
    const len = data.length;
    // Every moved particle costs at least 2 bits, every block 8, every
    // spawned particle 2*bits: a lying count is refused before allocating.
    const leastBits = 8 * Math.ceil(m / DELTA_BLOCK) + 2 * m + 2 * (count - m) * bits;
    if (leastBits > 8 * len) {
      this.#fail('truncated', `delta has ${len} bytes, needs at least ${Math.ceil(leastBits / 8)}`);
    }

    const out = this.#spare(count);
    const mask = this.#mask;
    // Without a prior, `before` is never read (predictedEnd is 0).
    // Particles spawned between prior and base have no motion yet: first order.
    const at: BitCursor = { p: 0, acc: 0, held: 0 };
    readMovedSection(
      data,
      at,
      m,
      bits,
      this.#front,
      prior === undefined ? this.#front : this.#prior,
      prior === undefined ? 0 : 2 * this.#priorCount,
      prior === undefined ? 1 : base - prior,
      tick - base,
      out,
    );
    let { p, acc, held } = at;
    for (let j = 2 * m, end = 2 * count; j < end; j++) {
      while (held <= 16 && p < len) {
        acc |= data[p++] << held;
        held += 8;
      }
      if (held < bits) this.#fail('truncated', `delta ends inside spawned particle ${j >> 1}`);
      out[j] = acc & mask;
      acc >>>= bits;
      held -= bits;
    }
    if (held + 8 * (len - p) >= 8) {
      this.#fail('overlong', `delta has ${(held + 8 * (len - p)) >> 3} bytes after its last field`);
    }
    // Every bit left is padding; demanding zeros keeps one encoding per frame.
    if (acc !== 0) this.#fail('badPadding', 'non-zero padding after the last delta field');
    this.#commit(tick, count, true);
  }

  /** The spare buffer, grown geometrically so a slowly rising count reallocates rarely. */
  #spare(count: number): Uint16Array {
    if (this.#back.length < 2 * count) {
      this.#back = new Uint16Array(Math.max(2 * count, 2 * this.#back.length));
    }
    return this.#back;
  }

  /** The spare becomes the held frame; after a delta the held one becomes the prior. */
  #commit(tick: number, count: number, keepPrior: boolean): void {
    const held = this.#front;
    this.#front = this.#back;
    if (keepPrior) {
      this.#back = this.#prior;
      this.#prior = held;
      this.#priorTick = this.#tick;
      this.#priorCount = this.#count;
    } else {
      this.#back = held;
      this.#priorTick = -1;
      this.#priorCount = 0;
    }
    this.#tick = tick;
    this.#count = count;
    this.#view = this.#front.subarray(0, 2 * count);
  }

  #fail(code: keyof typeof FrameDecodeErrorCode, message: string): never {
    throw new FrameDecodeError(FrameDecodeErrorCode[code], message);
  }
}

/** Where a reader of an LSB-first bit stream stands: byte p is next, `held` bits of acc are pending. */
export interface BitCursor {
  p: number;
  acc: number;
  held: number;
}

/**
 * Reads section 1 of a delta (docs/PROTOCOL.md "Particle data"): the Rice
 * blocks of `m` moved particles, from `at` on, into out[0, 2m). `from`
 * holds their codes at base and `before` at prior; particles below
 * `predictedEnd` (an index into the interleaved codes, 0 for first order)
 * are predicted second order over the gaps g0 (base − prior) and g1
 * (tick − base). Stateless, so the view codec reads its tiles' residuals
 * with it too (the members gathered, in prediction order). Leaves `at`
 * after the last code; refills may have read up to 3 bytes past it.
 * `zeroK`: the blocks have no headers, every Rice parameter is 0 (view
 * tiles, view-codec.ts).
 *
 * @throws FrameDecodeError (truncated, bad_width, value_out_of_range).
 */
export function readMovedSection(
  data: Uint8Array,
  at: BitCursor,
  m: number,
  bits: number,
  from: Uint16Array,
  before: Uint16Array,
  predictedEnd: number,
  g0: number,
  g1: number,
  out: Uint16Array,
  zeroK = false,
): void {
  const len = data.length;
  const mask = (1 << bits) - 1;
  const shift = 32 - bits;
  let { p, acc, held } = at;
  for (let start = 0; start < m; start += DELTA_BLOCK) {
    // Refills keep 17..24 bits in acc while data lasts: enough for a block
    // header, a unary run with its stop bit (<= 17) or a field (<= 16),
    // and acc stays a small integer (a 32nd bit would make it a double).
    while (held <= 16 && p < len) {
      acc |= data[p++] << held;
      held += 8;
    }
    let kx = 0;
    let ky = 0;
    if (!zeroK) {
      if (held < 8) fail('truncated', `delta ends before the block of particle ${start}`);
      kx = acc & 15;
      ky = (acc >>> 4) & 15;
      acc >>>= 8;
      held -= 8;
    }
    if (kx >= bits || ky >= bits) {
      fail('badWidth', `block of particle ${start} has Rice parameters ${kx}/${ky}, bits ${bits}`);
    }
    const stop = 2 * Math.min(start + DELTA_BLOCK, m);
    for (let axis = 0; axis < 2; axis++) {
      const k = axis === 0 ? kx : ky;
      const low = (1 << k) - 1;
      for (let j = 2 * start + axis; j < stop; j += 2) {
        while (held <= 16 && p < len) {
          acc |= data[p++] << held;
          held += 8;
        }
        // Ones before the first zero: ~acc & (acc + 1) isolates acc's
        // lowest zero bit (acc < 2**24, so there is one).
        const q = 31 - Math.clz32(~acc & (acc + 1));
        let z: number;
        if (q >= RICE_ESCAPE) {
          if (held < RICE_ESCAPE) fail('truncated', 'delta ends inside a Rice code');
          acc >>>= RICE_ESCAPE;
          held -= RICE_ESCAPE;
          while (held <= 16 && p < len) {
            acc |= data[p++] << held;
            held += 8;
          }
          if (held < bits) fail('truncated', 'delta ends inside an escaped Rice code');
          z = (acc & mask) + (RICE_ESCAPE << k);
          acc >>>= bits;
          held -= bits;
        } else if (q + 1 + k <= held) {
          // The common case: the whole code is in acc.
          z = (q << k) | ((acc >>> (q + 1)) & low);
          acc >>>= q + 1 + k;
          held -= q + 1 + k;
        } else {
          // Bits above `held` are zeros that were never read: a stop bit
          // found there is the end of the data.
          if (q >= held) fail('truncated', 'delta ends inside a Rice code');
          acc >>>= q + 1;
          held -= q + 1;
          while (held <= 16 && p < len) {
            acc |= data[p++] << held;
            held += 8;
          }
          if (held < k) fail('truncated', 'delta ends inside a Rice code');
          z = (q << k) | (acc & low);
          acc >>>= k;
          held -= k;
        }
        if (z > mask) {
          fail('valueOutOfRange', `a residual of particle ${j >> 1} is >= 2**${bits}`);
        }
        let predicted = from[j];
        if (j < predictedEnd) {
          const v = ((predicted - before[j]) << shift) >> shift;
          predicted += g0 === g1 ? v : scaledStep(v, g0, g1);
        }
        out[j] = (predicted + ((z >>> 1) ^ -(z & 1))) & mask;
      }
    }
  }
  at.p = p;
  at.acc = acc;
  at.held = held;
}

function fail(code: keyof typeof FrameDecodeErrorCode, message: string): never {
  throw new FrameDecodeError(FrameDecodeErrorCode[code], message);
}
