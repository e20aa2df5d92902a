import { describe, expect, it } from 'vitest';
import { isDue, rungAt, rungs, SendRate } from '../../../src/send-rate.js';

const LIMITS = { backlogBytes: 1000, rttSlackMs: 50, windowMs: 100, raiseAfterMs: 300 };

describe('SendRate', () => {
  it('the ladder under a cap is the cap, then each standard rate below it', () => {
    expect(rungs(60)).toEqual([60, 30, 20, 15, 10]);
    expect(rungs(45)).toEqual([45, 30, 20, 15, 10]);
    expect(rungs(15)).toEqual([15, 10]);
    expect(rungs(5)).toEqual([5]);
  });

  it('picks the rung lowered to without building the ladder, clamped at its bottom', () => {
    for (let cap = 1; cap <= 120; cap++) {
      const ladder = rungs(cap);
      for (let lowered = 0; lowered < 8; lowered++)
        expect(rungAt(cap, lowered), `cap ${cap} lowered ${lowered}`).toBe(
          ladder[Math.min(lowered, ladder.length - 1)],
        );
    }
  });

  it('sends at the lowest of its ask and the cap', () => {
    const rate = new SendRate(LIMITS, 0);
    expect(rate.hz(60)).toBe(60);
    rate.ask(20);
    expect(rate.hz(60)).toBe(20);
    expect(rate.hz(15)).toBe(15);
  });

  it('steps down one rung per window that backed up, to the bottom and no further', () => {
    const rate = new SendRate(LIMITS, 0);
    const seen: number[] = [];
    for (let t = 100; t <= 700; t += 100) {
      rate.due(5000);
      const change = rate.judge(t, 60);
      if (change) seen.push(change.hz);
    }
    expect(seen).toEqual([30, 20, 15, 10]);
    expect(rate.hz(60)).toBe(10);
  });

  it('judges only once a window has passed, and a backlog under the mark is clean', () => {
    const rate = new SendRate(LIMITS, 0);
    rate.due(5000);
    expect(rate.judge(50, 60)).toBeUndefined();
    expect(rate.judge(100, 60)).toEqual({ direction: 'down', hz: 30 });
    rate.due(999);
    expect(rate.judge(200, 60)).toBeUndefined();
    expect(rate.hz(60)).toBe(30);
  });

  it('steps back up after a clean run, and backs off after a step up that fails at once', () => {
    const rate = new SendRate(LIMITS, 0);
    rate.due(5000);
    rate.judge(100, 60); // 30
    rate.due(5000);
    rate.judge(200, 60); // 20
    // 300 ms clean: one rung up.
    expect(rate.judge(300, 60)).toBeUndefined();
    expect(rate.judge(400, 60)).toBeUndefined();
    expect(rate.judge(500, 60)).toEqual({ direction: 'up', hz: 30 });
    // Backs up right after the step up: down again, and the next raise needs 600 ms.
    rate.due(5000);
    expect(rate.judge(600, 60)).toEqual({ direction: 'down', hz: 20 });
    for (let t = 700; t <= 1100; t += 100) expect(rate.judge(t, 60)).toBeUndefined();
    expect(rate.judge(1200, 60)).toEqual({ direction: 'up', hz: 30 });
  });

  it('a round trip well past its best counts as congestion; one near it does not', () => {
    const rate = new SendRate(LIMITS, 0);
    rate.rtt(10);
    rate.rtt(60); // under 2 x 10 + 50
    expect(rate.judge(100, 60)).toBeUndefined();
    rate.rtt(71);
    expect(rate.judge(200, 60)).toEqual({ direction: 'down', hz: 30 });
    rate.rtt(Number.NaN);
    rate.rtt(-5);
    expect(rate.judge(300, 60)).toBeUndefined();
  });
});

describe('isDue', () => {
  it('sends every tick at the tick rate, and on the ticks where tick·hz/tickRate steps up below it', () => {
    expect(isDue(7, 6, 60, 60)).toBe(true);
    const at15 = [];
    for (let tick = 1, last = 0; tick <= 16; tick++) {
      if (isDue(tick, last, 15, 60)) {
        at15.push(tick);
        last = tick;
      }
    }
    expect(at15).toEqual([4, 8, 12, 16]);
    // The first frame is always due.
    expect(isDue(5, -1, 10, 60)).toBe(true);
  });
});
