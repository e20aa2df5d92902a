/**
 * How many threads step a world (world-split.ts splitPartitions): the wasm
 * kernel splits where its thread may block; the JS kernel, and a thread
 * that may not block in Atomics.wait (a browser's main thread), step on
 * one thread with the same bits. Bad counts are refused. The split itself
 * is tested with real threads in test/unit/lobbies/world-partitions.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { canBlock, SPLIT_LIMITS, splitPartitions } from '../../../../lobbies/world/world-split.js';
import { World } from '../../../../lobbies/world/world.js';

const never = () => {
  throw new Error('no thread should start');
};

describe('splitPartitions', () => {
  it('splits a wasm world where the thread may block', () => {
    expect(canBlock()).toBe(true);
    expect(splitPartitions({ partitions: 3, spawnPartition: never }, 'wasm')).toBe(3);
  });

  it('falls back to 1 where the thread may not block (a browser main thread)', () => {
    expect(splitPartitions({ partitions: 3, spawnPartition: never }, 'wasm', () => false)).toBe(1);
  });

  it('falls back to 1 on the JS kernel, starting no thread', () => {
    const spawn = vi.fn(never);
    const w = new World({ particles: 100, seed: 1, partitions: 4, spawnPartition: spawn });
    expect(w.partitions).toBe(1);
    w.step(1 / 60);
    w.close();
    w.step(1 / 60);
    expect(spawn).not.toHaveBeenCalled();
    expect(splitPartitions({ partitions: 4, spawnPartition: never }, 'js')).toBe(1);
  });

  it.each([0, 1.5, -1, SPLIT_LIMITS.maxPartitions + 1, Number.NaN])(
    'refuses %s partitions',
    (partitions) => {
      expect(() => splitPartitions({ partitions, spawnPartition: never }, 'wasm')).toThrow(
        RangeError,
      );
    },
  );

  it('refuses more than one partition without a way to start them', () => {
    expect(() => splitPartitions({ partitions: 2 }, 'wasm')).toThrow(/spawnPartition/);
    expect(splitPartitions({}, 'wasm')).toBe(1);
  });
});
