import { describe, expect, it } from 'vitest';
import { SendBatch } from '../../../src/send-batch.js';

function fakeSocket() {
  const calls: string[] = [];
  return { calls, cork: () => calls.push('cork'), uncork: () => calls.push('uncork') };
}

describe('SendBatch', () => {
  it('corks a socket once per turn and uncorks every held socket when the turn ends', async () => {
    const batch = new SendBatch();
    const a = fakeSocket();
    const b = fakeSocket();
    batch.hold(a);
    batch.hold(a);
    batch.hold(b);
    expect(a.calls).toEqual(['cork']);
    expect(batch.size).toBe(2);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(a.calls).toEqual(['cork', 'uncork']);
    expect(b.calls).toEqual(['cork', 'uncork']);
    expect(batch.size).toBe(0);
    // The next turn starts afresh.
    batch.hold(a);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });

  it('flushes early on request (the fan-out does), and holds again in the same turn after it', async () => {
    const batch = new SendBatch();
    const a = fakeSocket();
    batch.hold(a);
    batch.flush();
    expect(a.calls).toEqual(['cork', 'uncork']);
    batch.hold(a);
    expect(a.calls).toEqual(['cork', 'uncork', 'cork']);
    await new Promise((resolve) => setImmediate(resolve));
    // Each cork met exactly one uncork: the end-of-turn flush found only the second hold.
    expect(a.calls).toEqual(['cork', 'uncork', 'cork', 'uncork']);
  });
});
