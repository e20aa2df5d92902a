import { describe, expect, it } from 'vitest';
import { Mpsc } from '../../../../lobbies/channels/mpsc.js';

function drainAll<T>(q: Mpsc<T>, max?: number): T[] {
  const out: T[] = [];
  q.drain((v) => out.push(v), max);
  return out;
}

describe('Mpsc', () => {
  it('rejects capacities that are not integers >= 1', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Mpsc(bad)).toThrow(RangeError);
    }
    expect(new Mpsc(1).capacity).toBe(1);
  });

  it('is full exactly at capacity and refuses without dropping', () => {
    const q = new Mpsc<number>(3);
    expect(q.trySend(1)).toBe('ok');
    expect(q.trySend(2)).toBe('ok');
    expect(q.trySend(3)).toBe('ok');
    expect(q.length).toBe(3);
    expect(q.trySend(4)).toBe('full');
    expect(q.length).toBe(3);
    expect(drainAll(q)).toEqual([1, 2, 3]);
    expect(q.length).toBe(0);
    expect(q.trySend(5)).toBe('ok');
    expect(drainAll(q)).toEqual([5]);
  });

  it('keeps FIFO order across many wrap-arounds of the ring', () => {
    const q = new Mpsc<number>(5);
    const got: number[] = [];
    let next = 0;
    // Uneven send/drain batch sizes move head through every slot repeatedly.
    for (let round = 0; round < 200; round++) {
      const sends = (round % 5) + 1;
      for (let i = 0; i < sends; i++) {
        if (q.trySend(next) === 'ok') next++;
      }
      q.drain((v) => got.push(v), (round % 3) + 1);
    }
    q.drain((v) => got.push(v));
    expect(next).toBeGreaterThan(5 * 20);
    expect(got).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(q.length).toBe(0);
  });

  it('drain with max removes exactly max items and returns the count', () => {
    const q = new Mpsc<string>(4);
    for (const s of ['a', 'b', 'c', 'd']) q.trySend(s);
    const seen: string[] = [];
    expect(q.drain((v) => seen.push(v), 3)).toBe(3);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(q.length).toBe(1);
    expect(q.drain((v) => seen.push(v), 0)).toBe(0);
    expect(q.drain((v) => seen.push(v), 10)).toBe(1);
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(q.drain(() => {})).toBe(0);
  });

  it('rejects a negative or fractional max', () => {
    const q = new Mpsc<number>(2);
    expect(() => q.drain(() => {}, -1)).toThrow(RangeError);
    expect(() => q.drain(() => {}, 1.5)).toThrow(RangeError);
    expect(() => q.drain(() => {}, Number.NaN)).toThrow(RangeError);
  });

  it('does not drain items sent during the visit in the same call', () => {
    const q = new Mpsc<number>(8);
    q.trySend(1);
    q.trySend(2);
    const seen: number[] = [];
    const n = q.drain((v) => {
      seen.push(v);
      q.trySend(v * 10);
    });
    expect(n).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(q.length).toBe(2);
    expect(drainAll(q)).toEqual([10, 20]);
  });

  it('keeps the start-of-drain boundary even when a visitor re-enters drain', () => {
    const q = new Mpsc<number>(8);
    for (const v of [1, 2, 3]) q.trySend(v);
    const seen: number[] = [];
    const outer = q.drain((v) => {
      seen.push(v);
      if (v === 1) {
        q.trySend(100);
        q.drain((w) => seen.push(w), 1);
      }
    });
    expect(outer).toBe(2);
    expect(seen).toEqual([1, 2, 3]);
    expect(drainAll(q)).toEqual([100]);
  });

  it('leaves the rest queued when a visitor throws', () => {
    const q = new Mpsc<number>(4);
    for (const v of [1, 2, 3]) q.trySend(v);
    expect(() =>
      q.drain((v) => {
        if (v === 2) throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(q.length).toBe(1);
    expect(drainAll(q)).toEqual([3]);
  });

  it('after close refuses sends but still delivers queued items', () => {
    const q = new Mpsc<number>(2);
    q.trySend(1);
    q.trySend(2);
    expect(q.closed).toBe(false);
    q.close();
    q.close();
    expect(q.closed).toBe(true);
    // 'closed' wins over 'full'.
    expect(q.trySend(3)).toBe('closed');
    expect(q.length).toBe(2);
    expect(drainAll(q)).toEqual([1, 2]);
    expect(q.trySend(4)).toBe('closed');
    expect(q.length).toBe(0);
  });

  it('peek visits what is queued in order, across the ring seam, and takes nothing', () => {
    const q = new Mpsc<number>(4);
    for (const v of [1, 2, 3]) q.trySend(v);
    drainAll(q, 2);
    for (const v of [4, 5, 6]) q.trySend(v);
    const seen: number[] = [];
    q.peek((v) => seen.push(v));
    expect(seen).toEqual([3, 4, 5, 6]);
    expect(q.length).toBe(4);
    expect(drainAll(q)).toEqual([3, 4, 5, 6]);
    q.peek(() => {
      throw new Error('nothing is queued');
    });
  });
});
