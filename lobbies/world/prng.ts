/**
 * Seeded pseudo-random numbers for the particle world. Owns the generator
 * (mulberry32: 32 bits of state, period 2**32) and its snapshot/restore.
 *
 * Why mulberry32: one uint32 of state is trivial to snapshot into a frame or a
 * test, and it uses only 32-bit integer ops (Math.imul, shifts), so the same
 * seed yields the same sequence in Node, a browser or a worker. It is not
 * cryptographic and is not meant to be; the world only needs reproducible
 * jitter for spawns and initial state.
 *
 * Isomorphic: no imports.
 */

/** 2**32 as a double: turns a uint32 into [0, 1) with one exact division. */
const UINT32_RANGE = 4294967296;

export interface Prng {
  /** Uniform in [0, 1), a multiple of 2**-32 (so never exactly 1). */
  next(): number;
  /** Uniform integer in [0, n); n must be an integer in [1, 2**32]. */
  int(n: number): number;
  /** Uniform in [min, max). */
  range(min: number, max: number): number;
  /** The whole generator state; `restore(state())` replays from here. */
  state(): number;
  restore(state: number): void;
}

/**
 * Creates a generator from a uint32 seed (other numbers are reduced with
 * `>>> 0`, so -1 and 0xffffffff are the same seed).
 *
 * @throws RangeError when the seed is not a finite number.
 */
export function createPrng(seed: number): Prng {
  if (!Number.isFinite(seed)) {
    throw new RangeError(`seed must be a finite number, got ${seed}`);
  }
  let s = seed >>> 0;

  const nextUint32 = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };

  return {
    next: () => nextUint32() / UINT32_RANGE,
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > UINT32_RANGE) {
        throw new RangeError(`int(n) needs an integer n in [1, 2**32], got ${n}`);
      }
      // Multiply-and-floor: the bias is at most n / 2**32, far below anything
      // the simulation could notice, and it costs one draw (no rejection loop).
      return Math.floor((nextUint32() / UINT32_RANGE) * n);
    },
    range: (min: number, max: number) => min + (max - min) * (nextUint32() / UINT32_RANGE),
    state: () => s,
    restore(state: number): void {
      if (!Number.isFinite(state)) {
        throw new RangeError(`state must be a finite number, got ${state}`);
      }
      s = state >>> 0;
    },
  };
}
