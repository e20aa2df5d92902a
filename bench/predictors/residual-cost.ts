/**
 * What a frame of prediction residuals costs: the bytes encodeDelta would
 * write for them (a model of its Rice blocks, so predictors the wire format
 * does not have can be priced the same way), their order-0 entropy (what an
 * ideal coder of independent residuals would need) and their rms in quanta.
 * Residuals come zigzagged (0, -1, 1, -2, ... as 0, 1, 2, 3, ...),
 * interleaved x, y, as encodeDelta codes them.
 */
import { DELTA_BLOCK, MAX_RICE_K, RICE_ESCAPE } from '../../protocol/index.js';

/** A signed residual as encodeDelta codes it: 0, -1, 1, -2, ... → 0, 1, 2, 3, ... */
export const zigzag = (r: number): number => (r >= 0 ? 2 * r : -2 * r - 1);
const unzigzag = (z: number): number => (z & 1 ? -(z + 1) / 2 : z / 2);

/**
 * Bits encodeDelta writes for these residuals (all particles predicted, none
 * spawned): per block of DELTA_BLOCK particles an 8-bit header with one Rice
 * parameter per axis (the encoder's rule: floor(log2(mean)), at most
 * MAX_RICE_K and bits − 1), then per code q + 1 + k bits, or RICE_ESCAPE +
 * bits when the quotient q reaches RICE_ESCAPE. bench/predictors.ts checks
 * it against encodeDelta's real output.
 */
export function riceDeltaBits(zigzagged: Int32Array, bits: number): number {
  const particles = zigzagged.length >> 1;
  const maxK = Math.min(MAX_RICE_K, bits - 1);
  let total = 0;
  for (let start = 0; start < particles; start += DELTA_BLOCK) {
    const end = Math.min(start + DELTA_BLOCK, particles);
    total += 8;
    for (let axis = 0; axis < 2; axis++) {
      let sum = 0;
      for (let i = start; i < end; i++) sum += zigzagged[2 * i + axis];
      const mean = Math.floor(sum / (end - start));
      const k = Math.min(maxK, mean === 0 ? 0 : 31 - Math.clz32(mean));
      for (let i = start; i < end; i++) {
        const q = zigzagged[2 * i + axis] >>> k;
        total += q < RICE_ESCAPE ? q + 1 + k : RICE_ESCAPE + bits;
      }
    }
  }
  return total;
}

/** One predictor's residuals over many frames. */
export class ResidualTally {
  #histogram = new Map<number, number>();
  #coords = 0;
  #squares = 0;
  #bytes = 0;
  #particles = 0;

  /** One frame's residuals and what it costs on the wire (default: the Rice model's bytes). */
  add(zigzagged: Int32Array, bits: number, bytes = Math.ceil(riceDeltaBits(zigzagged, bits) / 8)) {
    for (const z of zigzagged) {
      this.#histogram.set(z, (this.#histogram.get(z) ?? 0) + 1);
      this.#squares += unzigzag(z) ** 2;
    }
    this.#coords += zigzagged.length;
    this.#particles += zigzagged.length >> 1;
    this.#bytes += bytes;
  }

  /** Order-0 entropy of the residuals, bits per coordinate (x and y pooled). */
  get entropyBits(): number {
    let h = 0;
    for (const count of this.#histogram.values()) {
      const p = count / this.#coords;
      h -= p * Math.log2(p);
    }
    return h;
  }

  /** Bytes per particle per frame. */
  get bytesPerParticle(): number {
    return this.#bytes / this.#particles;
  }

  /** Root mean square residual, in quanta (code steps). */
  get rmsQuanta(): number {
    return Math.sqrt(this.#squares / this.#coords);
  }
}
