/**
 * Boids steering. Owns the steering parameters (defaults, limits,
 * validation) and the per-step kernel: separation, alignment, cohesion over
 * grid neighbours, player forces, speed clamp, semi-implicit Euler and
 * toroidal wrap.
 *
 * Determinism: the kernel reads only the cell-ordered snapshot of the
 * previous step (sx, sy, svx, svy), visits cells, particles, ranges and
 * forces in a fixed order, and uses only +, -, *, /, Math.sqrt, Math.floor
 * and Math.fround (all exactly specified), so the same inputs give
 * bit-identical output in any JS engine.
 *
 * Performance: no allocation, no closures, no per-pair wrap branch in the
 * candidate loop (the grid hands out ranges with constant wrap shifts) and
 * no data-dependent branch either (see pass 1), typed arrays hoisted into
 * locals, candidates bounded by maxCandidates, neighbour steering on one
 * particle in steerInterval per step (fewer in big worlds, see
 * steerBudget). Isomorphic: imports only the grid.
 *
 * The wasm kernel (kernel/boids-kernel.ts) is a port of this file's step
 * (its neighbour sums in f32 SIMD, so not the same bits): a change of
 * behaviour here is made there too; test/unit/lobbies/world/
 * wasm-kernel.test.ts holds the two within rounding of each other.
 */

import type { SpatialGrid } from './spatial-grid.js';

/**
 * Default steering parameters. Distances in world units, speeds in units/s,
 * accelerations in units/s^2.
 */
export const BOID_DEFAULTS = {
  /**
   * Neighbours closer than this steer each other (half of it in crowded
   * cells, see maxCandidates). Also the grid's minimum cell size.
   */
  neighbourRadius: 16,
  /** Neighbours closer than this push apart (capped at half the neighbour radius in crowded cells). */
  separationRadius: 7,
  /** Per-second gain pulling a velocity toward the neighbours' mean velocity. */
  alignment: 1.5,
  /** Per-second^2 gain pulling toward the neighbours' centroid. */
  cohesion: 1,
  /**
   * Gain of the separation push, which is the sum over close neighbours of
   * (away unit vector) / distance: units^2/s^2.
   */
  separation: 400,
  minSpeed: 15,
  maxSpeed: 50,
  /**
   * Bound on neighbour candidates examined per particle (0 = no bound), which
   * keeps a step's cost flat as density grows. Candidates are the particles
   * of the 3x3 cells around a particle's cell. Where they number more than
   * this, the cell's particles use half the neighbour radius, whose disc
   * fits in the 2x2 cells on the particle's side (4/9 of the candidates): an
   * exact, deterministic answer to crowding that keeps about as many real
   * neighbours. Where even those hold more, every s-th candidate is taken
   * (s = ceil(total / maxCandidates)), a last resort for pathological
   * clumps such as a large spawn. Separation is not scaled up by s there:
   * the scaled estimate is unbiased but so noisy that it stops flocking.
   */
  maxCandidates: 64,
  /**
   * A particle recomputes its neighbour steering every this many steps
   * (particle i on steps where step % steerInterval === i % steerInterval),
   * with the gains scaled to match. Forces, speed limits and integration
   * still run every step. 2 halves the neighbour cost, the bulk of a step,
   * with no visible change at 60 Hz; 1 steers every particle every step.
   */
  steerInterval: 2,
  /**
   * Neighbour steerings a step aims to stay within (0 = no budget). A world
   * of more than steerInterval x steerBudget particles steers each one
   * every ceil(count / steerBudget) steps instead, up to
   * BOID_LIMITS.maxBudgetInterval, gains scaled to match as above: the
   * neighbour work of a step grows far slower than the particle count, so
   * one lobby of 50,000 still steps within a 60 Hz tick, each particle
   * re-steering 15 times a second. Worlds of up to 20,000 particles are
   * unaffected.
   */
  steerBudget: 10_000,
  /** Player forces act within this toroidal distance of their point. */
  forceRadius: 150,
  /** Force acceleration at the point; falls linearly to 0 at forceRadius. */
  forceStrength: 240,
  /** Spawned particles land uniformly in a disc of this radius around the point. */
  spawnRadius: 10,
} as const;

export type BoidParams = { -readonly [K in keyof typeof BOID_DEFAULTS]: number };

/**
 * Hard ceilings, not tunables. The wire encodes per-tick movement in a small
 * delta, so a speed above 60 units/s (1 unit per 60 Hz tick) would not fit.
 */
export const BOID_LIMITS = {
  maxSpeedCeiling: 60,
  maxSteerInterval: 8,
  /**
   * The budget stretches the steer interval no further than this. Steering
   * once per k steps applies k steps' worth at once; from k = 5 the kicks,
   * separation above all, grow large enough to break flocks up (local
   * alignment drops from ~0.6 to 0.5 at 5 and 0.4 at 6, world.test.ts).
   */
  maxBudgetInterval: 4,
} as const;

/**
 * Defaults merged with overrides, validated and frozen.
 *
 * @throws RangeError naming the first parameter that is out of range.
 */
export function resolveBoidParams(overrides: Partial<BoidParams> = {}): Readonly<BoidParams> {
  const p: BoidParams = { ...BOID_DEFAULTS };
  for (const key of Object.keys(BOID_DEFAULTS) as (keyof BoidParams)[]) {
    const v = overrides[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`boid param ${key} must be a finite number, got ${String(v)}`);
    }
    p[key] = v;
  }
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`boid params: ${what}`);
  };
  check(p.neighbourRadius > 0, `neighbourRadius must be > 0, got ${p.neighbourRadius}`);
  check(
    p.separationRadius >= 0 && p.separationRadius <= p.neighbourRadius,
    `separationRadius must be in [0, neighbourRadius], got ${p.separationRadius}`,
  );
  check(p.alignment >= 0, `alignment must be >= 0, got ${p.alignment}`);
  check(p.cohesion >= 0, `cohesion must be >= 0, got ${p.cohesion}`);
  check(p.separation >= 0, `separation must be >= 0, got ${p.separation}`);
  check(
    p.maxSpeed > 0 && p.maxSpeed <= BOID_LIMITS.maxSpeedCeiling,
    `maxSpeed must be in (0, ${BOID_LIMITS.maxSpeedCeiling}], got ${p.maxSpeed}`,
  );
  check(
    p.minSpeed >= 0 && p.minSpeed <= p.maxSpeed,
    `minSpeed must be in [0, maxSpeed], got ${p.minSpeed}`,
  );
  check(
    Number.isInteger(p.maxCandidates) && p.maxCandidates >= 0,
    `maxCandidates must be a non-negative integer, got ${p.maxCandidates}`,
  );
  check(
    Number.isInteger(p.steerInterval) &&
      p.steerInterval >= 1 &&
      p.steerInterval <= BOID_LIMITS.maxSteerInterval,
    `steerInterval must be an integer in [1, ${BOID_LIMITS.maxSteerInterval}], got ${p.steerInterval}`,
  );
  check(
    Number.isInteger(p.steerBudget) && p.steerBudget >= 0,
    `steerBudget must be a non-negative integer, got ${p.steerBudget}`,
  );
  check(p.forceRadius > 0, `forceRadius must be > 0, got ${p.forceRadius}`);
  check(p.forceStrength >= 0, `forceStrength must be >= 0, got ${p.forceStrength}`);
  check(p.spawnRadius >= 0, `spawnRadius must be >= 0, got ${p.spawnRadius}`);
  return Object.freeze(p);
}

/**
 * Everything the kernel touches, gathered once by the world so a step makes
 * no allocation. Arrays are sized for the world's capacity.
 */
export interface BoidKernel {
  readonly grid: SpatialGrid;
  readonly size: number;
  /** Particle state, by particle index; written by the kernel. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly vx: Float32Array;
  readonly vy: Float32Array;
  /** Previous-step state in cell order (grid.sortedIndex); read by the kernel. */
  readonly sx: Float32Array;
  readonly sy: Float32Array;
  readonly svx: Float32Array;
  readonly svy: Float32Array;
  /** Scratch for grid.neighbourRanges / quadrantRanges. */
  readonly ranges: Int32Array;
  readonly shifts: Float64Array;
  /** Scratch for one particle's candidates, neighbourBufferLength(params, capacity) long. */
  readonly nbIndex: Int32Array;
  /** Active forces [0, forceCount): point and sign (+1 attract, -1 repel). */
  forceX: Float64Array;
  forceY: Float64Array;
  forceSign: Float64Array;
  forceCount: number;
  /** Scratch: the forces that reach one cell; as long as forceX. */
  forceList: Int32Array;
}

/**
 * Candidates one particle can examine in a step: at most maxCandidates
 * (stride sampling guarantees it), or every particle when uncapped.
 */
export function neighbourBufferLength(p: Readonly<BoidParams>, capacity: number): number {
  return Math.max(1, p.maxCandidates > 0 ? Math.min(p.maxCandidates, capacity) : capacity);
}

/**
 * Every how many steps each of `count` particles steers: steerInterval, or
 * more where the steering budget asks for it (see steerBudget).
 */
export function steerIntervalFor(p: Readonly<BoidParams>, count: number): number {
  if (p.steerBudget === 0) return p.steerInterval;
  const needed = Math.min(BOID_LIMITS.maxBudgetInterval, Math.ceil(count / p.steerBudget));
  return Math.max(p.steerInterval, needed);
}

/** Half the diagonal of a unit square, rounded up. */
const HALF_DIAGONAL = 0.7072;

/**
 * Added to the squared distance in the separation push (units^2): bounds the
 * push of two particles at the same spot instead of dividing by zero.
 */
const SEPARATION_SOFTENING = 0.01;

/**
 * Advances particles [0, count) by dt. The grid must have been rebuilt from
 * the current positions with this count. `tick` is the number of steps taken
 * before this one; it picks which particles steer (see steerInterval).
 */
export function stepBoids(
  k: BoidKernel,
  p: Readonly<BoidParams>,
  count: number,
  dt: number,
  tick: number,
): void {
  const grid = k.grid;
  const cells = grid.cells;
  const cellStart = grid.cellStart;
  const cols = grid.cols;
  const cellSize = grid.cellSize;
  const sortedIndex = grid.sortedIndex;
  const x = k.x;
  const y = k.y;
  const vx = k.vx;
  const vy = k.vy;
  const sx = k.sx;
  const sy = k.sy;
  const svx = k.svx;
  const svy = k.svy;
  const ranges = k.ranges;
  const shifts = k.shifts;
  const nbIndex = k.nbIndex;

  // Snapshot the previous step in cell order: neighbours of one cell are then
  // contiguous in memory, and every particle sees the same old state no
  // matter which particles were already updated this step.
  for (let a = 0; a < count; a++) {
    const i = sortedIndex[a];
    sx[a] = x[i];
    sy[a] = y[i];
    svx[a] = vx[i];
    svy[a] = vy[i];
  }

  const size = k.size;
  const half = size * 0.5;
  const r2 = p.neighbourRadius * p.neighbourRadius;
  const crowdedR2 = r2 * 0.25;
  const sep2 = p.separationRadius * p.separationRadius;
  const interval = steerIntervalFor(p, count);
  const phase = tick % interval;
  // A particle steers once per `interval` steps, so its steering acts for
  // interval * dt: fold that into the gains once.
  const alignW = p.alignment * interval;
  const cohW = p.cohesion * interval;
  const sepW = p.separation * interval;
  const minSpeed = p.minSpeed;
  const maxSpeed = p.maxSpeed;
  const min2 = minSpeed * minSpeed;
  const max2 = maxSpeed * maxSpeed;
  const cap = p.maxCandidates;
  const forceX = k.forceX;
  const forceY = k.forceY;
  const forceSign = k.forceSign;
  const nf = k.forceCount;
  const fr = p.forceRadius;
  const fr2 = fr * fr;
  const invFr = 1 / fr;
  const fStrength = p.forceStrength;
  const forceList = k.forceList;
  // A cell's points lie within half a diagonal of its centre (plus rounding).
  const forceReach = fr + cellSize * HALF_DIAGONAL;
  const forceReach2 = forceReach * forceReach;

  for (let c = 0; c < cells; c++) {
    const cs = cellStart[c];
    const ce = cellStart[c + 1];
    if (cs === ce) continue;
    // The 3x3 ranges are found on the first particle that steers: with
    // steerInterval 2, a sparse cell often has none this step.
    let nr = -1;
    let crowded = false;
    const row = (c / cols) | 0;
    const midX = (c - row * cols + 0.5) * cellSize;
    const midY = (row + 0.5) * cellSize;
    // Forces that can reach some point of this cell, in ascending order (so
    // sums are unchanged): with a few forces of radius 150 in a 1000-wide
    // world, most cells have none and their particles skip the force loop.
    let cellForces = 0;
    for (let f = 0; f < nf; f++) {
      let dx = forceX[f] - midX;
      if (dx > half) dx -= size;
      else if (dx < -half) dx += size;
      let dy = forceY[f] - midY;
      if (dy > half) dy -= size;
      else if (dy < -half) dy += size;
      if (dx * dx + dy * dy < forceReach2) forceList[cellForces++] = f;
    }

    for (let a = cs; a < ce; a++) {
      const i = sortedIndex[a];
      const px = sx[a];
      const py = sy[a];
      const pvx = svx[a];
      const pvy = svy[a];
      let ax = 0;
      let ay = 0;

      if (i % interval === phase) {
        if (nr < 0) {
          nr = grid.neighbourRanges(c, ranges, shifts);
          let total = 0;
          for (let r = 0; r < nr; r++) total += ranges[2 * r + 1] - ranges[2 * r];
          crowded = cap > 0 && total > cap;
        }
        // Full radius over the 3x3 block; in a crowded cell, half the radius
        // over the particle's quadrant block (4 cells, not 9); where even
        // that holds too many, every stride-th candidate.
        let nq = nr;
        let radius2 = r2;
        let stride = 1;
        if (crowded) {
          nq = grid.quadrantRanges(c, px < midX, py < midY, ranges, shifts);
          let total = 0;
          for (let r = 0; r < nq; r++) total += ranges[2 * r + 1] - ranges[2 * r];
          radius2 = crowdedR2;
          if (total > cap) stride = ((total + cap - 1) / cap) | 0;
        }
        // Pass 1 tests every candidate without a branch: the index is always
        // written and the cursor advances only for a neighbour. About two
        // thirds of the 3x3 candidates fall outside the radius at random, so
        // a branch here would mispredict constantly.
        let m = 0;
        // Offset the sampling phase per particle so particles of one cell do
        // not all sample the same subset.
        let skip = stride === 1 ? 0 : a % stride;
        for (let r = 0; r < nq; r++) {
          const end = ranges[2 * r + 1];
          const ox = shifts[2 * r] - px;
          const oy = shifts[2 * r + 1] - py;
          let j = ranges[2 * r] + skip;
          for (; j < end; j += stride) {
            const dx = sx[j] + ox;
            const dy = sy[j] + oy;
            nbIndex[m] = j;
            // Number(bool) compiles to a flag-to-integer move, not a branch.
            m += Number(dx * dx + dy * dy < radius2);
          }
          skip = j - end;
        }

        // Pass 2 accumulates over the neighbours found (the particle itself
        // is among them: skipped, a branch taken at most once).
        let n = 0;
        let sumVx = 0;
        let sumVy = 0;
        let sumDx = 0;
        let sumDy = 0;
        let sepX = 0;
        let sepY = 0;
        for (let q = 0; q < m; q++) {
          const j = nbIndex[q];
          if (j === a) continue;
          // Recomputing the offset is cheaper than storing it in pass 1 for
          // every candidate; the wrap branches are taken only at the seam.
          let dx = sx[j] - px;
          let dy = sy[j] - py;
          if (dx > half) dx -= size;
          else if (dx < -half) dx += size;
          if (dy > half) dy -= size;
          else if (dy < -half) dy += size;
          n++;
          sumVx += svx[j];
          sumVy += svy[j];
          sumDx += dx;
          sumDy += dy;
          const d2 = dx * dx + dy * dy;
          // Branch-free: in crowded cells most neighbours are this close, so
          // a branch would mispredict; the softening keeps d = 0 finite.
          const inv = Number(d2 < sep2) / (d2 + SEPARATION_SOFTENING);
          sepX -= dx * inv;
          sepY -= dy * inv;
        }
        if (n > 0) {
          const invN = 1 / n;
          ax = (sumVx * invN - pvx) * alignW + sumDx * invN * cohW + sepX * sepW;
          ay = (sumVy * invN - pvy) * alignW + sumDy * invN * cohW + sepY * sepW;
        }
      }

      for (let q = 0; q < cellForces; q++) {
        const f = forceList[q];
        let dx = forceX[f] - px;
        if (dx > half) dx -= size;
        else if (dx < -half) dx += size;
        if (dx >= fr || dx <= -fr) continue;
        let dy = forceY[f] - py;
        if (dy > half) dy -= size;
        else if (dy < -half) dy += size;
        const d2 = dx * dx + dy * dy;
        // At the point itself the direction is undefined: no push.
        if (d2 >= fr2 || d2 === 0) continue;
        const d = Math.sqrt(d2);
        const g = (forceSign[f] * fStrength * (1 - d * invFr)) / d;
        ax += dx * g;
        ay += dy * g;
      }

      let nvx = pvx + ax * dt;
      let nvy = pvy + ay * dt;
      const s2 = nvx * nvx + nvy * nvy;
      if (s2 > max2) {
        const scale = maxSpeed / Math.sqrt(s2);
        nvx *= scale;
        nvy *= scale;
      } else if (s2 < min2) {
        if (s2 > 0) {
          const scale = minSpeed / Math.sqrt(s2);
          nvx *= scale;
          nvy *= scale;
        } else {
          // A dead stop has no heading to keep; any fixed one is deterministic.
          nvx = minSpeed;
          nvy = 0;
        }
      }

      let nx = px + nvx * dt;
      let ny = py + nvy * dt;
      // One add/subtract covers any step shorter than a world crossing; the
      // floor path is for huge dt. Then round to float32 as it will be stored:
      // size - tiny rounds up to exactly size, which is 0 on the torus.
      if (nx >= size || nx < 0) nx -= Math.floor(nx / size) * size;
      if (ny >= size || ny < 0) ny -= Math.floor(ny / size) * size;
      nx = Math.fround(nx);
      ny = Math.fround(ny);
      if (nx >= size || nx < 0) nx = 0;
      if (ny >= size || ny < 0) ny = 0;

      vx[i] = nvx;
      vy[i] = nvy;
      x[i] = nx;
      y[i] = ny;
    }
  }
}
