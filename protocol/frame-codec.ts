/**
 * Particle frame codec: the public entry for frame data. Owns the byte
 * layout of the `data` field of a frame message (keyframe and delta),
 * specified below; the encoders live in frame-encode.ts (server) and the
 * FrameDecoder in frame-decode.ts (bots, browser), split so each reads as one
 * job. Import from here. Positions are quantized codes (quantize.ts); tick,
 * base tick and particle count travel in the msgpack envelope, not in `data`.
 *
 * Isomorphic: no node: modules, no Buffer. Byte order is written by hand
 * (little-endian), so host endianness never matters.
 *
 * ── Byte layout (copy of docs/PROTOCOL.md, "Particle data") ──────────────
 *
 * B = 2**bits (bits from the welcome message, 1..16). Codes are in [0, B).
 * n = particle count at `tick`. All multi-byte integers are little-endian.
 *
 * Keyframe: exactly 4*n bytes.
 *   for each particle i in [0, n): u16 x, u16 y
 *
 * Delta against base tick `base`, which the client holds with m particles
 * (n >= m: particles are only appended between keyframes). Exactly:
 *
 *   Section 1, moved particles [0, m): ceil(m / 32) blocks. Block k covers
 *   particles [32k, min(32k + 32, m)); L is its length (32, or less for the
 *   last block).
 *     byte 0  wx: bit width of every x value in the block, 0..bits
 *     byte 1  wy: bit width of every y value in the block, 0..bits
 *     then one bit stream: the L x values at wx bits each, particle order,
 *     then the L y values at wy bits each. LSB-first: stream bit j is bit
 *     (j mod 8) of the block's (j div 8)-th stream byte, and each value's
 *     least significant bit comes first. Zero bits pad the stream to a whole
 *     byte, so the block is 2 + ceil(L * (wx + wy) / 8) bytes and the next
 *     block starts byte-aligned. A block with wx = wy = 0 is just its 2 bytes.
 *     Each value is zigzag(d) for that axis:
 *       d = (q_new - q_base) mod B, then d -= B if d >= B/2, so d is in
 *           [-B/2, B/2) and a step across the wrap seam is a small number;
 *       zigzag(d) = 2d for d >= 0, -2d - 1 for d < 0 (0,-1,1,-2 -> 0,1,2,3),
 *           always < B, so a width never exceeds bits.
 *     The encoder uses the smallest width that holds the block's largest
 *     value on that axis. Decoding: d = (z >>> 1) ^ -(z & 1),
 *     q_new = (q_base + d) mod B.
 *   Section 2, spawned particles [m, n): (n - m) times u16 x, u16 y.
 *
 *   Nothing follows. A decoder refuses a delta whose base it does not hold
 *   or whose tick is not after its base, n < m, a width above bits,
 *   non-zero padding bits, a code >= B, and data shorter or longer than the
 *   widths and counts imply.
 *
 * Why this shape: particles move a few quanta per tick (1000-unit world,
 * 14 bits, 20-50 units/s at 60 Hz is 5-14 quanta), so per-axis deltas need
 * ~5 bits, against 14 for a raw code. Blocks of 32 let the width follow the
 * local spread at a cost of 2 bytes per 32 particles (1/16 byte each), and
 * keep one outlier from widening more than its block. Byte-aligned blocks
 * keep the bit reader simple and its state local to a block.
 */

export {
  DELTA_BLOCK,
  deltaSizeUpperBound,
  encodeDelta,
  encodeKeyframe,
  type QuantizedFrame,
  RAW_PARTICLE_BYTES,
} from './frame-encode.js';
export {
  FrameDecodeError,
  FrameDecodeErrorCode,
  type FrameDecodeErrorCodeValue,
  FrameDecoder,
} from './frame-decode.js';
