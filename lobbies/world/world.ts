/**
 * The particle world of one lobby. Owns the particle state (structure of
 * Float32Arrays preallocated to capacity), the seeded PRNG, the per-owner
 * player forces, and the order of a step: grid rebuild, then the boids
 * kernel (boids.ts) which steers, integrates and wraps.
 *
 * Determinism: the same seed and the same sequence of setForce / removeForce
 * / spawn / step calls give bit-identical x, y, vx, vy. The PRNG is drawn
 * from only in the constructor and spawn; forces are kept sorted by ownerId
 * in arrays (never iterated from a Map); the kernel is order-fixed.
 *
 * Runs anywhere: imports nothing outside lobbies/world and no node: modules.
 */

import {
  type BoidKernel,
  type BoidParams,
  neighbourBufferLength,
  resolveBoidParams,
  stepBoids,
} from './boids.js';
import { createPrng, type Prng } from './prng.js';
import { MAX_NEIGHBOUR_RANGES, SpatialGrid } from './spatial-grid.js';

export type ForceMode = 'attract' | 'repel' | 'none';

export interface WorldOptions {
  /** Side of the square toroidal world in world units (default 1000). */
  size?: number;
  /** Initial particle count (default 10_000). */
  particles?: number;
  /** Capacity: arrays are preallocated to this and spawn cannot exceed it (default max(particles, 20_000)). */
  maxParticles?: number;
  /** uint32 seed of the PRNG. */
  seed: number;
  params?: Partial<BoidParams>;
}

export const WORLD_DEFAULTS = {
  size: 1000,
  particles: 10_000,
  maxParticles: 20_000,
} as const;

/** Initial capacity of the force arrays; they double when full. */
const INITIAL_FORCE_CAPACITY = 8;

const FORCE_SIGN = { attract: 1, repel: -1 } as const;

/** Set once this realm (process or worker) has run primeJit. */
let primed = false;

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
function primeJit(): void {
  // Twice: V8 may optimize the step during the first run, before some
  // branches have feedback; the second run takes those deopts here, in a
  // world too small for them to cost anything.
  for (let run = 0; run < 2; run++) {
    const w = new World({
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

export class World {
  readonly size: number;
  readonly maxParticles: number;
  readonly params: Readonly<BoidParams>;
  // Hot arrays are public so the encoder reads them without a getter; valid
  // for [0, count). Callers must treat them as read-only.
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly vx: Float32Array;
  readonly vy: Float32Array;

  #count = 0;
  /** Steps taken; selects which particles steer this step. */
  #tick = 0;
  readonly #prng: Prng;
  readonly #grid: SpatialGrid;
  readonly #kernel: BoidKernel;
  /** Owner ids of the active forces, ascending; index f matches kernel.forceX[f]. */
  readonly #forceOwners: number[] = [];

  /**
   * @throws RangeError on invalid options or params (non-integer counts,
   *   particles > maxParticles, a world too small for the neighbour radius,
   *   a force radius beyond half the world).
   */
  constructor(options: WorldOptions) {
    if (!primed) {
      primed = true;
      primeJit();
    }
    const size = options.size ?? WORLD_DEFAULTS.size;
    const particles = options.particles ?? WORLD_DEFAULTS.particles;
    const maxParticles = options.maxParticles ?? Math.max(particles, WORLD_DEFAULTS.maxParticles);
    if (!Number.isFinite(size) || size <= 0) {
      throw new RangeError(`size must be a positive finite number, got ${size}`);
    }
    if (!Number.isInteger(maxParticles) || maxParticles < 0) {
      throw new RangeError(`maxParticles must be a non-negative integer, got ${maxParticles}`);
    }
    if (!Number.isInteger(particles) || particles < 0 || particles > maxParticles) {
      throw new RangeError(`particles must be an integer in [0, maxParticles], got ${particles}`);
    }
    const params = resolveBoidParams(options.params);
    // Beyond half the world a force would reach a particle by two paths and
    // the nearest-image distance would jump; keep it unambiguous.
    if (params.forceRadius > size / 2) {
      throw new RangeError(
        `forceRadius ${params.forceRadius} exceeds half the world (${size / 2})`,
      );
    }

    this.size = size;
    this.maxParticles = maxParticles;
    this.params = params;
    this.x = new Float32Array(maxParticles);
    this.y = new Float32Array(maxParticles);
    this.vx = new Float32Array(maxParticles);
    this.vy = new Float32Array(maxParticles);
    this.#prng = createPrng(options.seed);
    this.#grid = new SpatialGrid(size, params.neighbourRadius, maxParticles);
    const nbLength = neighbourBufferLength(params, maxParticles);
    this.#kernel = {
      grid: this.#grid,
      size,
      x: this.x,
      y: this.y,
      vx: this.vx,
      vy: this.vy,
      sx: new Float32Array(maxParticles),
      sy: new Float32Array(maxParticles),
      svx: new Float32Array(maxParticles),
      svy: new Float32Array(maxParticles),
      ranges: new Int32Array(2 * MAX_NEIGHBOUR_RANGES),
      shifts: new Float64Array(2 * MAX_NEIGHBOUR_RANGES),
      nbIndex: new Int32Array(nbLength),
      forceX: new Float64Array(INITIAL_FORCE_CAPACITY),
      forceY: new Float64Array(INITIAL_FORCE_CAPACITY),
      forceSign: new Float64Array(INITIAL_FORCE_CAPACITY),
      forceCount: 0,
      forceList: new Int32Array(INITIAL_FORCE_CAPACITY),
    };

    const rng = this.#prng;
    for (let i = 0; i < particles; i++) {
      this.x[i] = this.#wrapStored(rng.next() * size);
      this.y[i] = this.#wrapStored(rng.next() * size);
      this.#randomVelocity(i);
    }
    this.#count = particles;
  }

  get count(): number {
    return this.#count;
  }

  get forceCount(): number {
    return this.#forceOwners.length;
  }

  /**
   * Sets ownerId's force to act at (x, y) (wrapped into the world) until
   * changed; mode 'none' removes it. Forces are applied in ascending ownerId.
   *
   * @throws RangeError on a non-finite ownerId or point, or an unknown mode.
   */
  setForce(ownerId: number, x: number, y: number, mode: ForceMode): void {
    if (!Number.isFinite(ownerId)) {
      throw new RangeError(`ownerId must be a finite number, got ${ownerId}`);
    }
    if (mode === 'none') {
      this.removeForce(ownerId);
      return;
    }
    if (mode !== 'attract' && mode !== 'repel') {
      throw new RangeError(`unknown force mode ${String(mode)}`);
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`force point must be finite, got (${x}, ${y})`);
    }
    const owners = this.#forceOwners;
    let f = this.#findForce(ownerId);
    if (f < 0) {
      f = ~f;
      this.#ensureForceCapacity(owners.length + 1);
      const k = this.#kernel;
      // Open a slot at f, keeping the arrays sorted by ownerId.
      k.forceX.copyWithin(f + 1, f, owners.length);
      k.forceY.copyWithin(f + 1, f, owners.length);
      k.forceSign.copyWithin(f + 1, f, owners.length);
      owners.splice(f, 0, ownerId);
      k.forceCount = owners.length;
    }
    const k = this.#kernel;
    k.forceX[f] = this.#wrap(x);
    k.forceY[f] = this.#wrap(y);
    k.forceSign[f] = FORCE_SIGN[mode];
  }

  /** Removes ownerId's force; a no-op when it has none. */
  removeForce(ownerId: number): void {
    const f = this.#findForce(ownerId);
    if (f < 0) return;
    const owners = this.#forceOwners;
    const k = this.#kernel;
    k.forceX.copyWithin(f, f + 1, owners.length);
    k.forceY.copyWithin(f, f + 1, owners.length);
    k.forceSign.copyWithin(f, f + 1, owners.length);
    owners.splice(f, 1);
    k.forceCount = owners.length;
  }

  /**
   * Appends `count` particles uniformly in a disc of params.spawnRadius
   * around (x, y) (wrapped), with random headings and speeds in
   * [minSpeed, maxSpeed]. Returns false and changes nothing (not even the
   * PRNG) when the world would exceed maxParticles.
   *
   * @throws RangeError on a non-integer or negative count or a non-finite point.
   */
  spawn(x: number, y: number, count: number): boolean {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`spawn count must be a non-negative integer, got ${count}`);
    }
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      throw new RangeError(`spawn point must be finite, got (${x}, ${y})`);
    }
    if (count + this.#count > this.maxParticles) return false;
    const rng = this.#prng;
    const radius = this.params.spawnRadius;
    const cx = this.#wrap(x);
    const cy = this.#wrap(y);
    const end = this.#count + count;
    for (let i = this.#count; i < end; i++) {
      // Rejection sampling keeps the disc uniform without sin/cos, whose
      // results may differ between JS engines.
      let ux: number;
      let uy: number;
      do {
        ux = rng.next() * 2 - 1;
        uy = rng.next() * 2 - 1;
      } while (ux * ux + uy * uy > 1);
      this.x[i] = this.#wrapStored(cx + ux * radius);
      this.y[i] = this.#wrapStored(cy + uy * radius);
      this.#randomVelocity(i);
    }
    this.#count = end;
    return true;
  }

  /**
   * One fixed step of dt seconds (normally 1/60). Allocates nothing.
   *
   * @throws RangeError when dt is negative or not finite.
   */
  step(dt: number): void {
    if (!(dt >= 0 && dt < Number.POSITIVE_INFINITY)) {
      throw new RangeError(`dt must be a finite number >= 0, got ${dt}`);
    }
    const count = this.#count;
    if (count === 0) {
      this.#tick++;
      return;
    }
    this.#grid.rebuild(this.x, this.y, count);
    stepBoids(this.#kernel, this.params, count, dt, this.#tick);
    this.#tick++;
  }

  /** Binary search over the sorted owners: index, or ~insertionPoint. */
  #findForce(ownerId: number): number {
    const owners = this.#forceOwners;
    let lo = 0;
    let hi = owners.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = owners[mid];
      if (v === ownerId) return mid;
      if (v < ownerId) lo = mid + 1;
      else hi = mid - 1;
    }
    return ~lo;
  }

  #ensureForceCapacity(needed: number): void {
    const k = this.#kernel;
    if (needed <= k.forceX.length) return;
    let cap = k.forceX.length;
    while (cap < needed) cap *= 2;
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    k.forceX = grow(k.forceX);
    k.forceY = grow(k.forceY);
    k.forceSign = grow(k.forceSign);
    k.forceList = new Int32Array(cap);
  }

  /** Heading uniform on the circle (by rejection, no sin/cos), speed in [min, max]. */
  #randomVelocity(i: number): void {
    const rng = this.#prng;
    const { minSpeed, maxSpeed } = this.params;
    let ux: number;
    let uy: number;
    let d2: number;
    do {
      ux = rng.next() * 2 - 1;
      uy = rng.next() * 2 - 1;
      d2 = ux * ux + uy * uy;
      // Too close to 0 and the heading would be dominated by rounding.
    } while (d2 > 1 || d2 < 1e-6);
    const speed = minSpeed + (maxSpeed - minSpeed) * rng.next();
    const scale = speed / Math.sqrt(d2);
    this.vx[i] = ux * scale;
    this.vy[i] = uy * scale;
  }

  /** v mod size, in [0, size] as a double (size only by rounding). */
  #wrap(v: number): number {
    const size = this.size;
    return v - Math.floor(v / size) * size;
  }

  /** v mod size as it will be stored: a float32 in [0, size). */
  #wrapStored(v: number): number {
    const w = Math.fround(this.#wrap(v));
    return w >= this.size || w < 0 ? 0 : w;
  }
}
