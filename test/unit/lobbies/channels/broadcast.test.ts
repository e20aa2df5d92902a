import { describe, expect, it } from 'vitest';
import { Broadcast } from '../../../../lobbies/channels/broadcast.js';

describe('Broadcast', () => {
  it('rejects capacities that are not integers >= 1', () => {
    for (const bad of [0, -3, 2.5, Number.NaN]) {
      expect(() => new Broadcast(bad)).toThrow(RangeError);
    }
    expect(new Broadcast(4).capacity).toBe(4);
  });

  it('numbers sends from 0 and tracks oldest/newest/latest', () => {
    const b = new Broadcast<string>(3);
    expect(b.newestSeq).toBe(-1);
    expect(b.oldestSeq).toBe(0);
    expect(b.latest()).toBeUndefined();
    expect(b.get(0)).toBeUndefined();
    expect(b.send('a')).toBe(0);
    expect(b.send('b')).toBe(1);
    expect(b.send('c')).toBe(2);
    expect([b.oldestSeq, b.newestSeq]).toEqual([0, 2]);
    expect(b.send('d')).toBe(3);
    expect([b.oldestSeq, b.newestSeq]).toEqual([1, 3]);
    expect(b.latest()).toBe('d');
  });

  it('get() returns retained values and undefined after eviction or out of range', () => {
    const b = new Broadcast<number>(2);
    for (let i = 0; i < 5; i++) b.send(i * 10);
    expect(b.get(0)).toBeUndefined();
    expect(b.get(2)).toBeUndefined();
    expect(b.get(3)).toBe(30);
    expect(b.get(4)).toBe(40);
    expect(b.get(5)).toBeUndefined();
    expect(b.get(-1)).toBeUndefined();
    expect(b.get(3.5)).toBeUndefined();
  });

  it('onEvict hears each value as it leaves the ring, once it is unreachable', () => {
    const evicted: Array<[number, number | undefined]> = [];
    const b: Broadcast<number> = new Broadcast<number>(2, {
      // The evicted value must already be out of reach: get() of its seq fails.
      onEvict: (value) => evicted.push([value, b.get(value)]),
    });
    b.send(0);
    b.send(1);
    expect(evicted).toEqual([]);
    b.send(2);
    b.send(3);
    expect(evicted).toEqual([
      [0, undefined],
      [1, undefined],
    ]);
    b.close();
    expect(evicted).toHaveLength(2);
  });

  it('a throwing onEvict is reported and the listeners still hear the send', () => {
    const errors: unknown[] = [];
    const heard: number[] = [];
    const b = new Broadcast<number>(1, {
      onEvict: () => {
        throw new Error('evict');
      },
      onListenerError: (error) => errors.push(error),
    });
    b.onSend((_seq, value) => heard.push(value));
    b.send(1);
    b.send(2);
    expect(heard).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
  });

  it('onSend listeners run synchronously and stop after unsubscribe', () => {
    const b = new Broadcast<string>(2);
    const calls: [number, string][] = [];
    const off = b.onSend((seq, value) => calls.push([seq, value]));
    expect(b.send('x')).toBe(0);
    expect(calls).toEqual([[0, 'x']]);
    b.send('y');
    off();
    off();
    b.send('z');
    expect(calls).toEqual([
      [0, 'x'],
      [1, 'y'],
    ]);
  });

  it('onSend: a throwing listener does not stop the others or fail the send', () => {
    const errors: unknown[] = [];
    const b = new Broadcast<number>(2, { onListenerError: (e) => errors.push(e) });
    const seen: number[] = [];
    b.onSend(() => {
      throw new Error('bad listener');
    });
    b.onSend((seq) => seen.push(seq));
    expect(b.send(1)).toBe(0);
    expect(seen).toEqual([0]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('bad listener');
  });

  it('onSend: unsubscribing a later listener during a send skips it', () => {
    const b = new Broadcast<number>(2);
    const seen: string[] = [];
    let offB = () => {};
    b.onSend(() => {
      seen.push('a');
      offB();
    });
    offB = b.onSend(() => seen.push('b'));
    b.send(1);
    b.send(2);
    expect(seen).toEqual(['a', 'a']);
  });

  it('a listener hears every value in order across many wrap-arounds, readable while retained', () => {
    const b = new Broadcast<number>(3);
    const heard: number[] = [];
    b.onSend((seq, value) => {
      expect(b.get(seq)).toBe(value);
      heard.push(value);
    });
    for (let i = 0; i < 100; i++) expect(b.send(i)).toBe(i);
    expect(heard).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('a reader holding an overwritten seq learns it, and by how much from oldestSeq', () => {
    const b = new Broadcast<number>(3);
    for (let i = 0; i < 4; i++) b.send(i);
    // Seq 1 is exactly capacity behind the next send: still retained.
    expect([b.oldestSeq, b.newestSeq, b.get(1)]).toEqual([1, 3, 1]);
    for (let i = 4; i < 10; i++) b.send(i);
    // A reader that last had seq 1 lost 2..6: five values.
    const had = 1;
    expect(b.get(had)).toBeUndefined();
    expect(b.oldestSeq - (had + 1)).toBe(5);
    expect([b.get(7), b.get(9)]).toEqual([7, 9]);
  });

  it('after close: send throws, listeners are dropped, retained values stay readable', () => {
    const b = new Broadcast<number>(2);
    const heard: number[] = [];
    b.onSend((_seq, value) => heard.push(value));
    b.send(1);
    b.send(2);
    b.send(3);
    b.close();
    b.close();
    expect(b.closed).toBe(true);
    expect(() => b.send(4)).toThrow(Error);
    expect(heard).toEqual([1, 2, 3]);
    expect([b.oldestSeq, b.newestSeq]).toEqual([1, 2]);
    expect([b.get(0), b.get(1), b.get(2)]).toEqual([undefined, 2, 3]);
    expect(b.latest()).toBe(3);
  });

  it('releases the overwritten value (slot holds the new one)', () => {
    const b = new Broadcast<{ id: number }>(1);
    const first = { id: 1 };
    b.send(first);
    b.send({ id: 2 });
    expect(b.get(0)).toBeUndefined();
    expect(b.latest()).toEqual({ id: 2 });
  });
});
