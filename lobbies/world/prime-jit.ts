/**
 * Warms V8 up for the world's step, once per realm (process or worker
 * thread), before the first real world exists: see primeJit. World's
 * constructor calls it for a world on the JS kernel (a wasm world's step
 * is compiled ahead of time, and needs no warm-up).
 *
 * Runs anywhere: imports only World's types.
 */
import type { World, WorldOptions } from './world.js';

/** Set once this realm (process or worker) has run primeJit. */
let primed = false;

/** World's constructor, handed in by world.ts (importing it here would make a cycle). */
type WorldClass = new (options: WorldOptions) => World;

/**
 * Runs a tiny throwaway world through every branch of a step (sparse and
 * crowded cells, stride-sampled clumps, seams, forces across the seams, a
 * dead stop, a tiny and a huge dt) so that V8 has type feedback for all of
 * them before a real world's first step. Without it, the first time a
 * running lobby reaches a rare branch, TurboFan discards the optimized step
 * ("insufficient type feedback") and that step finishes in the interpreter:
 * about 100 ms at 10k particles, six missed ticks. Non-integer sizes and
 * params make V8 store those fields as doubles from the start, so a real
 * world's 16.13-unit cells do not change the grid's hidden class later.
 * Touches no state of any other world (determinism is unaffected); costs a
 * few milliseconds once per process or worker.
 */
export function primeJit(WorldOf: WorldClass): void {
  if (primed) return;
  primed = true;
  // Twice: V8 may optimize the step during the first run, before some
  // branches have feedback; the second run takes those deopts here, in a
  // world too small for them to cost anything.
  for (let run = 0; run < 2; run++) {
    const w = new WorldOf({
      size: 200.5,
      particles: 0,
      maxParticles: 200,
      seed: 1,
      params: {
        // A low cap makes small clumps crowded and stride-sampled, keeping
        // the interpreted (slow) first runs short.
        maxCandidates: 12,
        neighbourRadius: 16.5,
        separationRadius: 7.5,
        cohesion: 1.25,
        separation: 400.5,
        minSpeed: 15.5,
        maxSpeed: 50.5,
        forceRadius: 60.5,
        forceStrength: 240.5,
        spawnRadius: 10.5,
      },
    });
    w.spawn(100, 100, 60); // crowded, stride-sampled
    w.spawn(1, 1, 50); // crowded across the corner seam
    w.spawn(199, 100, 50); // crowded across the x seam
    w.spawn(0.5, 150, 1); // sparse cells, at and away from the seams
    w.spawn(150, 155, 1);
    w.spawn(100, 199.5, 1);
    w.setForce(1, 100, 100, 'attract');
    w.setForce(2, 2, 190, 'repel');
    w.setForce(3, 190, 10, 'repel');
    for (let s = 0; s < 2; s++) w.step(1 / 60);
    // Particle 161 alone at (150, 155), out of reach of neighbours and
    // forces, at rest: a dead stop.
    w.x[161] = 150;
    w.y[161] = 155;
    w.vx[161] = 0;
    w.vy[161] = 0;
    w.step(1 / 60);
    // Particle 160 at (0, 0) moving down-left by a hair: both coordinates
    // round up to size in float32 and must be stored as 0.
    w.x[160] = 0;
    w.y[160] = 0;
    w.vx[160] = -20;
    w.vy[160] = -20;
    w.step(1e-9);
    w.step(500.5);
  }
}
