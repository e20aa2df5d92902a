/**
 * A wasm world split across partition threads (world-split.ts, started by
 * world-partitions.ts): the same bits as the unsplit world for the same
 * seed and calls, whatever the number of partitions (forces, more forces
 * than the memory first had room for, spawns, a snapshot resumed on
 * another split); a partition thread that dies, hangs or never starts
 * makes step throw, naming it, within its bound; close() stops the
 * threads, and is idempotent.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnWorker } from '../../../lobbies/spawn-worker.js';
import { spawnPartitionThread } from '../../../lobbies/world-partitions.js';
import type { PartitionSpawner, PartitionThread } from '../../../lobbies/world/world-split.js';
import { World, type WorldOptions } from '../../../lobbies/world/world.js';
import type { SplitOwnerScenario } from '../../support/split-world-owner.js';
import { stateBits } from '../../support/world-bits.js';
import { wasmKernel } from '../../support/world-kernels.js';

const DT = 1 / 60;

const open: World[] = [];
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

function world(partitions: number, options: Partial<WorldOptions> = {}): World {
  const w = new World({
    particles: 3000,
    seed: 21,
    kernel: wasmKernel(),
    partitions,
    spawnPartition: spawnPartitionThread,
    ...options,
  });
  open.push(w);
  return w;
}

function stepped(w: World, steps: number): World {
  for (let s = 0; s < steps; s++) w.step(DT);
  return w;
}

/** Forces across the seams, more of them than the memory first holds (it grows), spawns, removals. */
function session(w: World): World {
  w.setForce(2, 100, 100, 'attract');
  w.setForce(1, 990, 20, 'repel');
  stepped(w, 20);
  expect(w.spawn(500, 999.5, 400)).toBe(true);
  for (let f = 10; f < 110; f++) w.setForce(f, (f * 37) % 1000, (f * 91) % 1000, 'attract');
  stepped(w, 10);
  for (let f = 10; f < 110; f += 2) w.removeForce(f);
  w.setForce(2, 600, 400, 'repel');
  expect(w.spawn(0.2, 0.3, 300)).toBe(true);
  return stepped(w, 20);
}

/** Threads the spawner started, so a test can kill one. */
function recordingSpawner(): { spawn: PartitionSpawner; threads: PartitionThread[] } {
  const threads: PartitionThread[] = [];
  return {
    threads,
    spawn: (start) => {
      const thread = spawnPartitionThread(start);
      threads.push(thread);
      return thread;
    },
  };
}

describe('a wasm world split across threads', () => {
  it('splits on this (Node main) thread: Atomics.wait may block here', () => {
    expect(world(2).partitions).toBe(2);
  });

  it('splits in a worker thread too (a lobby worker owns its world), with the same bits', async () => {
    const kernel = wasmKernel();
    if (kernel.kind !== 'wasm') throw new Error('the wasm kernel did not load');
    const scenario: SplitOwnerScenario = {
      module: kernel.module,
      partitions: 2,
      particles: 2000,
      seed: 5,
      steps: 30,
    };
    const owner = spawnWorker(new URL('../../support/split-world-owner.ts', import.meta.url), {
      workerData: scenario,
    });
    const [result] = (await once(owner, 'message')) as [
      { partitions: number; bits: Uint32Array[] },
    ];
    await once(owner, 'exit');
    const here = world(1, { particles: 2000, seed: 5 });
    here.setForce(1, 500, 500, 'attract');
    stepped(here, 30);
    expect(result.partitions).toBe(2);
    expect(result.bits).toEqual(stateBits(here));
  });

  it('gives the unsplit world bits with 2 and with 3 partitions', () => {
    const one = stateBits(session(world(1)));
    expect(stateBits(session(world(2)))).toEqual(one);
    expect(stateBits(session(world(3)))).toEqual(one);
  });

  it('continues bit-identically from a snapshot, resumed on another split', () => {
    const straight = session(world(1));
    const split = session(world(2));
    const resumed = World.fromSnapshot(split.snapshot(), undefined, undefined, wasmKernel(), {
      partitions: 3,
      spawnPartition: spawnPartitionThread,
    });
    open.push(resumed);
    expect(resumed.partitions).toBe(3);
    for (const w of [straight, resumed]) {
      w.setForce(9, 20, 980, 'repel');
      stepped(w, 15);
      expect(w.spawn(998, 2, 50)).toBe(true);
      stepped(w, 10);
    }
    expect(stateBits(resumed)).toEqual(stateBits(straight));
  });

  it('throws, naming the partition, when a partition thread has died', async () => {
    const { spawn, threads } = recordingSpawner();
    const w = world(3, { spawnPartition: spawn });
    stepped(w, 3);
    threads[1].terminate();
    await vi.waitFor(() => expect(threads[1].failure).toBeDefined());
    expect(() => w.step(DT)).toThrow(/world partition 2 stopped: terminated/);
    // And on every step after: the lobby's supervisor restarts the world.
    expect(() => w.step(DT)).toThrow(/world partition 2/);
  });

  it('throws within its bound, not hangs, when a partition thread stops unseen', async () => {
    const { spawn, threads } = recordingSpawner();
    // Its death is never reported: only the step's timeout can tell.
    const unseen: PartitionSpawner = (start) => {
      const thread = spawn(start);
      return { failure: undefined, terminate: () => thread.terminate() };
    };
    const w = world(2, { spawnPartition: unseen, partitionTimeoutMs: 200 });
    stepped(w, 3);
    threads[0].terminate();
    await vi.waitFor(() => expect(threads[0].failure).toBeDefined());
    const started = performance.now();
    expect(() => w.step(DT)).toThrow(/world partition 1 did not finish step 3 within 200 ms/);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('throws within its start bound, not hangs, when a partition thread never starts; close() still returns', () => {
    // A thread that never gets ready, and whose spawner never hears of it.
    const terminate = vi.fn();
    const neverStarts: PartitionSpawner = () => ({ failure: undefined, terminate });
    const w = world(2, { spawnPartition: neverStarts, partitionStartTimeoutMs: 200 });
    const started = performance.now();
    expect(() => w.step(DT)).toThrow(/world partition 1 did not start within 200 ms/);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(terminate).toHaveBeenCalled();
    // Every later step throws the same, at once; closing returns.
    expect(() => w.step(DT)).toThrow(/world partition 1 did not start/);
    w.close();
    expect(() => w.step(DT)).toThrow(/world partition 1 did not start/);
  });

  it('close() stops the threads, is idempotent, and a closed split world steps no more', async () => {
    const { spawn, threads } = recordingSpawner();
    const w = world(3, { spawnPartition: spawn });
    stepped(w, 2);
    w.close();
    w.close();
    await vi.waitFor(() =>
      expect(threads.map((t) => t.failure)).toEqual(['terminated', 'terminated']),
    );
    expect(() => w.step(DT)).toThrow(/closed/);
  });
});
