/**
 * A world's step split across threads, from the world's own thread: starts
 * the partition threads (through an injected spawner: this folder imports
 * no node: module), runs each step as compute then commit with barriers on
 * the control block (kernel-layout.ts CONTROL), notices threads that die or
 * hang, and stops them.
 *
 * Regions, ghost zones and migration, as they map onto the kernel:
 * - A region is a band of whole cell rows, [bands[p], bands[p+1]) in cells.
 *   Bands are drawn anew every step, after `prepare` has counted the
 *   particles per cell, so that each holds about count / partitions of them.
 * - A band's ghost zone is the row above and the row below it (wrapping at
 *   the seams), which its neighbour searches reach into: they read the
 *   sorted scratch SX/SY/SVX/SVY of the previous state, which `prepare`
 *   wrote for the whole world into shared memory. Nothing is exchanged: a
 *   ghost is read where it lies. Forces are the world's, read by all.
 * - Migration is free: a particle that moves into another band's rows
 *   during a step is, at the next `prepare`, sorted into that band's cells,
 *   and stepped by that band's thread from then on.
 * Each thread writes the new state of its own band's particles only, at
 * their sorted slots in the new-state scratch NX/NY/NVX/NVY, and reads
 * only the previous state: the bands are independent, and a split step
 * gives the bits of the unsplit one. Sorted slots, not particle indices:
 * a band's particles sit anywhere in the index range, so writing at their
 * indices had both threads writing the same cache lines of X/Y/VX/VY
 * (false sharing, which held 2 threads to 0.9-1.2x over 1 at 100k); a
 * band's slots are contiguous, so threads meet at band edges only.
 *
 * A step: the world's thread runs `prepare`, draws the bands, writes the
 * step's values to the control block, bumps `generation` and notifies;
 * every partition thread steps its band while the world's thread steps
 * band 0; the world's thread then waits for each `done` slot to reach the
 * generation, at most `stepTimeoutMs` in all, and runs `scatter`, which
 * copies the new state from sorted slots to each particle's own index
 * (one serial O(n) pass: 0.44 ms at 100k, against the ~3 ms a step the
 * false sharing cost).
 * Atomics order the plain writes on either side of the bump and of each
 * `done`.
 *
 * Runs anywhere a thread may block in Atomics.wait (`canBlock`).
 */

import {
  CONTROL,
  type KernelExports,
  type KernelLayout,
  MAX_PARTITIONS,
  type WasmKernelShape,
} from './kernel-layout.js';
import type { PartitionStart } from './partition-loop.js';

/** A started partition thread, as its spawner reports on it. */
export interface PartitionThread {
  /** Why the thread stopped (exited, threw), once its spawner has heard; undefined while it runs. */
  readonly failure: string | undefined;
  /** Stops the thread (idempotent; returns at once). */
  terminate(): void;
}

/** Starts one partition thread running partition-loop.ts `runPartition(start)`. */
export type PartitionSpawner = (start: PartitionStart) => PartitionThread;

export const SPLIT_LIMITS = {
  maxPartitions: MAX_PARTITIONS,
  /** How long the first split step waits for every thread to start by default (tsx compiles on the way). */
  startTimeoutMs: 15_000,
  /** How long a step waits for every partition by default before it calls one dead. */
  stepTimeoutMs: 2_000,
} as const;

/** Whether this thread may block in Atomics.wait (a browser's main thread may not; Node's may). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** World's options that split it (WorldOptions has them; World.fromSnapshot takes them apart). */
export interface WorldSplitOptions {
  /**
   * Threads that step the world, its own included (default 1; at most
   * SPLIT_LIMITS.maxPartitions). Only a wasm world splits, and only where
   * its thread may block in Atomics.wait: otherwise it steps on its own
   * thread (`partitions` then reads 1), with the same bits either way.
   */
  partitions?: number;
  /** Starts the extra threads (Node: lobbies/world-partitions.ts); required when partitions > 1. */
  spawnPartition?: PartitionSpawner;
  /** How long a split step waits for its partitions before it throws (default SPLIT_LIMITS.stepTimeoutMs). */
  partitionTimeoutMs?: number;
  /** How long the first split step waits for its partition threads to start before it throws (default SPLIT_LIMITS.startTimeoutMs). */
  partitionStartTimeoutMs?: number;
}

/**
 * How many threads step a world with these options: 1 unless a wasm world
 * asks for more and its thread may block (see WorldSplitOptions.partitions).
 *
 * @throws RangeError on a count out of [1, SPLIT_LIMITS.maxPartitions], or
 *   more than 1 without a spawnPartition.
 */
export function splitPartitions(
  options: WorldSplitOptions,
  kernel: 'js' | 'wasm',
  threadMayBlock: () => boolean = canBlock,
): number {
  const partitions = options.partitions ?? 1;
  const max = SPLIT_LIMITS.maxPartitions;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > max) {
    throw new RangeError(`partitions must be an integer in [1, ${max}], got ${partitions}`);
  }
  if (partitions > 1 && typeof options.spawnPartition !== 'function') {
    throw new RangeError(`${partitions} partitions need a spawnPartition to start their threads`);
  }
  if (partitions === 1 || kernel !== 'wasm' || !threadMayBlock()) return 1;
  return partitions;
}

export interface WorldSplitSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  kernel: KernelExports;
  layout: KernelLayout;
  shape: WasmKernelShape;
  partitions: number;
  spawn: PartitionSpawner;
  stepTimeoutMs: number;
  startTimeoutMs: number;
}

export class WorldSplit {
  readonly partitions: number;
  readonly #kernel: KernelExports;
  readonly #control: Int32Array;
  readonly #control64: Float64Array;
  readonly #cellStart: Int32Array;
  readonly #cols: number;
  readonly #threads: PartitionThread[] = [];
  readonly #stepTimeoutMs: number;
  readonly #startTimeoutMs: number;
  #generation = 0;
  #ready = false;
  /** Set once a partition failed or the world closed: every later step throws it. */
  #broken: Error | undefined;

  /** Starts partitions 1..partitions-1 (they get ready while the world does other things). */
  constructor(setup: WorldSplitSetup) {
    const { memory, layout, partitions } = setup;
    this.partitions = partitions;
    this.#kernel = setup.kernel;
    this.#stepTimeoutMs = setup.stepTimeoutMs;
    this.#startTimeoutMs = setup.startTimeoutMs;
    this.#control = new Int32Array(memory.buffer, layout.control, CONTROL.ints);
    this.#control64 = new Float64Array(memory.buffer, layout.control, CONTROL.ints / 2);
    this.#cols = setup.shape.cols;
    this.#cellStart = new Int32Array(memory.buffer, layout.cellStart, this.#cols ** 2 + 1);
    try {
      for (let p = 1; p < partitions; p++) {
        this.#threads.push(
          setup.spawn({
            module: setup.module,
            memory,
            shape: setup.shape,
            partitions,
            partition: p,
          }),
        );
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /**
   * One step of particles [0, count) across every partition: returns when
   * all of them have written their band and the new state is at the
   * particles' indices.
   *
   * @throws Error naming the partition when one has died, did not start
   *   within the start timeout or did not finish within the step timeout;
   *   and on every step after that, or after close().
   */
  step(
    count: number,
    dt: number,
    tick: number,
    interval: number,
    forceCount: number,
    forceCapacity: number,
  ): void {
    if (this.#broken) throw new Error(this.#broken.message);
    try {
      this.#checkAlive();
      if (!this.#ready) this.#awaitReady();
      this.#kernel.prepare(count);
      const control = this.#control;
      this.#drawBands(count);
      control[CONTROL.forceCount] = forceCount;
      control[CONTROL.forceCapacity] = forceCapacity;
      control[CONTROL.interval] = interval;
      this.#control64[CONTROL.dt64] = dt;
      this.#control64[CONTROL.tick64] = tick;
      const generation = (this.#generation + 1) | 0;
      this.#generation = generation;
      Atomics.store(control, CONTROL.generation, generation);
      Atomics.notify(control, CONTROL.generation);
      this.#kernel.stepCells(
        control[CONTROL.bands],
        control[CONTROL.bands + 1],
        dt,
        tick,
        interval,
        forceCount,
      );
      const deadline = performance.now() + this.#stepTimeoutMs;
      for (let p = 1; p < this.partitions; p++) {
        if (!this.#waitFor(CONTROL.done(p), generation, deadline)) {
          throw this.#failed(p, `did not finish step ${tick} within ${this.#stepTimeoutMs} ms`);
        }
      }
      this.#kernel.scatter(0, count);
    } catch (error) {
      this.#broken = error instanceof Error ? error : new Error(String(error));
      this.#stop();
      throw error;
    }
  }

  /**
   * Test-only (SWARMHOST_FAULT_INJECTION): stops the last partition thread
   * as a crash would, leaving the world to find out at its next step.
   */
  killPartition(): void {
    this.#threads.at(-1)?.terminate();
  }

  /** Stops every partition thread; later steps throw. Idempotent. */
  close(): void {
    this.#broken ??= new Error('the world is closed: its partition threads were stopped');
    this.#stop();
  }

  #stop(): void {
    Atomics.store(this.#control, CONTROL.stop, 1);
    Atomics.notify(this.#control, CONTROL.generation);
    for (const thread of this.#threads) thread.terminate();
  }

  /** A thread its spawner has seen die fails the step at once, without waiting out a timeout. */
  #checkAlive(): void {
    for (let p = 1; p < this.partitions; p++) {
      const why = this.#threads[p - 1].failure;
      if (why !== undefined) throw new Error(`world partition ${p} stopped: ${why}`);
    }
  }

  #awaitReady(): void {
    const deadline = performance.now() + this.#startTimeoutMs;
    for (let p = 1; p < this.partitions; p++) {
      if (!this.#waitFor(CONTROL.ready(p), 1, deadline)) {
        throw this.#failed(p, `did not start within ${this.#startTimeoutMs} ms`);
      }
    }
    this.#ready = true;
  }

  /** Blocks until control[slot] is `value` (true) or the deadline passes (false). */
  #waitFor(slot: number, value: number, deadline: number): boolean {
    const control = this.#control;
    for (;;) {
      const now = Atomics.load(control, slot);
      if (now === value) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(control, slot, now, left);
    }
  }

  /** The error naming partition p, with what its spawner knows of why. */
  #failed(p: number, what: string): Error {
    const why = this.#threads[p - 1].failure;
    return new Error(`world partition ${p} ${what}${why === undefined ? '' : ` (${why})`}`);
  }

  /**
   * Cuts the rows into `partitions` bands of about count / partitions
   * particles each, from the cell starts `prepare` just counted: band p
   * begins at the first row whose first particle is at or past p / partitions
   * of them. Bands may be empty (a clump in one row); they never overlap.
   */
  #drawBands(count: number): void {
    const control = this.#control;
    const cols = this.#cols;
    const starts = this.#cellStart;
    const partitions = this.partitions;
    control[CONTROL.bands] = 0;
    let row = 0;
    for (let p = 1; p < partitions; p++) {
      const target = Math.ceil((p * count) / partitions);
      while (row < cols && starts[row * cols] < target) row++;
      control[CONTROL.bands + p] = row * cols;
    }
    control[CONTROL.bands + partitions] = cols * cols;
  }
}
