/**
 * Frame encoders, run by the server once per (base, tick) and shared by every
 * client at that step. Owns the constants of the byte layout and the sizing
 * of deltas; the layout itself is specified in frame-codec.ts (and
 * docs/PROTOCOL.md). Isomorphic: no imports, no node: modules, no Buffer;
 * bytes are written by hand in little-endian order.
 */

/**
 * Particles per delta block. 32 amortises the 2 width bytes to 1/16 byte per
 * particle while a fast outlier only widens 31 neighbours. Changing it
 * changes the byte layout (bump PROTOCOL_VERSION).
 */
export const DELTA_BLOCK = 32;

/** Bytes per particle in a keyframe and in the spawned tail of a delta. */
export const RAW_PARTICLE_BYTES = 4;

/** One frame of quantized positions, as held in the server's frame ring. */
export interface QuantizedFrame {
  tick: number;
  count: number;
  /** At least 2*count codes, interleaved x, y; each < 2**bits. */
  positions: Uint16Array;
}

/** Shared with frame-decode.ts; not part of the public API (frame-codec.ts). */
export function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new RangeError(`bits must be an integer in [1, 16], got ${bits}`);
  }
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

/** Bytes of section 1 for m moved particles when every width is `bits`. */
function movedSizeUpperBound(m: number, bits: number): number {
  const full = Math.floor(m / DELTA_BLOCK);
  const rest = m - full * DELTA_BLOCK;
  const blocks = full + (rest > 0 ? 1 : 0);
  return 2 * blocks + full * ((DELTA_BLOCK * 2 * bits) >> 3) + ((rest * 2 * bits + 7) >> 3);
}

/**
 * Largest delta for these counts (every width = bits). Sizes a client's
 * maximum message length. At bits <= 15 a full block costs less than the
 * keyframe's 4 bytes per particle (122 bytes per 32 at 15 bits), so a delta
 * never loses to a keyframe by more than one short last block.
 */
export function deltaSizeUpperBound(baseCount: number, count: number, bits: number): number {
  checkBits(bits);
  return movedSizeUpperBound(baseCount, bits) + (count - baseCount) * RAW_PARTICLE_BYTES;
}

/** Encodes a keyframe: 4*count bytes, u16 LE x then y per particle. */
export function encodeKeyframe(frame: QuantizedFrame): Uint8Array {
  checkFrame(frame, 'frame');
  const n = frame.count;
  const src = frame.positions;
  const out = new Uint8Array(n * RAW_PARTICLE_BYTES);
  writeRaw(src, 0, n, out, 0);
  return out;
}

/** Writes particles [from, to) of `src` as u16 LE x, y pairs at out[p]. */
function writeRaw(src: Uint16Array, from: number, to: number, out: Uint8Array, p: number): void {
  for (let j = 2 * from, end = 2 * to; j < end; j++, p += 2) {
    const v = src[j];
    out[p] = v;
    out[p + 1] = v >>> 8;
  }
}

// Per-block widths and per-particle zigzag values, kept from the sizing pass
// for the writing pass (measured ~15% faster than recomputing them). Shared
// by every call: encoding is synchronous and never re-entered, and this keeps
// the hot path free of allocation beyond the output itself.
let widthScratch = new Uint8Array(2 * 1024);
let zigzagScratch = new Uint16Array(2 * 1024);

/**
 * Encodes `frame` as a delta against `base` (layout in frame-codec.ts). Two
 * passes: the first finds each block's widths and so the exact size, the
 * second writes into one Uint8Array of that size.
 *
 * @throws RangeError when frame.count < base.count, on bad bits or frames,
 *   or when a code is >= 2**bits (it could not round-trip).
 */
export function encodeDelta(base: QuantizedFrame, frame: QuantizedFrame, bits: number): Uint8Array {
  checkBits(bits);
  checkFrame(base, 'base');
  checkFrame(frame, 'frame');
  const m = base.count;
  const n = frame.count;
  if (n < m) {
    throw new RangeError(`frame.count ${n} is below base.count ${m}: a shrink needs a keyframe`);
  }
  const mask = (1 << bits) - 1;
  // Shifting a difference up to bit 31 and back (arithmetic) sign-extends it
  // from `bits` bits: that is the wrap into [-B/2, B/2) without a branch.
  const shift = 32 - bits;
  const bp = base.positions;
  const fp = frame.positions;
  const blocks = Math.ceil(m / DELTA_BLOCK);
  if (widthScratch.length < 2 * blocks) widthScratch = new Uint8Array(4 * blocks);
  const widths = widthScratch;
  if (zigzagScratch.length < 2 * m) zigzagScratch = new Uint16Array(4 * m);
  const zigzag = zigzagScratch;

  // Pass 1: widths and size. OR-ing the zigzag values has the same bit length
  // as their maximum, without a compare.
  let seen = 0;
  let size = 0;
  for (let k = 0; k < blocks; k++) {
    const start = k * DELTA_BLOCK;
    const end = Math.min(start + DELTA_BLOCK, m);
    let orX = 0;
    let orY = 0;
    for (let j = 2 * start, stop = 2 * end; j < stop; j += 2) {
      const ax = fp[j];
      const ay = fp[j + 1];
      const bx = bp[j];
      const by = bp[j + 1];
      seen |= ax | ay | bx | by;
      const dx = ((ax - bx) << shift) >> shift;
      const dy = ((ay - by) << shift) >> shift;
      const zx = (dx << 1) ^ (dx >> 31);
      const zy = (dy << 1) ^ (dy >> 31);
      zigzag[j] = zx;
      zigzag[j + 1] = zy;
      orX |= zx;
      orY |= zy;
    }
    const wx = 32 - Math.clz32(orX);
    const wy = 32 - Math.clz32(orY);
    widths[2 * k] = wx;
    widths[2 * k + 1] = wy;
    size += 2 + (((end - start) * (wx + wy) + 7) >> 3);
  }
  for (let j = 2 * m, stop = 2 * n; j < stop; j++) seen |= fp[j];
  if (seen > mask) {
    throw new RangeError(`a position code is >= 2**${bits}: quantize with the same bits`);
  }

  // Pass 2: write. The accumulator holds < 8 pending bits plus one value of
  // <= 16 bits, so it never exceeds 24 bits.
  const out = new Uint8Array(size + (n - m) * RAW_PARTICLE_BYTES);
  let p = 0;
  for (let k = 0; k < blocks; k++) {
    const start = 2 * k * DELTA_BLOCK;
    const stop = 2 * Math.min(k * DELTA_BLOCK + DELTA_BLOCK, m);
    const wx = widths[2 * k];
    const wy = widths[2 * k + 1];
    out[p++] = wx;
    out[p++] = wy;
    let acc = 0;
    let held = 0;
    if (wx > 0) {
      for (let j = start; j < stop; j += 2) {
        acc |= zigzag[j] << held;
        held += wx;
        while (held >= 8) {
          out[p++] = acc;
          acc >>>= 8;
          held -= 8;
        }
      }
    }
    if (wy > 0) {
      for (let j = start + 1; j < stop; j += 2) {
        acc |= zigzag[j] << held;
        held += wy;
        while (held >= 8) {
          out[p++] = acc;
          acc >>>= 8;
          held -= 8;
        }
      }
    }
    if (held > 0) out[p++] = acc;
  }
  writeRaw(fp, m, n, out, p);
  return out;
}
