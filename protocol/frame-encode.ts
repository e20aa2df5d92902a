/**
 * Frame encoders, run by the server once per (prior, base, tick) and shared
 * by every client at that step. Owns the reference encoder's choices (which
 * Rice parameter each block gets) and the sizing of deltas; the layout itself
 * is specified in frame-codec.ts (and docs/PROTOCOL.md), its constants in
 * frame-layout.ts. Isomorphic: no node: modules, no Buffer; bits are packed
 * by hand, LSB-first.
 */
import {
  checkBits,
  DELTA_BLOCK,
  MAX_PREDICTION_GAP,
  MAX_RICE_K,
  RICE_ESCAPE,
  rawSize,
  scaledStep,
} from './frame-layout.js';

/** One frame of quantized positions, as held in the server's frame ring. */
export interface QuantizedFrame {
  tick: number;
  count: number;
  /** At least 2*count codes, interleaved x, y; each < 2**bits. */
  positions: Uint16Array;
}

function checkFrame(frame: QuantizedFrame, what: string): void {
  const { count, positions } = frame;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`${what}.count must be a non-negative integer, got ${count}`);
  }
  if (positions.length < 2 * count) {
    throw new RangeError(`${what}.positions needs ${2 * count} codes, has ${positions.length}`);
  }
}

function checkCodes(frame: QuantizedFrame, from: number, bits: number): void {
  let seen = 0;
  const src = frame.positions;
  for (let j = 2 * from, end = 2 * frame.count; j < end; j++) seen |= src[j];
  if (seen >>> bits !== 0) {
    throw new RangeError(`a position code is >= 2**${bits}: quantize with the same bits`);
  }
}

/**
 * Largest delta for these counts: every Rice code escaped (16 + bits bits),
 * plus the block headers and the raw spawns. Sizes a client's maximum
 * message length; real deltas are a fraction of it.
 */
export function deltaSizeUpperBound(baseCount: number, count: number, bits: number): number {
  checkBits(bits);
  const blocks = Math.ceil(baseCount / DELTA_BLOCK);
  const moved = 8 * blocks + 2 * baseCount * (RICE_ESCAPE + bits);
  return Math.ceil((moved + 2 * (count - baseCount) * bits) / 8);
}

/**
 * True when a delta from `base` to `frame` may be predicted from `prior`:
 * prior before base before frame, both gaps within MAX_PREDICTION_GAP, and
 * no shrink. The server's memo asks before passing a prior to encodeDelta.
 */
export function canPredict(
  prior: QuantizedFrame,
  base: QuantizedFrame,
  frame: QuantizedFrame,
): boolean {
  const g0 = base.tick - prior.tick;
  const g1 = frame.tick - base.tick;
  return (
    g0 > 0 &&
    g1 > 0 &&
    g0 <= MAX_PREDICTION_GAP &&
    g1 <= MAX_PREDICTION_GAP &&
    prior.count <= base.count
  );
}

/** Encodes a keyframe: every particle's x then y as bits-bit fields, then zero padding. */
export function encodeKeyframe(frame: QuantizedFrame, bits: number): Uint8Array {
  checkBits(bits);
  checkFrame(frame, 'frame');
  checkCodes(frame, 0, bits);
  const out = new Uint8Array(rawSize(frame.count, bits));
  writeRaw(frame.positions, 0, frame.count, bits, out, 0, 0, 0);
  return out;
}

/**
 * Writes particles [from, to) as bits-bit fields, continuing a stream at
 * out[p] with `held` pending bits in `acc`; flushes the last partial byte.
 */
function writeRaw(
  src: Uint16Array,
  from: number,
  to: number,
  bits: number,
  out: Uint8Array,
  p: number,
  acc: number,
  held: number,
): void {
  // held < 8 before each value and bits <= 16, so acc stays within 24 bits.
  for (let j = 2 * from, end = 2 * to; j < end; j++) {
    acc |= src[j] << held;
    held += bits;
    while (held >= 8) {
      out[p++] = acc;
      acc >>>= 8;
      held -= 8;
    }
  }
  if (held > 0) out[p] = acc;
}

// Per-coordinate zigzag residuals and per-block Rice parameters, kept from
// the sizing pass for the writing pass. Shared by every call: encoding is
// synchronous and never re-entered, and this keeps the hot path free of
// allocation beyond the output itself.
let zigzagScratch = new Uint16Array(2 * 1024);
let paramScratch = new Uint8Array(2 * 64);

/** Bits of Rice(k) codes for zigzag[j] at j = from, from+2, ... < to. */
function riceBits(
  zigzag: Uint16Array,
  from: number,
  to: number,
  k: number,
  escaped: number,
): number {
  let total = 0;
  for (let j = from; j < to; j += 2) {
    const q = zigzag[j] >>> k;
    total += q < RICE_ESCAPE ? q + 1 + k : escaped;
  }
  return total;
}

/**
 * The reference encoder's Rice parameter for one axis of one block: start at
 * floor(log2(floor(mean))) (0 for a mean below 1) clamped to [0, maxK], then
 * step down while that is strictly shorter, or, if not one step down was,
 * up while strictly shorter. A local search of 2-3 sizings instead of all
 * 16; deterministic, so the test vectors pin it. Returns k | bits << 4
 * (k < 16), to keep the hot loop free of allocation.
 */
function chooseRice(
  zigzag: Uint16Array,
  from: number,
  to: number,
  maxK: number,
  escaped: number,
): number {
  let sum = 0;
  for (let j = from; j < to; j += 2) sum += zigzag[j];
  const length = (to - from) >> 1;
  // A geometric source's best k is near log2 of its mean.
  let k = Math.min(maxK, Math.max(0, 31 - Math.clz32(Math.floor(sum / length))));
  let cost = riceBits(zigzag, from, to, k, escaped);
  let moved = false;
  while (k > 0) {
    const lower = riceBits(zigzag, from, to, k - 1, escaped);
    if (lower >= cost) break;
    k--;
    cost = lower;
    moved = true;
  }
  while (!moved && k < maxK) {
    const higher = riceBits(zigzag, from, to, k + 1, escaped);
    if (higher >= cost) break;
    k++;
    cost = higher;
  }
  return k | (cost << 4);
}

/**
 * Encodes `frame` as a delta against `base`, predicted from `prior` when one
 * is given (second order), else from `base` alone (first order); layout in
 * frame-codec.ts. Two passes: the first computes residuals, Rice parameters
 * and so the exact size, the second writes into one Uint8Array of that size.
 *
 * @throws RangeError when frame.count < base.count, on bad bits or frames,
 *   when a code is >= 2**bits (it could not round-trip), or when `prior`
 *   fails canPredict.
 */
export function encodeDelta(
  base: QuantizedFrame,
  frame: QuantizedFrame,
  bits: number,
  prior?: QuantizedFrame,
): Uint8Array {
  checkBits(bits);
  checkFrame(base, 'base');
  checkFrame(frame, 'frame');
  const m = base.count;
  const n = frame.count;
  if (n < m) {
    throw new RangeError(`frame.count ${n} is below base.count ${m}: a shrink needs a keyframe`);
  }
  if (prior !== undefined) {
    checkFrame(prior, 'prior');
    if (!canPredict(prior, base, frame)) {
      throw new RangeError(
        `prior ${prior.tick} (count ${prior.count}) cannot predict base ${base.tick} → ${frame.tick}`,
      );
    }
    checkCodes(prior, 0, bits);
  }
  checkCodes(base, 0, bits);
  checkCodes(frame, 0, bits);

  // Shifting a difference up to bit 31 and back (arithmetic) sign-extends it
  // from `bits` bits: that is the wrap into [-B/2, B/2) without a branch.
  const shift = 32 - bits;
  const bp = base.positions;
  const fp = frame.positions;
  if (zigzagScratch.length < 2 * m) zigzagScratch = new Uint16Array(4 * m);
  const zigzag = zigzagScratch;

  // Residuals against the prediction. Particles at or past the prior's
  // count appeared between prior and base: they predict first order.
  const predicted = prior === undefined ? 0 : prior.count;
  if (prior !== undefined) {
    const pp = prior.positions;
    const g0 = base.tick - prior.tick;
    const g1 = frame.tick - base.tick;
    for (let j = 0, stop = 2 * predicted; j < stop; j++) {
      const v = ((bp[j] - pp[j]) << shift) >> shift;
      const step = g0 === g1 ? v : scaledStep(v, g0, g1);
      const r = ((fp[j] - bp[j] - step) << shift) >> shift;
      zigzag[j] = (r << 1) ^ (r >> 31);
    }
  }
  for (let j = 2 * predicted, stop = 2 * m; j < stop; j++) {
    const r = ((fp[j] - bp[j]) << shift) >> shift;
    zigzag[j] = (r << 1) ^ (r >> 31);
  }

  // Pass 1: Rice parameters and the exact size.
  const blocks = Math.ceil(m / DELTA_BLOCK);
  if (paramScratch.length < 2 * blocks) paramScratch = new Uint8Array(4 * blocks);
  const params = paramScratch;
  const maxK = Math.min(MAX_RICE_K, bits - 1);
  const escaped = RICE_ESCAPE + bits;
  let total = 0;
  for (let k = 0; k < blocks; k++) {
    const start = 2 * k * DELTA_BLOCK;
    const stop = 2 * Math.min(k * DELTA_BLOCK + DELTA_BLOCK, m);
    const x = chooseRice(zigzag, start, stop, maxK, escaped);
    const y = chooseRice(zigzag, start + 1, stop, maxK, escaped);
    params[2 * k] = x & 15;
    params[2 * k + 1] = y & 15;
    total += 8 + (x >>> 4) + (y >>> 4);
  }
  total += 2 * (n - m) * bits;

  // Pass 2: write. acc holds < 8 pending bits before each field of at most
  // 17 bits (unary and its stop bit, or 16 escape ones) or 16 bits (a raw
  // or remainder field), so it never exceeds 24 bits.
  const out = new Uint8Array(Math.ceil(total / 8));
  let p = 0;
  let acc = 0;
  let held = 0;
  for (let k = 0; k < blocks; k++) {
    const start = 2 * k * DELTA_BLOCK;
    const stop = 2 * Math.min(k * DELTA_BLOCK + DELTA_BLOCK, m);
    const kx = params[2 * k];
    const ky = params[2 * k + 1];
    acc |= (kx | (ky << 4)) << held;
    held += 8;
    for (let axis = 0; axis < 2; axis++) {
      const rk = axis === 0 ? kx : ky;
      const low = (1 << rk) - 1;
      for (let j = start + axis; j < stop; j += 2) {
        const z = zigzag[j];
        const q = z >>> rk;
        if (q < RICE_ESCAPE) {
          // q ones, then the stop bit (zero).
          acc |= ((1 << q) - 1) << held;
          held += q + 1;
          while (held >= 8) {
            out[p++] = acc;
            acc >>>= 8;
            held -= 8;
          }
          acc |= (z & low) << held;
          held += rk;
        } else {
          acc |= ((1 << RICE_ESCAPE) - 1) << held;
          held += RICE_ESCAPE;
          while (held >= 8) {
            out[p++] = acc;
            acc >>>= 8;
            held -= 8;
          }
          acc |= (z - (RICE_ESCAPE << rk)) << held;
          held += bits;
        }
        while (held >= 8) {
          out[p++] = acc;
          acc >>>= 8;
          held -= 8;
        }
      }
    }
  }
  writeRaw(fp, m, n, bits, out, p, acc, held);
  return out;
}
