/**
 * How far apart two worlds of the same particles are: the rms and the
 * largest distance between each particle's two positions (toroidal, so a
 * particle either side of a seam is near itself) and between its two
 * velocities. For comparing the kernels, which differ in rounding only.
 */
import type { World } from '../../lobbies/world/world.js';

export interface StateGap {
  positionRms: number;
  positionMax: number;
  velocityRms: number;
  velocityMax: number;
}

export function stateGap(a: World, b: World): StateGap {
  if (a.count !== b.count || a.size !== b.size) throw new Error('not the same particles');
  const size = a.size;
  let position2 = 0;
  let velocity2 = 0;
  let positionMax2 = 0;
  let velocityMax2 = 0;
  for (let i = 0; i < a.count; i++) {
    const dx = Math.abs(a.x[i] - b.x[i]);
    const dy = Math.abs(a.y[i] - b.y[i]);
    const p2 = Math.min(dx, size - dx) ** 2 + Math.min(dy, size - dy) ** 2;
    const v2 = (a.vx[i] - b.vx[i]) ** 2 + (a.vy[i] - b.vy[i]) ** 2;
    position2 += p2;
    velocity2 += v2;
    positionMax2 = Math.max(positionMax2, p2);
    velocityMax2 = Math.max(velocityMax2, v2);
  }
  const n = Math.max(1, a.count);
  return {
    positionRms: Math.sqrt(position2 / n),
    positionMax: Math.sqrt(positionMax2),
    velocityRms: Math.sqrt(velocity2 / n),
    velocityMax: Math.sqrt(velocityMax2),
  };
}
