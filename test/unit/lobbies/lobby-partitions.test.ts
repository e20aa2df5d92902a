import { describe, expect, it } from 'vitest';
import { partitionsFor, shareOf } from '../../../lobbies/lobby-partitions.js';

describe('lobby partitions', () => {
  it('a lobby within one budget is not split', () => {
    expect(partitionsFor(30_000, 30_000, 4, 2)).toBe(1);
    expect(partitionsFor(0, 0, 1, 1)).toBe(1);
  });

  it('a bigger one is split into as few partitions as fit the budget', () => {
    expect(partitionsFor(100_000, 60_000, 2, 2)).toBe(2);
    expect(partitionsFor(100_000, 50_000, 4, 4)).toBe(2);
    expect(partitionsFor(100_001, 50_000, 4, 4)).toBe(3);
  });

  it('not beyond the setting or the live workers: then no split fits', () => {
    expect(partitionsFor(100_000, 30_000, 2, 4)).toBeUndefined();
    expect(partitionsFor(100_000, 60_000, 4, 1)).toBeUndefined();
    expect(partitionsFor(100_000, 60_000, 1, 2)).toBeUndefined();
  });

  it('charges each thread its share, rounded up', () => {
    expect(shareOf(100_000, 2)).toBe(50_000);
    expect(shareOf(100_001, 2)).toBe(50_001);
    expect(shareOf(7, 1)).toBe(7);
  });
});
