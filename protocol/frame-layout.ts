/**
 * The constants and the shared arithmetic of the particle byte layout
 * (specified in frame-codec.ts and docs/PROTOCOL.md): block size, the Rice
 * escape, the prediction gap bound and the scaled second-order prediction
 * step. The encoder and the decoder both take them from here, so the two
 * ends cannot drift apart. Isomorphic: no imports, no node: modules.
 * Changing any value here changes the byte layout (bump PROTOCOL_VERSION).
 */

/**
 * Particles per delta block; each block carries one Rice parameter per axis
 * (8 bits, 1/4 bit per particle). 32 lets the parameter follow the local
 * spread while the header stays a small share of a ~4-bit particle.
 */
export const DELTA_BLOCK = 32;

/**
 * Rice quotients from this value on are escaped: this many one bits, then the
 * value minus ESCAPE << k as a raw `bits`-bit field. Bounds a code at
 * 16 + bits bits however far an outlier jumped (a unary quotient would not).
 */
export const RICE_ESCAPE = 16;

/** Largest Rice parameter that fits the 4-bit field; the decoder also refuses k >= bits. */
export const MAX_RICE_K = 15;

/**
 * Largest tick gap (base − prior, and tick − base) a second-order delta may
 * span. Keeps 2·v·g1 + g0 within 2**25, so the rounding division is exact
 * in any integer or double arithmetic; beyond a few seconds a velocity
 * predicts nothing anyway.
 */
export const MAX_PREDICTION_GAP = 255;

/** Shared with the encoder and decoder; not part of the public API (frame-codec.ts). */
export function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) {
    throw new RangeError(`bits must be an integer in [1, 16], got ${bits}`);
  }
}

/**
 * The predicted step of one coordinate from base to tick, given its step v
 * (wrapped, signed) from prior to base: v·g1/g0 rounded to nearest, halves
 * up, as floor((2·v·g1 + g0) / (2·g0)). Exact: both gaps are at most
 * MAX_PREDICTION_GAP, so the operands are integers well below 2**31 and the
 * double quotient never rounds across an integer. Callers take the fast path
 * v itself when g0 === g1 (the formula gives v then).
 */
export function scaledStep(v: number, g0: number, g1: number): number {
  return Math.floor((2 * v * g1 + g0) / (2 * g0));
}

/** Bytes of the bit-packed raw positions of `count` particles (a keyframe). */
export function rawSize(count: number, bits: number): number {
  return Math.ceil((2 * count * bits) / 8);
}
