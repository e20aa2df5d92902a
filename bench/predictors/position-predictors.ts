/**
 * Predictors of a frame's position codes from the frames a client already
 * holds (every gap-th tick): what a delta's residuals are measured against.
 * Each one sees only the client's side: earlier frames' codes, and of the
 * frame being coded only the particles before the one it predicts (a
 * decoder in index order has those already).
 */
import { CodeGrid } from './code-grid.js';

/** The frames around one delta: the client holds base, prior and older; target is coded. */
export class DeltaHistory {
  readonly target: Uint16Array;
  readonly base: Uint16Array;
  readonly prior: Uint16Array;
  readonly older: Uint16Array;
  readonly #side: number;
  #grid?: CodeGrid;
  #neighbourMeanStep?: { radiusCodes: number; mean: Float64Array };

  /**
   * @param codes one frame of codes per recorded tick
   * @param tick index in `codes` of the frame being coded; tick − 3·gap ≥ 0
   */
  constructor(
    codes: readonly Uint16Array[],
    readonly tick: number,
    readonly gap: number,
    readonly bits: number,
    readonly count: number,
  ) {
    this.target = codes[tick];
    this.base = codes[tick - gap];
    this.prior = codes[tick - 2 * gap];
    this.older = codes[tick - 3 * gap];
    this.#side = 1 << bits;
  }

  /** A code difference wrapped into [−side/2, side/2): the shorter way round the torus. */
  wrap(d: number): number {
    const half = this.#side >> 1;
    return ((((d + half) % this.#side) + this.#side) % this.#side) - half;
  }

  /** Coordinate j's last step, prior → base (codes per gap). */
  step(j: number): number {
    return this.wrap(this.base[j] - this.prior[j]);
  }

  /** Coordinate j's step before that, older → prior. */
  earlierStep(j: number): number {
    return this.wrap(this.prior[j] - this.older[j]);
  }

  /** Neighbours in the base frame. */
  get grid(): CodeGrid {
    this.#grid ??= new CodeGrid(this.base, this.count, this.bits);
    return this.#grid;
  }

  /**
   * Per coordinate, the mean last step of the particle's neighbours in the
   * base frame (within the kernel's neighbour radius), or its own step when
   * it has none. Computed once per delta for every alignment gain.
   */
  neighbourMeanStep(radiusCodes: number): Float64Array {
    if (this.#neighbourMeanStep?.radiusCodes === radiusCodes) return this.#neighbourMeanStep.mean;
    const mean = new Float64Array(2 * this.count);
    for (let i = 0; i < this.count; i++) {
      let sx = 0;
      let sy = 0;
      let n = 0;
      this.grid.forEachWithin(i, radiusCodes, (j) => {
        sx += this.step(2 * j);
        sy += this.step(2 * j + 1);
        n++;
      });
      mean[2 * i] = n > 0 ? sx / n : this.step(2 * i);
      mean[2 * i + 1] = n > 0 ? sy / n : this.step(2 * i + 1);
    }
    this.#neighbourMeanStep = { radiusCodes, mean };
    return mean;
  }
}

export interface Predictor {
  name: string;
  /** Uses what no client has (the true velocities): a yardstick, not a candidate. */
  reference?: boolean;
  /** Writes every coordinate's predicted code (any integer: the residual is wrapped). */
  predict(history: DeltaHistory, out: Int32Array): void;
}

/** Stays put: protocol 1's deltas. */
export const firstOrder: Predictor = {
  name: 'first order (stays put)',
  predict(h, out) {
    for (let j = 0; j < 2 * h.count; j++) out[j] = h.base[j];
  },
};

/** Repeats the last step: today's wire format (docs/PROTOCOL.md, "Particle data"). */
export const secondOrder: Predictor = {
  name: 'second order (today)',
  predict(h, out) {
    for (let j = 0; j < 2 * h.count; j++) out[j] = h.base[j] + h.step(j);
  },
};

/**
 * Repeats the last step plus `damping` times its change since the step
 * before (1: constant acceleration). Steering turns particles for a few
 * ticks at a time, so a full acceleration term overshoots; damped it can
 * only match second order.
 */
export function thirdOrder(damping: number): Predictor {
  return {
    name: damping === 1 ? 'third order' : `third order, damped ${damping}`,
    predict(h, out) {
      for (let j = 0; j < 2 * h.count; j++) {
        const step = h.step(j);
        out[j] = h.base[j] + step + Math.round(damping * (step - h.earlierStep(j)));
      }
    },
  };
}

/**
 * Second order with the kernel's alignment rule in it: the step turned by
 * `gain` towards the mean step of the neighbours within `radiusCodes`.
 */
export function alignment(gain: number, radiusCodes: number): Predictor {
  return {
    name: `second order + alignment, gain ${gain}`,
    predict(h, out) {
      const mean = h.neighbourMeanStep(radiusCodes);
      for (let j = 0; j < 2 * h.count; j++) {
        const step = h.step(j);
        out[j] = h.base[j] + Math.round(step + gain * (mean[j] - step));
      }
    },
  };
}

/**
 * Second order plus the second-order residual of the particle's nearest
 * neighbour of lower index in the base frame (already decoded): flockmates
 * turn together, if their residuals are correlated this removes the common
 * part.
 */
export const nearestNeighbourResidual: Predictor = {
  name: "second order + nearest neighbour's residual",
  predict(h, out) {
    for (let i = 0; i < h.count; i++) {
      const neighbour = h.grid.nearestBefore(i);
      for (let axis = 0; axis < 2; axis++) {
        const j = 2 * i + axis;
        const k = 2 * neighbour + axis;
        const shared = neighbour < 0 ? 0 : h.wrap(h.target[k] - h.base[k] - h.step(k));
        out[j] = h.base[j] + h.step(j) + shared;
      }
    }
  },
};
