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
 * Checkpoints: `snapshot()` copies out everything a later step or spawn
 * reads (particles, PRNG state, step counter, forces) and
 * `World.fromSnapshot` rebuilds a world that continues bit-identically to
 * the one that never stopped. The grid and the kernel's scratch arrays are
 * rebuilt from the particles at every step, so they are not part of it.
 *
 * Kernels: the JS kernel (boids.ts after spatial-grid.ts) or the wasm one
 * (wasm-kernel.ts), chosen per world by `WorldOptions.kernel`. Each keeps
 * every promise above with itself. They do not give each other's bits:
 * the wasm kernel sums neighbours in f32 SIMD lanes, the JS one in f64, so
 * from one state they stay within rounding for a few steps and then part
 * into different, equally good flocks (tested both ways). A snapshot
 * resumed on the other kernel (a fleet instance that fell back to JS)
 * continues the same world, but not bit-identically. On the wasm kernel x, y,
 * vx, vy are views into the kernel's shared memory, and the step may be
 * split across threads (`WorldOptions.partitions`, world-split.ts) with
 * the same bits; such a world must be closed (`close()`) to stop them.
 *
 * Runs anywhere: imports nothing outside lobbies/world and no node: modules.
 */

import {
  type BoidKernel,
  type BoidParams,
  neighbourBufferLength,
  resolveBoidParams,
  stepBoids,
  steerIntervalFor,
} from './boids.js';
import { createPrng, type Prng } from './prng.js';
import { MAX_NEIGHBOUR_RANGES, SpatialGrid } from './spatial-grid.js';
import { primeJit } from './prime-jit.js';
import { JS_KERNEL, WasmBoidKernel, type WorldKernel } from './wasm-kernel.js';
import {
  type PartitionSpawner,
  SPLIT_LIMITS,
  splitPartitions,
  type WorldSplitOptions,
} from './world-split.js';
import { checkSnapshot, type WorldSnapshot } from './world-snapshot.js';

export type { WorldSnapshot } from './world-snapshot.js';
export type { WorldSplitOptions } from './world-split.js';

export type ForceMode = 'attract' | 'repel' | 'none';

export interface WorldOptions extends WorldSplitOptions {
  /** Side of the square toroidal world in world units (default 1000). */
  size?: number;
  /** Initial particle count (default 10_000). */
  particles?: number;
  /** Capacity: arrays are preallocated to this and spawn cannot exceed it (default max(particles, 20_000)). */
  maxParticles?: number;
  /** uint32 seed of the PRNG. */
  seed: number;
  params?: Partial<BoidParams>;
  /** What steps it (default: the JS kernel). */
  kernel?: WorldKernel;
}

export const WORLD_DEFAULTS = {
  size: 1000,
  particles: 10_000,
  maxParticles: 20_000,
} as const;

/** Initial capacity of the force arrays; they double when full. */
const INITIAL_FORCE_CAPACITY = 8;

const FORCE_SIGN = { attract: 1, repel: -1 } as const;

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
  /** The wasm kernel, when it steps this world (the JS one's scratch is then empty). */
  readonly #wasm: WasmBoidKernel | undefined;
  /** Owner ids of the active forces, ascending; index f matches kernel.forceX[f]. */
  readonly #forceOwners: number[] = [];

  /**
   * @throws RangeError on invalid options or params (non-integer counts,
   *   particles > maxParticles, a world too small for the neighbour radius,
   *   a force radius beyond half the world).
   */
  constructor(options: WorldOptions) {
    const kernel = options.kernel ?? JS_KERNEL;
    // The warm-up is for V8's JIT of the JS kernel; a wasm world never runs it.
    if (kernel.kind === 'js') primeJit(World);
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

    const partitions = splitPartitions(options, kernel.kind);

    this.size = size;
    this.maxParticles = maxParticles;
    this.params = params;
    this.#prng = createPrng(options.seed);
    // With the wasm kernel the JS grid and scratch only carry the layout:
    // nothing of capacity size is allocated for them.
    const scratch = kernel.kind === 'wasm' ? 0 : maxParticles;
    this.#grid = new SpatialGrid(size, params.neighbourRadius, scratch);
    const nbLength = neighbourBufferLength(params, maxParticles);
    this.#wasm =
      kernel.kind === 'wasm'
        ? new WasmBoidKernel(
            kernel.module,
            {
              size,
              cols: this.#grid.cols,
              cellSize: this.#grid.cellSize,
              capacity: maxParticles,
              params,
            },
            partitions > 1
              ? {
                  partitions,
                  spawn: options.spawnPartition as PartitionSpawner,
                  stepTimeoutMs: options.partitionTimeoutMs ?? SPLIT_LIMITS.stepTimeoutMs,
                  startTimeoutMs: options.partitionStartTimeoutMs ?? SPLIT_LIMITS.startTimeoutMs,
                }
              : undefined,
          )
        : undefined;
    // The wasm kernel steps the particles in place, in its memory.
    const state = this.#wasm ?? {
      x: new Float32Array(maxParticles),
      y: new Float32Array(maxParticles),
      vx: new Float32Array(maxParticles),
      vy: new Float32Array(maxParticles),
    };
    this.x = state.x;
    this.y = state.y;
    this.vx = state.vx;
    this.vy = state.vy;
    this.#kernel = {
      grid: this.#grid,
      size,
      x: this.x,
      y: this.y,
      vx: this.vx,
      vy: this.vy,
      sx: new Float32Array(scratch),
      sy: new Float32Array(scratch),
      svx: new Float32Array(scratch),
      svy: new Float32Array(scratch),
      ranges: new Int32Array(2 * MAX_NEIGHBOUR_RANGES),
      shifts: new Float64Array(2 * MAX_NEIGHBOUR_RANGES),
      nbIndex: new Int32Array(scratch === 0 ? 1 : nbLength),
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

  /** Which kernel steps this world. */
  get kernel(): WorldKernel['kind'] {
    return this.#wasm ? 'wasm' : 'js';
  }

  /** Threads that step this world, its own included. */
  get partitions(): number {
    return this.#wasm?.partitions ?? 1;
  }

  /**
   * Bytes the world holds for its particles, grid and scratch: the wasm
   * memory's committed size, or the JS kernel's typed arrays. Cheap (no
   * walk over anything large): for a bytes-per-particle report.
   */
  get memoryBytes(): number {
    if (this.#wasm) return this.#wasm.memoryBytes;
    const k = this.#kernel;
    const arrays = [k.x, k.y, k.vx, k.vy, k.sx, k.sy, k.svx, k.svy, k.nbIndex, k.forceX, k.forceY];
    let bytes = this.#grid.bytes;
    for (const a of arrays) bytes += a.byteLength;
    return bytes + k.forceSign.byteLength + k.forceList.byteLength;
  }

  /**
   * Test-only (SWARMHOST_FAULT_INJECTION): one of a split world's partition
   * threads dies, as a crash would kill it, and the next step throws. False,
   * and nothing done, when the world is not split.
   */
  killPartition(): boolean {
    return this.#wasm?.killPartition() ?? false;
  }

  /**
   * Stops the threads a split world steps on; a no-op for any other world.
   * A split world's step throws after it. Idempotent.
   */
  close(): void {
    this.#wasm?.close();
  }

  /** Steps taken so far (the steering slice of the next step depends on it). */
  get steps(): number {
    return this.#tick;
  }

  /** A copy of everything the world's future depends on (see WorldSnapshot). */
  snapshot(): WorldSnapshot {
    const count = this.#count;
    const k = this.#kernel;
    const forces = this.#forceOwners.length;
    return {
      size: this.size,
      count,
      prngState: this.#prng.state(),
      steps: this.#tick,
      x: this.x.slice(0, count),
      y: this.y.slice(0, count),
      vx: this.vx.slice(0, count),
      vy: this.vy.slice(0, count),
      forces: {
        owners: [...this.#forceOwners],
        x: Array.from(k.forceX.subarray(0, forces)),
        y: Array.from(k.forceY.subarray(0, forces)),
        sign: Array.from(k.forceSign.subarray(0, forces)),
      },
    };
  }

  /**
   * A world that continues exactly where `snapshot` was taken: the same
   * later setForce / spawn / step calls give the same bits as on the world
   * it came from. `maxParticles` is the new world's capacity (default: as
   * for a new world of that many particles); params and kernel as for the
   * constructor (on the kernel it was taken on it continues bit-identically;
   * on the other, the same world within rounding, which then drifts apart).
   *
   * @throws RangeError on a snapshot that no world could have produced
   *   (array lengths other than count, more particles than maxParticles, a
   *   particle outside the world or not finite, forces out of order...).
   */
  static fromSnapshot(
    s: WorldSnapshot,
    maxParticles?: number,
    params?: Partial<BoidParams>,
    kernel?: WorldKernel,
    split?: WorldSplitOptions,
  ): World {
    checkSnapshot(s);
    const capacity = maxParticles ?? Math.max(s.count, WORLD_DEFAULTS.maxParticles);
    if (!Number.isInteger(capacity) || capacity < s.count) {
      throw new RangeError(
        `world snapshot: ${s.count} particles do not fit maxParticles ${capacity}`,
      );
    }
    const world = new World({
      size: s.size,
      particles: 0,
      maxParticles: capacity,
      seed: 0,
      params,
      kernel,
      ...split,
    });
    world.#restore(s);
    return world;
  }

  /** Removes every force (their owners mean nothing to whoever resumes this world). */
  clearForces(): void {
    this.#forceOwners.length = 0;
    this.#kernel.forceCount = 0;
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
   * @throws Error on a split world whose partition thread died, did not
   *   start, or did not finish the step in time (the message names the
   *   partition), and on every step after that or after close().
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
    const k = this.#kernel;
    if (this.#wasm) {
      const interval = steerIntervalFor(this.params, count);
      this.#wasm.step(count, dt, this.#tick, interval, k);
    } else {
      this.#grid.rebuild(this.x, this.y, count);
      stepBoids(k, this.params, count, dt, this.#tick);
    }
    this.#tick++;
  }

  /** Takes a checked snapshot's state; forces go in as stored (already wrapped, never re-wrapped). */
  #restore(s: WorldSnapshot): void {
    this.x.set(s.x);
    this.y.set(s.y);
    this.vx.set(s.vx);
    this.vy.set(s.vy);
    this.#count = s.count;
    this.#tick = s.steps;
    this.#prng.restore(s.prngState);
    const { owners, x, y, sign } = s.forces;
    this.#ensureForceCapacity(owners.length);
    const k = this.#kernel;
    for (let f = 0; f < owners.length; f++) {
      this.#forceOwners.push(owners[f]);
      k.forceX[f] = x[f];
      k.forceY[f] = y[f];
      k.forceSign[f] = sign[f];
    }
    k.forceCount = owners.length;
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
