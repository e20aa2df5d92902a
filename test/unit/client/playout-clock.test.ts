import { describe, expect, it } from 'vitest';
import { PlayoutClock } from '../../../client/src/playout-clock.js';

const RATE = 60;
const TICK_MS = 1000 / RATE;

/** Feeds frames of ticks 1..last at their nominal times plus `latency(tick)`, rendering every `frameMs`. */
function run(
  clock: PlayoutClock,
  options: {
    lastTick: number;
    frameMs: number;
    latency?: (tick: number) => number;
    skip?: (tick: number) => boolean;
  },
): { at: number; tick: number }[] {
  const arrivals = [];
  for (let tick = 1; tick <= options.lastTick; tick++) {
    if (options.skip?.(tick)) continue;
    arrivals.push({ tick, at: tick * TICK_MS + (options.latency?.(tick) ?? 20) });
  }
  arrivals.sort((a, b) => a.at - b.at);
  const rendered = [];
  let next = 0;
  const end = options.lastTick * TICK_MS;
  for (let now = TICK_MS; now <= end; now += options.frameMs) {
    while (next < arrivals.length && arrivals[next].at <= now)
      clock.onFrame(arrivals[next].tick, arrivals[next++].at);
    rendered.push({ at: now, tick: clock.advance(now) });
  }
  return rendered;
}

describe('PlayoutClock', () => {
  it('is NaN before any frame', () => {
    expect(new PlayoutClock({ tickRate: RATE, delayMs: 100 }).advance(0)).toBeNaN();
  });

  it('settles about the delay behind the newest frame and advances at the tick rate', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    const rendered = run(clock, { lastTick: 600, frameMs: 1000 / 60 });
    const late = rendered.slice(-120);
    for (const { at, tick } of late) {
      // Newest tick at `at` is (at - 20 ms latency) / TICK_MS; we draw ~6 ticks (100 ms) behind it.
      const newest = (at - 20) / TICK_MS;
      expect(newest - tick).toBeGreaterThan(4);
      expect(newest - tick).toBeLessThan(8);
    }
    const first = late[0];
    const last = late.at(-1)!;
    expect((last.tick - first.tick) / ((last.at - first.at) / TICK_MS)).toBeCloseTo(1, 1);
  });

  it('never goes backwards and never jumps under jitter', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    // Latency 10..70 ms, varying every frame (deterministic pseudo-noise).
    const rendered = run(clock, {
      lastTick: 900,
      frameMs: 1000 / 144,
      latency: (t) => 10 + ((t * 7919) % 61),
    });
    for (let i = 60; i < rendered.length; i++) {
      const step = rendered[i].tick - rendered[i - 1].tick;
      expect(step).toBeGreaterThanOrEqual(0);
      // A 144 Hz frame at nominal speed is 0.42 ticks; steering bounds it by 25 %.
      expect(step).toBeLessThan(0.6);
    }
  });

  it('keeps moving through gaps of skipped frames', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    // The server sends only every 4th tick (a slow client): ticks jump by 4.
    const rendered = run(clock, { lastTick: 600, frameMs: 1000 / 60, skip: (t) => t % 4 !== 0 });
    const late = rendered.slice(-240);
    for (let i = 1; i < late.length; i++) {
      expect(late[i].tick - late[i - 1].tick).toBeGreaterThan(0.7);
      expect(late[i].tick - late[i - 1].tick).toBeLessThan(1.3);
    }
  });

  it('snaps after a long stall instead of crawling to catch up', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    clock.onFrame(10, 0);
    clock.advance(0);
    clock.advance(16);
    // Two seconds later the stream resumes far ahead.
    clock.onFrame(130, 2000);
    expect(clock.advance(2000)).toBeCloseTo(130 - 6, 5);
  });

  it('holds near the newest frame when frames stop, without running past it', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    run(clock, { lastTick: 300, frameMs: 1000 / 60 });
    const newest = clock.newestTick;
    let tick = 0;
    for (let now = 300 * TICK_MS; now < 300 * TICK_MS + 1000; now += 16) tick = clock.advance(now);
    expect(tick).toBeLessThanOrEqual(newest + 0.5);
    expect(tick).toBeGreaterThan(newest - 2);
  });

  it('starts over after reset', () => {
    const clock = new PlayoutClock({ tickRate: RATE, delayMs: 100 });
    clock.onFrame(5000, 0);
    clock.advance(0);
    clock.reset();
    clock.onFrame(3, 100);
    expect(clock.advance(100)).toBeCloseTo(3 - 6, 5);
  });
});
