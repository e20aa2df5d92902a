/**
 * The predictor that knows the physics: rebuild the world at the base tick
 * from what a client can estimate (positions from the base frame's codes,
 * velocities from its last steps), step the real boids kernel `gap` ticks,
 * and quantize. Everything else a step depends on (tick count, PRNG, forces:
 * none in this bench) is taken from the recorded world, as a client that
 * ran the same kernel would know it.
 *
 * With `trueVelocity` the velocities come from the recorded world instead:
 * a reference for how much of the residual is the velocity estimate's.
 */
import { World } from '../../lobbies/index.js';
import { quantizePositions } from '../../protocol/index.js';
import type { DeltaHistory, Predictor } from './position-predictors.js';

export type WorldState = ReturnType<World['snapshot']>;

export function kernelPredictor(
  /** The recorded world's state after each recorded tick, indexed as DeltaHistory.tick. */
  states: readonly WorldState[],
  dt: number,
  trueVelocity: boolean,
): Predictor {
  return {
    name: trueVelocity
      ? 'boids kernel from estimated x, true v (reference)'
      : 'boids kernel from estimated x, v',
    reference: trueVelocity,
    predict(h: DeltaHistory, out: Int32Array) {
      const recorded = states[h.tick - h.gap];
      const { size, count } = recorded;
      const quantum = size / (1 << h.bits);
      const span = h.gap * dt;
      const x = new Float32Array(count);
      const y = new Float32Array(count);
      const vx = new Float32Array(count);
      const vy = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        x[i] = Math.fround(h.base[2 * i] * quantum) % size;
        y[i] = Math.fround(h.base[2 * i + 1] * quantum) % size;
        if (trueVelocity) {
          vx[i] = recorded.vx[i];
          vy[i] = recorded.vy[i];
        } else {
          // Velocity at the base tick from the last two steps (second-order backward difference).
          vx[i] = ((1.5 * h.step(2 * i) - 0.5 * h.earlierStep(2 * i)) * quantum) / span;
          vy[i] = ((1.5 * h.step(2 * i + 1) - 0.5 * h.earlierStep(2 * i + 1)) * quantum) / span;
        }
      }
      const world = World.fromSnapshot({ ...recorded, x, y, vx, vy }, count);
      for (let k = 0; k < h.gap; k++) world.step(dt);
      const predicted = new Uint16Array(2 * count);
      quantizePositions(world.x, world.y, count, size, h.bits, predicted);
      out.set(predicted);
    },
  };
}
