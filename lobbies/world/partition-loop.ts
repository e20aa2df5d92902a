/**
 * What a partition thread does, all its life: instantiates the world's
 * kernel module on the world's shared memory, says it is ready, then for
 * each step the world's thread starts (a new `generation` in the control
 * block) steps its band of cell rows and says it is done. It never
 * returns until told to stop (or terminated): a partition thread is a
 * blocking loop, not an event-driven worker.
 *
 * See world-split.ts for the mapping of regions, ghost zones and migration.
 *
 * Runs anywhere a thread may block in Atomics.wait (a worker thread; the
 * node: side that starts one is lobbies/world-partition-thread.ts).
 */

import {
  CONTROL,
  forceLayout,
  instantiateKernel,
  kernelLayout,
  type WasmKernelShape,
} from './kernel-layout.js';

/** What a partition thread is started with. Structured-clonable: it travels in workerData. */
export interface PartitionStart {
  module: WebAssembly.Module;
  /** The world's memory (shared). */
  memory: WebAssembly.Memory;
  shape: WasmKernelShape;
  /** Threads stepping the world, its own included. */
  partitions: number;
  /** This thread's partition, in [1, partitions): partition 0 is the world's own thread. */
  partition: number;
}

/** Steps `start.partition`'s band every generation until the control block says stop. */
export function runPartition(start: PartitionStart): void {
  const { module, memory, shape, partitions, partition } = start;
  const layout = kernelLayout(shape, partitions);
  const kernel = instantiateKernel(module, memory, shape, layout, partition);
  // The control block sits in the first page: these views outlive any growth.
  const control = new Int32Array(memory.buffer, layout.control, CONTROL.ints);
  const control64 = new Float64Array(memory.buffer, layout.control, CONTROL.ints / 2);
  const done = CONTROL.done(partition);
  let forceCapacity = -1;
  let seen = Atomics.load(control, CONTROL.generation);
  Atomics.store(control, CONTROL.ready(partition), 1);
  Atomics.notify(control, CONTROL.ready(partition));
  for (;;) {
    Atomics.wait(control, CONTROL.generation, seen);
    if (Atomics.load(control, CONTROL.stop) !== 0) return;
    const generation = Atomics.load(control, CONTROL.generation);
    if (generation === seen) continue;
    seen = generation;
    // The forces move when the world's thread makes room for more.
    const capacity = control[CONTROL.forceCapacity];
    if (capacity !== forceCapacity) {
      const at = forceLayout(layout, capacity, partition);
      kernel.configureForces(at.fx, at.fy, at.sign, at.list);
      forceCapacity = capacity;
    }
    kernel.stepCells(
      control[CONTROL.bands + partition],
      control[CONTROL.bands + partition + 1],
      control64[CONTROL.dt64],
      control64[CONTROL.tick64],
      control[CONTROL.interval],
      control[CONTROL.forceCount],
    );
    Atomics.store(control, done, generation);
    Atomics.notify(control, done);
  }
}
