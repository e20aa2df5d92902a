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
  DELTA_BLOCK as LAYOUT_DELTA_BLOCK,
  MAX_PREDICTION_GAP as LAYOUT_MAX_PREDICTION_GAP,
  MAX_RICE_K as LAYOUT_MAX_RICE_K,
  RICE_ESCAPE as LAYOUT_RICE_ESCAPE,
  rawSize,
  scaledStep as LAYOUT_scaledStep,
} from './frame-layout.js';

// Local copies of the layout's constants: where a loader turns imports into
// getters (tsx, vitest), every read in a hot loop was a call (measured 4x
// slower encodes). One read each at load time instead.
const DELTA_BLOCK = LAYOUT_DELTA_BLOCK;
const MAX_PREDICTION_GAP = LAYOUT_MAX_PREDICTION_GAP;
const MAX_RICE_K = LAYOUT_MAX_RICE_K;
const RICE_ESCAPE = LAYOUT_RICE_ESCAPE;
const scaledStep = LAYOUT_scaledStep;

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
 * out[p] with `held` pending bits in `acc`; flushes the last partial byte
 * and returns the offset after it.
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
): number {
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
  if (held > 0) out[p++] = acc;
  return p;
}

// One block's zigzag residuals, and the output written at its largest size
// and copied out at its real one. Shared by every call: encoding is
// synchronous and never re-entered, and this keeps the hot path free of
// allocation beyond the returned copy.
const blockScratch = new Uint16Array(2 * DELTA_BLOCK);
let outScratch = new Uint8Array(4096);

/**
 * The reference encoder's Rice parameter for one axis of one block of L
 * residuals summing to `sum`: floor(log2(floor(sum / L))) (0 when the mean
 * is below 1), at most maxK. For these geometric-like residuals it is
 * within 1% of the best k (0.1% at 60 Hz; measured on the default flock),
 * at the cost of one sum instead of a size per candidate. Deterministic, so
 * the test vectors pin it.
 */
function riceParameter(sum: number, length: number, maxK: number): number {
  const mean = Math.floor(sum / length);
  return Math.min(maxK, mean === 0 ? 0 : 31 - Math.clz32(mean));
}

/**
 * Encodes `frame` as a delta against `base`, predicted from `prior` when one
 * is given (second order), else from `base` alone (first order); layout in
 * frame-codec.ts. One pass over the frames: per block, the residuals and
 * their sums, then the block's Rice parameters, then its codes.
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
  return encodeDeltaBits(base, frame, bits, prior).data;
}

/**
 * encodeDelta, the length of its stream in bits (before the padding): view
 * tiles (view-codec.ts) join their sections without padding, and whether
 * the reference rule picked k = 0 for every block and axis. With `zeroK`,
 * every block's Rice parameters are 0 and its 8-bit header is left out
 * (not the frame layout: view tiles use it where it is shorter; `allZero`
 * then says whether the rule would have picked 0 everywhere anyway).
 */
export function encodeDeltaBits(
  base: QuantizedFrame,
  frame: QuantizedFrame,
  bits: number,
  prior?: QuantizedFrame,
  zeroK = false,
): { data: Uint8Array; bitLength: number; allZero: boolean } {
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
  // The spawned tail is checked here; the moved codes as they are read.
  checkCodes(frame, m, bits);

  // Shifting a difference up to bit 31 and back (arithmetic) sign-extends it
  // from `bits` bits: that is the wrap into [-B/2, B/2) without a branch.
  const shift = 32 - bits;
  const bp = base.positions;
  const fp = frame.positions;
  const pp = prior === undefined ? bp : prior.positions;
  // Particles at or past the prior's count appeared between prior and base:
  // they predict first order.
  const predictedEnd = prior === undefined ? 0 : 2 * prior.count;
  const g0 = prior === undefined ? 1 : base.tick - prior.tick;
  const g1 = prior === undefined ? 1 : frame.tick - base.tick;
  const z = blockScratch;

  const bound = deltaSizeUpperBound(m, n, bits);
  if (outScratch.length < bound)
    outScratch = new Uint8Array(Math.max(bound, 2 * outScratch.length));
  const out = outScratch;
  const maxK = Math.min(MAX_RICE_K, bits - 1);
  let seen = 0;
  /** The reference rule's k's, or-ed together. */
  let chosen = 0;
  // acc holds < 16 pending bits before each code and takes a whole code of
  // at most 15 bits, then gives 2 bytes when it has 16: acc stays below
  // 2**31 and most codes cost one shift and one or. Longer codes go out in
  // parts (at most 17 and 16 bits) from fewer than 8 pending bits.
  let p = 0;
  let acc = 0;
  let held = 0;
  for (let start = 0; start < 2 * m; start += 2 * DELTA_BLOCK) {
    const stop = Math.min(start + 2 * DELTA_BLOCK, 2 * m);
    // x, y pairs (start, stop and predictedEnd are even): first those with
    // a prior position, then those without.
    const mid = Math.min(stop, Math.max(start, predictedEnd));
    let sumX = 0;
    let sumY = 0;
    for (let j = start; j < mid; j += 2) {
      const bx = bp[j];
      const by = bp[j + 1];
      const fx = fp[j];
      const fy = fp[j + 1];
      seen |= bx | by | fx | fy;
      let vx = ((bx - pp[j]) << shift) >> shift;
      let vy = ((by - pp[j + 1]) << shift) >> shift;
      if (g0 !== g1) {
        vx = scaledStep(vx, g0, g1);
        vy = scaledStep(vy, g0, g1);
      }
      const rx = ((fx - bx - vx) << shift) >> shift;
      const ry = ((fy - by - vy) << shift) >> shift;
      const zx = (rx << 1) ^ (rx >> 31);
      const zy = (ry << 1) ^ (ry >> 31);
      z[j - start] = zx;
      z[j - start + 1] = zy;
      sumX += zx;
      sumY += zy;
    }
    for (let j = mid; j < stop; j += 2) {
      const bx = bp[j];
      const by = bp[j + 1];
      const fx = fp[j];
      const fy = fp[j + 1];
      seen |= bx | by | fx | fy;
      const rx = ((fx - bx) << shift) >> shift;
      const ry = ((fy - by) << shift) >> shift;
      const zx = (rx << 1) ^ (rx >> 31);
      const zy = (ry << 1) ^ (ry >> 31);
      z[j - start] = zx;
      z[j - start + 1] = zy;
      sumX += zx;
      sumY += zy;
    }
    const length = (stop - start) >> 1;
    let kx = riceParameter(sumX, length, maxK);
    let ky = riceParameter(sumY, length, maxK);
    chosen |= kx | ky;
    if (zeroK) {
      kx = 0;
      ky = 0;
    } else {
      acc |= (kx | (ky << 4)) << held;
      held += 8;
    }
    if (held >= 16) {
      out[p++] = acc;
      out[p++] = acc >>> 8;
      acc >>>= 16;
      held -= 16;
    }
    for (let axis = 0; axis < 2; axis++) {
      const k = axis === 0 ? kx : ky;
      const low = (1 << k) - 1;
      for (let i = axis, end = stop - start; i < end; i += 2) {
        const value = z[i];
        const q = value >>> k;
        const length = q + 1 + k;
        if (length <= 15) {
          // The common case, whole: q ones, the stop bit (zero), the k low bits.
          acc |= (((value & low) << (q + 1)) | ((1 << q) - 1)) << held;
          held += length;
        } else {
          // Long codes go out in parts, from fewer than 8 pending bits.
          while (held >= 8) {
            out[p++] = acc;
            acc >>>= 8;
            held -= 8;
          }
          if (q < RICE_ESCAPE) {
            acc |= ((1 << q) - 1) << held;
            held += q + 1;
            while (held >= 8) {
              out[p++] = acc;
              acc >>>= 8;
              held -= 8;
            }
            acc |= (value & low) << held;
            held += k;
          } else {
            acc |= ((1 << RICE_ESCAPE) - 1) << held;
            held += RICE_ESCAPE;
            while (held >= 8) {
              out[p++] = acc;
              acc >>>= 8;
              held -= 8;
            }
            acc |= (value - (RICE_ESCAPE << k)) << held;
            held += bits;
          }
        }
        if (held >= 16) {
          out[p++] = acc;
          out[p++] = acc >>> 8;
          acc >>>= 16;
          held -= 16;
        }
      }
    }
  }
  while (held >= 8) {
    out[p++] = acc;
    acc >>>= 8;
    held -= 8;
  }
  if (seen >>> bits !== 0) {
    throw new RangeError(`a position code is >= 2**${bits}: quantize with the same bits`);
  }
  const bitLength = 8 * p + held + 2 * (n - m) * bits;
  const end = writeRaw(fp, m, n, bits, out, p, acc, held);
  return { data: out.slice(0, end), bitLength, allZero: chosen === 0 };
}
