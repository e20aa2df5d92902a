/**
 * A world's live state as bit patterns, copied out, so that -0 vs 0 and
 * NaN count as differences. Reads each array at its own offset: a wasm
 * world's arrays are views into one shared memory, not buffers of their own.
 */
import type { World } from '../../lobbies/world/world.js';

export function stateBits(w: World): Uint32Array[] {
  return [w.x, w.y, w.vx, w.vy].map((a) =>
    new Uint32Array(a.buffer, a.byteOffset, w.count).slice(),
  );
}
