import { describe, expect, it } from 'vitest';
import { Broadcast, type RecvResult } from '../../../../lobbies/channels/broadcast.js';

function readAll<T>(rx: { tryRecv(): RecvResult<T> }): RecvResult<T>[] {
  const out: RecvResult<T>[] = [];
  for (;;) {
    const r = rx.tryRecv();
    out.push(r);
    if (r.kind === 'empty' || r.kind === 'closed') return out;
  }
}

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

  it('a new receiver sees only values sent after it subscribed', () => {
    const b = new Broadcast<number>(4);
    b.send(1);
    b.send(2);
    const rx = b.subscribe();
    expect(rx.nextSeq).toBe(2);
    expect(rx.tryRecv()).toEqual({ kind: 'empty' });
    b.send(3);
    expect(rx.tryRecv()).toEqual({ kind: 'value', seq: 2, value: 3 });
    expect(rx.tryRecv()).toEqual({ kind: 'empty' });
  });

  it('delivers every value in order across many wrap-arounds when keeping up', () => {
    const b = new Broadcast<number>(3);
    const rx = b.subscribe();
    const got: number[] = [];
    for (let i = 0; i < 100; i++) {
      b.send(i);
      if (i % 3 === 2) {
        for (const r of readAll(rx)) if (r.kind === 'value') got.push(r.value);
      }
    }
    for (const r of readAll(rx)) if (r.kind === 'value') got.push(r.value);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('reports lag once with the exact skipped count, then resumes at the oldest', () => {
    const b = new Broadcast<number>(4);
    const rx = b.subscribe();
    for (let i = 0; i < 10; i++) b.send(i);
    expect(rx.pending).toBe(10);
    // Seqs 0..5 were overwritten; 6..9 retained.
    expect(rx.tryRecv()).toEqual({ kind: 'lagged', skipped: 6 });
    expect(rx.nextSeq).toBe(6);
    expect(readAll(rx)).toEqual([
      { kind: 'value', seq: 6, value: 6 },
      { kind: 'value', seq: 7, value: 7 },
      { kind: 'value', seq: 8, value: 8 },
      { kind: 'value', seq: 9, value: 9 },
      { kind: 'empty' },
    ]);
  });

  it('reports lag after a partial read with the exact count', () => {
    const b = new Broadcast<number>(3);
    const rx = b.subscribe();
    b.send(0);
    b.send(1);
    expect(rx.tryRecv()).toEqual({ kind: 'value', seq: 0, value: 0 });
    for (let i = 2; i < 8; i++) b.send(i);
    // nextSeq 1, oldest retained 5.
    expect(rx.tryRecv()).toEqual({ kind: 'lagged', skipped: 4 });
    expect(rx.tryRecv()).toEqual({ kind: 'value', seq: 5, value: 5 });
  });

  it('is not lagged when exactly capacity behind, lagged by 1 at capacity + 1', () => {
    const b = new Broadcast<number>(3);
    const rx = b.subscribe();
    const other = b.subscribe();
    for (let i = 0; i < 3; i++) b.send(i);
    expect(rx.tryRecv()).toEqual({ kind: 'value', seq: 0, value: 0 });
    b.send(3);
    // Unread: 1, 2, 3 = exactly capacity, all retained.
    expect(rx.pending).toBe(3);
    expect(rx.tryRecv()).toEqual({ kind: 'value', seq: 1, value: 1 });
    // other has 4 unread with capacity 3: seq 0 is gone.
    expect(other.tryRecv()).toEqual({ kind: 'lagged', skipped: 1 });
    expect(other.tryRecv()).toEqual({ kind: 'value', seq: 1, value: 1 });
  });

  it('keeps receivers independent', () => {
    const b = new Broadcast<string>(2);
    const fast = b.subscribe();
    const slow = b.subscribe();
    b.send('a');
    expect(fast.tryRecv()).toEqual({ kind: 'value', seq: 0, value: 'a' });
    b.send('b');
    expect(fast.tryRecv()).toEqual({ kind: 'value', seq: 1, value: 'b' });
    b.send('c');
    expect(fast.tryRecv()).toEqual({ kind: 'value', seq: 2, value: 'c' });
    const late = b.subscribe();
    b.send('d');
    expect(slow.tryRecv()).toEqual({ kind: 'lagged', skipped: 2 });
    expect(slow.tryRecv()).toEqual({ kind: 'value', seq: 2, value: 'c' });
    expect(late.tryRecv()).toEqual({ kind: 'value', seq: 3, value: 'd' });
    expect(fast.tryRecv()).toEqual({ kind: 'value', seq: 3, value: 'd' });
    expect(fast.tryRecv()).toEqual({ kind: 'empty' });
    expect(slow.tryRecv()).toEqual({ kind: 'value', seq: 3, value: 'd' });
  });

  it('recvNewest jumps to the newest with exact skipped counts', () => {
    const b = new Broadcast<number>(4);
    const rx = b.subscribe();
    expect(rx.recvNewest()).toEqual({ kind: 'empty' });
    b.send(100);
    expect(rx.recvNewest()).toEqual({ kind: 'value', seq: 0, value: 100, skipped: 0 });
    expect(rx.recvNewest()).toEqual({ kind: 'empty' });
    b.send(101);
    b.send(102);
    b.send(103);
    expect(rx.recvNewest()).toEqual({ kind: 'value', seq: 3, value: 103, skipped: 2 });
    // Overwritten unread values count as passed over too.
    for (let i = 4; i < 14; i++) b.send(100 + i);
    expect(rx.recvNewest()).toEqual({ kind: 'value', seq: 13, value: 113, skipped: 9 });
    expect(rx.nextSeq).toBe(14);
    expect(rx.tryRecv()).toEqual({ kind: 'empty' });
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

  it('after close: send throws, retained unread values drain, then closed', () => {
    const b = new Broadcast<number>(2);
    const rx = b.subscribe();
    const idle = b.subscribe();
    b.send(1);
    b.send(2);
    b.send(3);
    expect(idle.recvNewest()).toEqual({ kind: 'value', seq: 2, value: 3, skipped: 2 });
    b.close();
    expect(b.closed).toBe(true);
    expect(() => b.send(4)).toThrow(Error);
    expect(b.newestSeq).toBe(2);
    expect(readAll(rx)).toEqual([
      { kind: 'lagged', skipped: 1 },
      { kind: 'value', seq: 1, value: 2 },
      { kind: 'value', seq: 2, value: 3 },
      { kind: 'closed' },
    ]);
    expect(rx.tryRecv()).toEqual({ kind: 'closed' });
    expect(idle.tryRecv()).toEqual({ kind: 'closed' });
    expect(idle.recvNewest()).toEqual({ kind: 'closed' });
    expect(b.subscribe().tryRecv()).toEqual({ kind: 'closed' });
    expect(b.latest()).toBe(3);
  });

  it('recvNewest after close still returns an unread value first', () => {
    const b = new Broadcast<number>(2);
    const rx = b.subscribe();
    b.send(7);
    b.close();
    expect(rx.recvNewest()).toEqual({ kind: 'value', seq: 0, value: 7, skipped: 0 });
    expect(rx.recvNewest()).toEqual({ kind: 'closed' });
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
