import { describe, expect, it } from 'vitest';
import { Watch } from '../../../../lobbies/channels/watch.js';

describe('Watch', () => {
  it('starts at version 0 and bumps by 1 per set/update', () => {
    const w = new Watch('idle');
    expect(w.get()).toBe('idle');
    expect(w.version).toBe(0);
    w.set('running');
    expect([w.get(), w.version]).toEqual(['running', 1]);
    // Setting the same value still counts as a change.
    w.set('running');
    expect(w.version).toBe(2);
    const n = new Watch(10);
    n.update((v) => v + 5);
    expect([n.get(), n.version]).toEqual([15, 1]);
  });

  it('notifies listeners synchronously with value and version, until unsubscribed', () => {
    const w = new Watch(0);
    const calls: [number, number][] = [];
    const off = w.subscribe((v, ver) => calls.push([v, ver]));
    expect(calls).toEqual([]);
    w.set(5);
    expect(calls).toEqual([[5, 1]]);
    w.update((v) => v * 2);
    off();
    off();
    w.set(99);
    expect(calls).toEqual([
      [5, 1],
      [10, 2],
    ]);
  });

  it('isolates a throwing listener and reports it', () => {
    const errors: unknown[] = [];
    const w = new Watch(0, { onListenerError: (e) => errors.push(e) });
    const seen: number[] = [];
    w.subscribe((v) => seen.push(v));
    w.subscribe(() => {
      throw new Error('listener failed');
    });
    w.subscribe((v) => seen.push(v * 100));
    expect(() => w.set(1)).not.toThrow();
    expect(seen).toEqual([1, 100]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('listener failed');
    expect(w.version).toBe(1);
  });

  it('a nested set from a listener never leaves a later listener with a stale value', () => {
    const w = new Watch(0);
    const last: number[] = [];
    w.subscribe((v) => {
      if (v === 1) w.set(2);
    });
    w.subscribe((v, ver) => last.push(v * 10 + ver));
    w.set(1);
    // Only the newer value (2 at version 2) reaches the second listener.
    expect(last).toEqual([22]);
    expect([w.get(), w.version]).toEqual([2, 2]);
  });

  it('after close: set/update throw, value stays readable, listeners dropped', () => {
    const w = new Watch(1);
    const seen: number[] = [];
    w.subscribe((v) => seen.push(v));
    w.set(2);
    w.close();
    w.close();
    expect(w.closed).toBe(true);
    expect(() => w.set(3)).toThrow(Error);
    let called = false;
    expect(() =>
      w.update((v) => {
        called = true;
        return v + 1;
      }),
    ).toThrow(Error);
    expect(called).toBe(false);
    expect([w.get(), w.version]).toEqual([2, 1]);
    expect(seen).toEqual([2]);
  });
});
