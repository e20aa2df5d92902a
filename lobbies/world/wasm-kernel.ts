/**
 * Which kernel steps a world, and the JS side of the WebAssembly one. Owns
 * the `WorldKernel` choice and, for a wasm world, its shared memory, the
 * world's own kernel instance, the views the world reads its particles
 * through, the forces' place in memory, and (when split) its WorldSplit.
 *
 * No copies: the world's x, y, vx, vy are Float32Array views into the
 * kernel's memory, which the kernel steps in place. The memory is shared
 * (kernel-layout.ts KERNEL_MAXIMUM_PAGES), so growing it (for more forces)
 * never detaches those views: a shared memory's old buffer stays valid.
 * Forces (a handful) are copied in by a loop each step.
 *
 * The module (lobbies/world/kernel/boids-kernel.ts, compiled by
 * lobbies/world-kernel-build.ts) is compiled once per thread by whoever
 * loads the bytes (lobbies/world-kernel-loader.ts) and handed in as a
 * WebAssembly.Module: one memory per world, one instance per world and
 * partition thread.
 *
 * Runs anywhere: WebAssembly is a global in Node and browsers.
 */

import {
  forceLayout,
  instantiateKernel,
  KERNEL_MAXIMUM_PAGES,
  type KernelExports,
  PAGE,
  type KernelLayout,
  kernelLayout,
  pagesFor,
  type WasmKernelShape,
} from './kernel-layout.js';
import { type PartitionSpawner, WorldSplit } from './world-split.js';

export type { WasmKernelShape } from './kernel-layout.js';

/** The JS kernel (boids.ts), or the compiled wasm module. */
export type WorldKernel = { kind: 'js' } | { kind: 'wasm'; module: WebAssembly.Module };

export const JS_KERNEL: WorldKernel = Object.freeze({ kind: 'js' });

/** Forces the memory holds room for before it first grows. */
const INITIAL_FORCES = 64;

/** The world's active forces [0, forceCount), as boids.ts BoidKernel holds them. */
export interface ForceArrays {
  readonly forceX: Float64Array;
  readonly forceY: Float64Array;
  readonly forceSign: Float64Array;
  readonly forceCount: number;
}

/** How many threads step the world, and how the extra ones start. */
export interface KernelSplit {
  partitions: number;
  spawn: PartitionSpawner;
  stepTimeoutMs: number;
  startTimeoutMs: number;
}

/**
 * A safety net for a split world nobody closed: once the world is garbage,
 * its partition threads are stopped (they hold its memory, and would wait
 * for a step forever). Closing is still the rule; this only bounds a leak.
 */
const unclosedSplits = new FinalizationRegistry<WorldSplit>((split) => split.close());

export class WasmBoidKernel {
  /** The particle state the kernel steps in place, [0, capacity) each. */
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly vx: Float32Array;
  readonly vy: Float32Array;
  readonly #memory: WebAssembly.Memory;
  readonly #exports: KernelExports;
  readonly #layout: KernelLayout;
  readonly #split: WorldSplit | undefined;
  #forceCapacity = 0;
  /** forceX, forceY, forceSign in wasm memory, forceCapacity each; made again when they move. */
  #forces = new Float64Array(0);

  /**
   * @throws TypeError on a module that is not the boids kernel (missing exports or imports).
   * @throws RangeError on a world too big for KERNEL_MAXIMUM_PAGES.
   */
  constructor(module: WebAssembly.Module, shape: WasmKernelShape, split?: KernelSplit) {
    const partitions = split?.partitions ?? 1;
    const layout = kernelLayout(shape, partitions);
    this.#layout = layout;
    const pages = pagesFor(forceLayout(layout, INITIAL_FORCES, 0).end);
    if (pages > KERNEL_MAXIMUM_PAGES) {
      throw new RangeError(
        `a world of ${shape.capacity} particles in ${partitions} partitions needs ${pages} pages of wasm memory, more than the kernel's ${KERNEL_MAXIMUM_PAGES}`,
      );
    }
    this.#memory = new WebAssembly.Memory({
      initial: pages,
      maximum: KERNEL_MAXIMUM_PAGES,
      shared: true,
    });
    this.#exports = instantiateKernel(module, this.#memory, shape, layout, 0);
    const buffer = this.#memory.buffer;
    const cap = shape.capacity;
    this.x = new Float32Array(buffer, layout.x, cap);
    this.y = new Float32Array(buffer, layout.y, cap);
    this.vx = new Float32Array(buffer, layout.vx, cap);
    this.vy = new Float32Array(buffer, layout.vy, cap);
    this.#reserveForces(INITIAL_FORCES);
    this.#split =
      split && partitions > 1
        ? new WorldSplit({
            module,
            memory: this.#memory,
            kernel: this.#exports,
            layout,
            shape,
            partitions,
            spawn: split.spawn,
            stepTimeoutMs: split.stepTimeoutMs,
            startTimeoutMs: split.startTimeoutMs,
          })
        : undefined;
    if (this.#split) unclosedSplits.register(this, this.#split, this);
  }

  /** Threads that step the world, its own included. */
  get partitions(): number {
    return this.#split?.partitions ?? 1;
  }

  /** Bytes of the world's memory (committed, not the reserved maximum). */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /**
   * One step of particles [0, count) in place: the grid is rebuilt and the
   * boids step runs in wasm, on one thread or split. Forces are the
   * world's [0, forceCount), ascending by owner.
   *
   * @throws Error from WorldSplit.step when a partition thread fails.
   */
  step(count: number, dt: number, tick: number, interval: number, forces: ForceArrays): void {
    const nf = forces.forceCount;
    if (nf > this.#forceCapacity) this.#reserveForces(nf);
    // A handful of forces: a loop, no subarray views to allocate.
    const f64 = this.#forces;
    const cap = this.#forceCapacity;
    for (let f = 0; f < nf; f++) {
      f64[f] = forces.forceX[f];
      f64[cap + f] = forces.forceY[f];
      f64[2 * cap + f] = forces.forceSign[f];
    }
    if (this.#split) this.#split.step(count, dt, tick, interval, nf, cap);
    else this.#exports.step(count, dt, tick, interval, nf);
  }

  /** Stops the partition threads, if any (idempotent). */
  /** Test-only: see WorldSplit.killPartition. False when the world is not split. */
  killPartition(): boolean {
    this.#split?.killPartition();
    return this.#split !== undefined;
  }

  close(): void {
    if (!this.#split) return;
    this.#split.close();
    unclosedSplits.unregister(this);
  }

  /** Room for at least `forces` forces at the end of memory (grown by doubling). */
  #reserveForces(forces: number): void {
    let capacity = Math.max(INITIAL_FORCES, this.#forceCapacity);
    while (capacity < forces) capacity *= 2;
    const at = forceLayout(this.#layout, capacity, 0);
    const have = this.#memory.buffer.byteLength;
    if (at.end > have) this.#memory.grow(pagesFor(at.end) - have / PAGE);
    this.#exports.configureForces(at.fx, at.fy, at.sign, at.list);
    this.#forceCapacity = capacity;
    this.#forces = new Float64Array(this.#memory.buffer, at.fx, 3 * capacity);
  }
}
