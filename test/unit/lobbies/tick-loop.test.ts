import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lobbies/fake-clock.js';
import { TickLoop } from '../../../lobbies/tick-loop.js';

interface Harness {
  clock: FakeClock;
  loop: TickLoop;
  /** clock.now() at each tick. */
  times: number[];
  /** lateMs passed to each tick. */
  late: number[];
  dropped: number[];
}

function harness(
  tickRate: number,
  maxCatchUpSteps = 4,
  onTick: (index: number, clock: FakeClock) => void = () => {},
): Harness {
  const clock = new FakeClock();
  const times: number[] = [];
  const late: number[] = [];
  const dropped: number[] = [];
  const loop = new TickLoop({
    clock,
    tickRate,
    maxCatchUpSteps,
    onTick: (lateMs) => {
      times.push(clock.now());
      late.push(lateMs);
      onTick(times.length, clock);
    },
    onDropped: (steps) => dropped.push(steps),
  });
  return { clock, loop, times, late, dropped };
}

/** Advances in 1 ms increments, recording the tick count after each. */
function stepMs(h: Harness, ms: number): number[] {
  const counts: number[] = [];
  for (let i = 0; i < ms; i++) {
    h.clock.advance(1);
    counts.push(h.times.length);
  }
  return counts;
}

describe('TickLoop on a fake clock, 1 ms at a time', () => {
  it('50 Hz: exactly one tick per 20 ms, each at its step boundary, none late', () => {
    const h = harness(50);
    h.loop.start();
    expect(h.loop.stepMs).toBe(20);
    const counts = stepMs(h, 1000);
    expect(h.times).toHaveLength(50);
    expect(h.times).toEqual(Array.from({ length: 50 }, (_, i) => 20 * (i + 1)));
    // Never early: after t ms exactly floor(t / 20) ticks have run.
    expect(counts).toEqual(Array.from({ length: 1000 }, (_, i) => Math.floor((i + 1) / 20)));
    expect(h.late).toEqual(new Array(50).fill(0));
    expect(h.dropped).toEqual([]);
    expect(h.clock.pending).toBe(1);
  });

  it('60 Hz: never early, and never more than 1 ms late', () => {
    const h = harness(60);
    h.loop.start();
    const counts = stepMs(h, 6000);
    counts.forEach((count, i) => {
      const t = i + 1;
      // Tick k is due at k * 50/3 ms; compare in integers to stay exact.
      expect(count * 50, `t=${t}: early`).toBeLessThanOrEqual(3 * t);
      expect((count + 1) * 50, `t=${t}: more than 1 ms late`).toBeGreaterThan(3 * (t - 1));
    });
    for (const lateMs of h.late) {
      expect(lateMs).toBeGreaterThanOrEqual(0);
      expect(lateMs).toBeLessThan(1);
    }
    expect(h.dropped).toEqual([]);
  });

  it('60 Hz: N ticks over N steps of time, each on its step boundary', () => {
    const h = harness(60);
    h.loop.start();
    stepMs(h, 50);
    // The fake clock keeps exact time: three steps of 50/3 ms end at 50 ms.
    expect(h.times).toHaveLength(3);
    // 60 * fl(1000/60) is a hair over 1000: the 60th tick is due just after.
    stepMs(h, 951);
    expect(h.times).toHaveLength(60);
    // Tick k runs at k * 50/3 ms (the rounding of 1000/60 aside).
    for (const [i, time] of h.times.entries()) expect(time).toBeCloseTo((50 * (i + 1)) / 3, 6);
  });

  it('ticks at the configured rate over a long run without drift', () => {
    const h = harness(100);
    h.loop.start();
    stepMs(h, 10_000);
    expect(h.times).toHaveLength(1000);
    expect(h.times.at(-1)).toBe(10_000);
    expect(h.late.every((lateMs) => lateMs === 0)).toBe(true);
  });
});

describe('TickLoop after a stall', () => {
  it('FakeClock.advance(1000) in one call fires every wake at its own due time (no stall)', () => {
    const h = harness(50);
    h.loop.start();
    h.clock.advance(1000);
    expect(h.times).toEqual(Array.from({ length: 50 }, (_, i) => 20 * (i + 1)));
    expect(h.late).toEqual(new Array(50).fill(0));
    expect(h.dropped).toEqual([]);
  });

  it('a 1 s tick: the next wake runs maxCatchUpSteps, reports the rest dropped, then resumes', () => {
    // The first tick takes 1000 ms of (fake) time: the event loop was blocked.
    const h = harness(50, 4, (index, clock) => {
      if (index === 1) clock.advance(1000);
    });
    h.loop.start();
    h.clock.advance(20);
    expect(h.times).toEqual([20]);
    // The slow tick ended at 1020 with the next step long overdue: the next
    // wake comes at once and finds 1000 ms owed: 4 steps run, 46 dropped.
    h.clock.advance(1040 - h.clock.now());
    expect(h.clock.now()).toBe(1040);
    expect(h.times).toEqual([20, 1020, 1020, 1020, 1020, 1040]);
    expect(h.dropped).toEqual([46]);
    // Each catch-up step is late by how far its ideal start lies behind;
    // back on the 20 ms cadence the next is on time.
    expect(h.late).toEqual([0, 980, 960, 940, 920, 0]);
    stepMs(h, 100);
    expect(h.times.slice(5)).toEqual([1040, 1060, 1080, 1100, 1120, 1140]);
    expect(h.dropped).toEqual([46]);
  });

  it('catch-up steps count the work done before them as lateness', () => {
    // Tick 1 stalls 1 s; each catch-up tick then takes 5 ms itself.
    const h = harness(50, 3, (index, clock) => {
      if (index === 1) clock.advance(1000);
      else if (index <= 4) clock.advance(5);
    });
    h.loop.start();
    h.clock.advance(20);
    h.clock.advance(1040 - h.clock.now());
    // 1000 ms owed at the wake at 1020; the 5 ms each step takes adds to the next one's lateness.
    expect(h.late).toEqual([0, 980, 965, 950, 0]);
    expect(h.dropped).toEqual([47]);
  });

  it('lateness is never negative and grows with the length of the stall', () => {
    const worst: number[] = [];
    for (const stall of [30, 100, 400]) {
      const h = harness(50, 2, (index, clock) => {
        if (index === 1) clock.advance(stall);
      });
      h.loop.start();
      h.clock.advance(20);
      h.clock.advance(40 + stall - h.clock.now());
      expect(h.late.every((lateMs) => lateMs >= 0)).toBe(true);
      worst.push(Math.max(...h.late));
    }
    // The stalled tick's successor is late by the stall less the step it had anyway.
    expect(worst).toEqual([10, 80, 380]);
  });

  it('a stall shorter than the cap loses nothing', () => {
    const h = harness(50, 4, (index, clock) => {
      if (index === 1) clock.advance(50);
    });
    h.loop.start();
    h.clock.advance(20);
    h.clock.advance(90 - h.clock.now());
    // 50 ms owed at the wake at 70: 2 steps, 10 ms carried to the wake at 80.
    expect(h.times).toEqual([20, 70, 70, 80]);
    expect(h.late).toEqual([0, 30, 10, 0]);
    expect(h.dropped).toEqual([]);
    h.clock.advance(10);
    expect(h.times).toEqual([20, 70, 70, 80, 100]);
  });

  it('a clock advanced from inside a tick never runs backwards', () => {
    const h = harness(50, 4, (index, clock) => {
      if (index === 1) clock.advance(1000);
    });
    h.loop.start();
    h.clock.advance(20);
    // The tick moved time to 1020; the outer advance(20) must not move it back to 20.
    expect(h.clock.now()).toBe(1020);
  });
});

describe('TickLoop start and stop', () => {
  it('stop() leaves no pending timers and no further ticks', () => {
    const h = harness(50);
    h.loop.start();
    expect(h.loop.running).toBe(true);
    expect(h.clock.pending).toBe(1);
    stepMs(h, 50);
    expect(h.times).toEqual([20, 40]);
    h.loop.stop();
    expect(h.loop.running).toBe(false);
    expect(h.clock.pending).toBe(0);
    h.clock.advance(10_000);
    expect(h.times).toEqual([20, 40]);
    expect(h.clock.pending).toBe(0);
  });

  it('stop() from inside a tick ends the catch-up run and schedules nothing', () => {
    const h = harness(50, 4, (index, clock) => {
      if (index === 1) clock.advance(1000);
      if (index === 2) h.loop.stop();
    });
    h.loop.start();
    h.clock.advance(20);
    h.clock.advance(1040 - h.clock.now());
    expect(h.times).toEqual([20, 1020]);
    expect(h.clock.pending).toBe(0);
    h.clock.advance(1000);
    expect(h.times).toEqual([20, 1020]);
  });

  it('stop() before the first tick and twice in a row is harmless', () => {
    const h = harness(50);
    h.loop.start();
    h.loop.stop();
    h.loop.stop();
    expect(h.clock.pending).toBe(0);
    h.clock.advance(100);
    expect(h.times).toEqual([]);
  });

  it('start() twice keeps one timer', () => {
    const h = harness(50);
    h.loop.start();
    h.loop.start();
    expect(h.clock.pending).toBe(1);
    stepMs(h, 100);
    expect(h.times).toEqual([20, 40, 60, 80, 100]);
  });

  it('a restart after a pause does not replay the paused time', () => {
    const h = harness(50);
    h.loop.start();
    stepMs(h, 50);
    h.loop.stop();
    h.clock.advance(450);
    h.loop.start();
    stepMs(h, 60);
    expect(h.times).toEqual([20, 40, 520, 540, 560]);
    expect(h.late).toEqual([0, 0, 0, 0, 0]);
    expect(h.dropped).toEqual([]);
  });
});
