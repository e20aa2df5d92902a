/**
 * Which kernel steps a world, and the JS side of the WebAssembly one. Owns
 * the `WorldKernel` choice, the wasm instance of one world with its memory
 * layout, and the copies of the particle state in and out of it each step.
 *
 * Why copies: the world's x, y, vx, vy are plain Float32Arrays that the
 * encoder, snapshots and tests read and write between steps; views into
 * wasm memory would be detached whenever the memory grows (for more
 * forces). Copying 16 bytes a particle each way is a memcpy, small beside
 * the step itself, and in the steady state it allocates nothing (the
 * views are kept while the count stays).
 *
 * The module (lobbies/world/kernel/boids-kernel.ts, compiled by
 * lobbies/world-kernel-build.ts) is compiled once per thread by whoever
 * loads the bytes (lobbies/world-kernel-loader.ts) and handed in as a
 * WebAssembly.Module: one instance, on its own memory, per world.
 *
 * Runs anywhere: WebAssembly is a global in Node and browsers.
 */

import type { BoidParams } from './boids.js';

/** The JS kernel (boids.ts), or the compiled wasm module. */
export type WorldKernel = { kind: 'js' } | { kind: 'wasm'; module: WebAssembly.Module };

export const JS_KERNEL: WorldKernel = Object.freeze({ kind: 'js' });

/** The exports of boids-kernel.ts (see there for what each takes). */
interface KernelExports {
  configureLayout(...offsets: number[]): void;
  configureForces(fx: number, fy: number, sign: number, list: number): void;
  configureWorld(...values: number[]): void;
  step(count: number, dt: number, tick: number, interval: number, forceCount: number): void;
}

const KERNEL_EXPORTS = ['configureLayout', 'configureForces', 'configureWorld', 'step'] as const;

const PAGE = 65_536;
/** Forces the memory holds room for before it first grows. */
const INITIAL_FORCES = 64;
/** Most ranges a block can produce (spatial-grid.ts MAX_NEIGHBOUR_RANGES). */
const RANGE_SLOTS = 12;

/** A world's particle state, as the kernel copies it in and out. */
export interface ParticleState {
  x: Float32Array;
  y: Float32Array;
  vx: Float32Array;
  vy: Float32Array;
}

/** The world's active forces [0, forceCount), as boids.ts BoidKernel holds them. */
export interface ForceArrays {
  readonly forceX: Float64Array;
  readonly forceY: Float64Array;
  readonly forceSign: Float64Array;
  readonly forceCount: number;
}

export interface WasmKernelShape {
  size: number;
  cols: number;
  cellSize: number;
  capacity: number;
  /** Candidates one particle may examine (boids.ts neighbourBufferLength). */
  neighbourBuffer: number;
  params: Readonly<BoidParams>;
}

interface CopySlices {
  count: number;
  state: ParticleState | undefined;
  buffer: ArrayBuffer | undefined;
  world: Float32Array[];
  wasm: Float32Array[];
  /** forceX, forceY, forceSign in wasm memory, forceCapacity each. */
  forces: Float64Array;
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

export class WasmBoidKernel {
  readonly #memory: WebAssembly.Memory;
  readonly #exports: KernelExports;
  readonly #stateAt: { x: number; y: number; vx: number; vy: number };
  /** Where the forces start: everything after it is force storage. */
  readonly #forcesAt: number;
  #forceCapacity = 0;
  /**
   * The copies' both ends, [0, count) of the world's arrays and of their
   * images in wasm memory, in x, y, vx, vy order: made again only when the
   * count, the world's arrays or the memory change, so that a step in the
   * steady state allocates nothing.
   */
  #slices: CopySlices = {
    count: -1,
    state: undefined,
    buffer: undefined,
    world: [],
    wasm: [],
    forces: new Float64Array(0),
  };

  /** @throws on a module that is not the boids kernel (missing exports or imports). */
  constructor(module: WebAssembly.Module, shape: WasmKernelShape) {
    const cap = Math.max(1, shape.capacity);
    const cells = shape.cols * shape.cols;
    let at = 0;
    const take = (bytes: number): number => {
      const start = at;
      at = align8(at + bytes);
      return start;
    };
    const f32s = Array.from({ length: 8 }, () => take(4 * cap));
    const sorted = take(4 * cap);
    const pcell = take(4 * cap);
    const cellStart = take(4 * (cells + 1));
    const cellCount = take(4 * cells);
    const fill = take(4 * cells);
    const ranges = take(4 * RANGE_SLOTS);
    const shifts = take(8 * RANGE_SLOTS);
    const nb = take(4 * Math.max(1, shape.neighbourBuffer));
    this.#forcesAt = at;
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil((at + 1) / PAGE) });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.#memory } });
    for (const name of KERNEL_EXPORTS) {
      if (typeof instance.exports[name] !== 'function')
        throw new TypeError(`not the boids kernel: the wasm module exports no ${name}()`);
    }
    this.#exports = instance.exports as unknown as KernelExports;
    const [x, y, vx, vy] = f32s;
    this.#stateAt = { x, y, vx, vy };
    this.#exports.configureLayout(
      ...f32s,
      sorted,
      pcell,
      cellStart,
      cellCount,
      fill,
      ranges,
      shifts,
      nb,
    );
    const p = shape.params;
    this.#exports.configureWorld(
      shape.size,
      shape.cols,
      shape.cellSize,
      shape.cols / shape.size,
      p.neighbourRadius,
      p.separationRadius,
      p.alignment,
      p.cohesion,
      p.separation,
      p.minSpeed,
      p.maxSpeed,
      p.maxCandidates,
      p.forceRadius,
      p.forceStrength,
    );
    this.#reserveForces(INITIAL_FORCES);
  }

  /**
   * One step of particles [0, count): their state goes in, the grid is
   * rebuilt and the boids step runs in wasm, their state comes back.
   * Forces are the world's [0, forceCount), ascending by owner.
   */
  step(
    state: ParticleState,
    count: number,
    dt: number,
    tick: number,
    interval: number,
    forces: ForceArrays,
  ): void {
    const nf = forces.forceCount;
    if (nf > this.#forceCapacity) this.#reserveForces(nf);
    const slices = this.#slicesFor(state, count);
    const { world, wasm } = slices;
    for (let a = 0; a < 4; a++) wasm[a].set(world[a]);
    // A handful of forces: a loop, no subarray views to allocate.
    const f64 = slices.forces;
    const cap = this.#forceCapacity;
    for (let f = 0; f < nf; f++) {
      f64[f] = forces.forceX[f];
      f64[cap + f] = forces.forceY[f];
      f64[2 * cap + f] = forces.forceSign[f];
    }
    this.#exports.step(count, dt, tick, interval, nf);
    for (let a = 0; a < 4; a++) world[a].set(wasm[a]);
  }

  #slicesFor(state: ParticleState, count: number): CopySlices {
    const slices = this.#slices;
    const buffer = this.#memory.buffer;
    if (slices.count !== count || slices.state !== state || slices.buffer !== buffer) {
      const at = this.#stateAt;
      const keys = ['x', 'y', 'vx', 'vy'] as const;
      slices.world = keys.map((key) => state[key].subarray(0, count));
      slices.wasm = keys.map((key) => new Float32Array(buffer, at[key], count));
      slices.forces = new Float64Array(buffer, this.#forcesAt, 3 * this.#forceCapacity);
      slices.count = count;
      slices.state = state;
      slices.buffer = buffer;
    }
    return slices;
  }

  /** Room for at least `forces` forces at the end of memory (grown by doubling). */
  #reserveForces(forces: number): void {
    let capacity = Math.max(INITIAL_FORCES, this.#forceCapacity);
    while (capacity < forces) capacity *= 2;
    const fx = this.#forcesAt;
    const fy = fx + 8 * capacity;
    const sign = fy + 8 * capacity;
    const list = sign + 8 * capacity;
    const end = list + 4 * capacity;
    const have = this.#memory.buffer.byteLength;
    if (end > have) this.#memory.grow(Math.ceil((end - have) / PAGE));
    this.#exports.configureForces(fx, fy, sign, list);
    this.#forceCapacity = capacity;
    this.#slices.count = -1;
  }
}
