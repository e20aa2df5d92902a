/**
 * Particle frame codec: the public entry for frame data. Owns the byte
 * layout of the `data` field of a frame message (keyframe and delta),
 * specified below; its constants and shared arithmetic live in
 * frame-layout.ts, the encoders in frame-encode.ts (server) and the
 * FrameDecoder in frame-decode.ts (bots, browser), split so each reads as
 * one job. Import from here. Positions are quantized codes (quantize.ts);
 * tick, base, prior and particle count travel in the msgpack envelope, not
 * in `data`. Test vectors: protocol/vectors/frames.json.
 *
 * Isomorphic: no node: modules, no Buffer. Bits are packed by hand, so host
 * endianness never matters.
 *
 * ── Byte layout (copy of docs/PROTOCOL.md, "Particle data") ──────────────
 *
 * B = 2**bits (bits from the welcome message, 1..16). Codes are in [0, B).
 * n = particle count at `tick` (the message's `n`). A frame's particles are
 * in index order; particle i has codes x_i, y_i.
 *
 * Bit stream. `data` is one bit stream read from its first byte: stream bit
 * j is bit (j mod 8) of byte (j div 8), bit 0 being the least significant.
 * A w-bit field holding v occupies the next w stream bits, least
 * significant bit first: v = sum over i < w of (stream bit (s + i)) << i,
 * where s is where the field starts. Fields follow each other with no
 * alignment. After the last field, zero bits pad the stream to a whole
 * byte; `data` is exactly ceil(total bits / 8) bytes, nothing follows.
 *
 * Helpers (integers; mod gives a result in [0, B)):
 *   wrap(d)   = ((d + B/2) mod B) - B/2, the signed step on the torus,
 *               in [-B/2, B/2): a step across the seam is a small number.
 *   zigzag(d) = 2d for d >= 0, -2d - 1 for d < 0 (0,-1,1,-2 -> 0,1,2,3),
 *               in [0, B) for d in [-B/2, B/2).
 *   unzigzag(z) = z / 2 for even z, -(z + 1) / 2 for odd z.
 *
 * Keyframe (kind "key"): for each particle i in [0, n): x_i as a bits-bit
 * field, then y_i as a bits-bit field. Exactly ceil(2*n*bits / 8) bytes.
 *
 * Delta (kind "delta") to `tick` from `base`, the frame the client holds
 * (m particles, n >= m: particles are only appended between keyframes),
 * and, when the message has `prior`, from the frame the client held before
 * `base` (m0 <= m particles). Its particles [0, m) are coded as residuals
 * from a prediction P, per axis (x and y alike):
 *   first order (no `prior`), and particles i >= m0 of a second-order delta:
 *     P = base_i
 *   second order (`prior` present), particles i < m0:
 *     v  = wrap(base_i - prior_i)        motion over the previous gap
 *     g0 = base - prior, g1 = tick - base     (ticks; 1 <= each <= 255)
 *     s  = floor((2*v*g1 + g0) / (2*g0))     v*g1/g0 rounded, halves up;
 *                                             s = v when g0 = g1
 *     P  = (base_i + s) mod B
 *   the residual is r = wrap(q_tick - P), coded as z = zigzag(r).
 *   Decoding: q_tick = (P + unzigzag(z)) mod B.
 *
 *   Section 1, moved particles [0, m): ceil(m / 32) blocks. Block k covers
 *   particles [32k, min(32k + 32, m)); L is its length (32, or less for the
 *   last block). A block is:
 *     kx: 4-bit field, the Rice parameter of its x residuals, 0..bits-1
 *     ky: 4-bit field, the same for y, 0..bits-1
 *     the L x residuals as Rice(kx) codes in particle order, then the L y
 *       residuals as Rice(ky) codes.
 *   Rice(k) of z: q = z >> k (z div 2**k).
 *     q < 16:  q one bits, a zero bit, then z mod 2**k as a k-bit field.
 *     q >= 16: sixteen one bits (the escape), then z - 16*2**k as a
 *              bits-bit field.
 *     A decoder reads one bits until a zero bit or sixteen ones, and rebuilds
 *     z = q*2**k + the k-bit field, or 16*2**k + the bits-bit field.
 *   Section 2, spawned particles [m, n): x_i, y_i as bits-bit fields, as in
 *   a keyframe.
 *   Then the padding.
 *
 * A decoder refuses (FrameDecodeError codes): a delta whose base it does not
 * hold (base_mismatch) or whose prior is not the frame it held before base
 * (prior_mismatch; a decoder holds a prior only after a delta, never after
 * a keyframe); a tick not after its base or a prediction gap above 255
 * (bad_header); n < m (count_shrink); a Rice parameter >= bits (bad_width);
 * a decoded z >= B (value_out_of_range); data that ends inside a field
 * (truncated) or has a whole byte after the last field (overlong); non-zero
 * padding bits (bad_padding).
 *
 * Why this shape: a boid's velocity changes little from one tick to the
 * next, so the second-order residual is mostly quantization noise (about
 * half zeros, half ±1 at 60 Hz) where a first-order one is the whole
 * 5-14 quanta step. Rice codes with a 4-bit parameter per 32 particles and
 * axis follow the local spread (k = 0 for 60 Hz second order, 3-4 for
 * first order or slow senders) at 1/4 bit per particle, and decode with a
 * count of leading ones instead of a table. The escape bounds an outlier
 * (a particle thrown by a player's force) at 16 + bits bits. Keyframes are
 * packed at `bits` bits per coordinate: in index order the flock's
 * positions are close to uniform (docs/PROTOCOL.md gives the entropy).
 */

export {
  canPredict,
  deltaSizeUpperBound,
  encodeDelta,
  encodeKeyframe,
  type QuantizedFrame,
} from './frame-encode.js';
export { DELTA_BLOCK, MAX_PREDICTION_GAP, MAX_RICE_K, RICE_ESCAPE } from './frame-layout.js';
export {
  FrameDecodeError,
  FrameDecodeErrorCode,
  type FrameDecodeErrorCodeValue,
  FrameDecoder,
} from './frame-decode.js';
