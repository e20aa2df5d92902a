import { describe, expect, it } from 'vitest';
import { type InputTransport, InputSender } from '../../../client/src/input-sender.js';
import type { InputMode } from '../../../protocol/messages.js';

/** A hand-driven clock and timer queue, and a transport that records what it sends. */
function harness(connected = true) {
  let now = 0;
  const timers: { at: number; run: () => void }[] = [];
  const sent: {
    t: 'input' | 'spawn';
    seq: number;
    x: number;
    y: number;
    mode?: InputMode;
    count?: number;
  }[] = [];
  let seq = 0;
  const link = { connected };
  const record = (message: (typeof sent)[number]): number | undefined => {
    if (!link.connected) return undefined;
    sent.push(message);
    return seq++;
  };
  const transport: InputTransport = {
    sendInput: (x, y, mode) => record({ t: 'input', seq, x, y, mode }),
    spawn: (x, y, count) => record({ t: 'spawn', seq, x, y, count }),
  };
  const sender = new InputSender(transport, {
    minIntervalMs: 1000 / 30,
    now: () => now,
    schedule: (run, delayMs) => timers.push({ at: now + delayMs, run }),
  });
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next || next.at > end) break;
      timers.shift();
      now = next.at;
      next.run();
    }
    now = end;
  };
  return { sender, sent, advance, link, resetSeq: () => (seq = 0) };
}

describe('InputSender', () => {
  it('sends the first input at once, with seqs from the transport', () => {
    const { sender, sent } = harness();
    sender.setForce('attract', 10, 20);
    expect(sent).toEqual([{ t: 'input', seq: 0, x: 10, y: 20, mode: 'attract' }]);
    expect(sender.lastSeq).toBe(0);
  });

  it('caps the rate at 30 a second while the pointer moves, and always sends the last state', () => {
    const { sender, sent, advance } = harness();
    // A pointer moving every 2 ms for one second: 500 updates.
    for (let i = 0; i < 500; i++) {
      sender.setForce('attract', i, i);
      advance(2);
    }
    expect(sent.length).toBeGreaterThanOrEqual(29);
    expect(sent.length).toBeLessThanOrEqual(31);
    sender.setForce('none', 0, 0);
    advance(100);
    expect(sent.at(-1)).toMatchObject({ mode: 'none' });
    expect(sender.lastSeq).toBe(sent.length - 1);
  });

  it('does not repeat what the server already has', () => {
    const { sender, sent, advance } = harness();
    sender.setForce('none', 0, 0); // nothing held yet: nothing to say
    sender.setForce('attract', 5, 5);
    advance(100);
    sender.setForce('attract', 5, 5);
    advance(100);
    expect(sent).toHaveLength(1);
  });

  it('sends bursts first within the same budget', () => {
    const { sender, sent, advance } = harness();
    sender.setForce('attract', 1, 1);
    sender.setForce('attract', 2, 2);
    sender.burst(3, 3, 200);
    advance(1000 / 30);
    expect(sent.map((m) => m.t)).toEqual(['input', 'spawn']);
    advance(1000 / 30);
    expect(sent.at(-1)).toMatchObject({ t: 'input', x: 2, y: 2 });
  });

  it('sends the held force again on a new connection and after a refusal', () => {
    const { sender, sent, advance, link, resetSeq } = harness();
    sender.setForce('repel', 7, 8);
    link.connected = false;
    sender.setForce('repel', 9, 9);
    advance(200);
    expect(sent).toHaveLength(1);
    link.connected = true;
    resetSeq();
    sender.reconnected();
    advance(100);
    expect(sent.at(-1)).toEqual({ t: 'input', seq: 0, x: 9, y: 9, mode: 'repel' });
    // inbox_full for seq 0: the same force goes out again.
    sender.refused(0);
    advance(100);
    expect(sent.at(-1)).toEqual({ t: 'input', seq: 1, x: 9, y: 9, mode: 'repel' });
    // A refusal of an older seq changes nothing.
    sender.refused(0);
    advance(100);
    expect(sent).toHaveLength(3);
  });
});
