import { describe, expect, it } from 'vitest';
import { PositionsPool } from '../../../lobbies/positions-pool.js';

describe('PositionsPool', () => {
  it('allocates until buffers come back, then reuses them', () => {
    const pool = new PositionsPool();
    const a = pool.take(6);
    expect(a).toHaveLength(6);
    expect(pool.allocated).toBe(1);
    pool.give(a.buffer as ArrayBuffer);
    const b = pool.take(6);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.allocated).toBe(1);
  });

  it('drops a returned buffer of another length (the particle count changed)', () => {
    const pool = new PositionsPool();
    pool.give(pool.take(6).buffer as ArrayBuffer);
    const bigger = pool.take(8);
    expect(bigger).toHaveLength(8);
    expect(pool.allocated).toBe(2);
    // The 6-long one was discarded, not kept for later.
    pool.give(bigger.buffer as ArrayBuffer);
    expect(pool.take(8).buffer).toBe(bigger.buffer);
    expect(pool.take(6)).toHaveLength(6);
    expect(pool.allocated).toBe(3);
  });

  it('ignores detached buffers', () => {
    const pool = new PositionsPool(1);
    const detached = pool.take(4).buffer as ArrayBuffer;
    structuredClone(detached, { transfer: [detached] });
    const good = pool.take(4).buffer as ArrayBuffer;
    // Were the detached one kept, it would fill the only free slot.
    pool.give(detached);
    pool.give(good);
    expect(pool.take(4).buffer).toBe(good);
  });

  it('keeps at most maxFree', () => {
    const pool = new PositionsPool(2);
    const kept = [pool.take(4), pool.take(4), pool.take(4)];
    for (const p of kept) pool.give(p.buffer as ArrayBuffer);
    const before = pool.allocated;
    pool.take(4);
    pool.take(4);
    expect(pool.allocated).toBe(before);
    pool.take(4);
    expect(pool.allocated).toBe(before + 1);
  });
});
