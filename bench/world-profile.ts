/**
 * Scratch profiler for World.step: median / p99 / max step time at a few
 * particle counts with default params. Run: npx tsx bench/world-profile.ts
 * [counts...] (e.g. 1000 10000 50000). Not part of the load benchmark.
 */

import { World } from '../lobbies/world/world.js';

const WARMUP_STEPS = 180;
const MEASURED_STEPS = 900;
const DT = 1 / 60;

function profile(particles: number, forces: number): string {
  const world = new World({ size: 1000, particles, maxParticles: particles, seed: 42 });
  for (let f = 0; f < forces; f++) {
    world.setForce(f, (f * 997) % 1000, (f * 613) % 1000, f % 2 === 0 ? 'attract' : 'repel');
  }
  for (let s = 0; s < WARMUP_STEPS; s++) world.step(DT);
  const times = new Float64Array(MEASURED_STEPS);
  for (let s = 0; s < MEASURED_STEPS; s++) {
    const t0 = performance.now();
    world.step(DT);
    times[s] = performance.now() - t0;
  }
  times.sort();
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return (
    `${String(particles).padStart(6)} particles, ${forces} forces: ` +
    `median ${at(0.5).toFixed(3)} ms  p99 ${at(0.99).toFixed(3)} ms  max ${times[times.length - 1].toFixed(3)} ms`
  );
}

const counts = process.argv.slice(2).map(Number);
for (const n of counts.length > 0 ? counts : [1_000, 10_000, 50_000]) {
  console.log(profile(n, 0));
  console.log(profile(n, 8));
}
