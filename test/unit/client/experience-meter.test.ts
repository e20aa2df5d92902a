import { describe, expect, it } from 'vitest';
import { type ClockSample, ExperienceMeter } from '../../../client/src/experience-meter.js';
import { parseClientMessage, STATS_FIELDS } from '../../../protocol/messages.js';

const RATE = 60;
const TICK_MS = 1000 / RATE;
/** The page's performance.timeOrigin: epoch ms at local 0. */
const ORIGIN = 1_700_000_000_000;

/** A meter on a clock the test moves by hand. */
function harness() {
  const clock = { now: 0 };
  const meter = new ExperienceMeter({ now: () => clock.now, timeOrigin: ORIGIN });
  meter.restart(RATE);
  return { clock, meter };
}

/** A pong whose server read its clock `offsetMs` ahead of ours, at the midpoint of the round trip. */
function pong(sentAt: number, rttMs: number, offsetMs: number): ClockSample {
  return {
    sentAt,
    receivedAt: sentAt + rttMs,
    serverTime: ORIGIN + sentAt + rttMs / 2 + offsetMs,
  };
}

/** The report passes the server's own validation. */
function expectValid(report: object): void {
  expect(
    parseClientMessage({ t: 'stats', ...report }, { worldSize: 1000, maxSpawn: 500 }),
  ).toMatchObject({ ok: true });
}

describe('ExperienceMeter', () => {
  it('counts a window: frames drawn per second, frames received, ticks skipped, mean decode', () => {
    const { clock, meter } = harness();
    // Ticks 1..10 but for 4, 5 and 8: three ticks no frame carried.
    for (const tick of [1, 2, 3, 6, 7, 9, 10]) meter.frame(tick, ORIGIN + tick * TICK_MS, tick);
    for (let i = 0; i < 120; i++) {
      clock.now += 1000 / 60;
      meter.drawn(Number.NaN);
    }
    const report = meter.report();
    expect(report.fps).toBeCloseTo(60, 9);
    expect(report.received).toBe(7);
    expect(report.skipped).toBe(3);
    expect(report.decodeMs).toBeCloseTo((1 + 2 + 3 + 6 + 7 + 9 + 10) / 7, 9);
    expectValid(report);
  });

  it('starts a fresh window with each report; a gap across the boundary counts in the window it ends in', () => {
    const { clock, meter } = harness();
    meter.frame(1, ORIGIN, 1);
    meter.frame(2, ORIGIN, 1);
    clock.now = 2000;
    expect(meter.report()).toMatchObject({ received: 2, skipped: 0 });
    meter.frame(5, ORIGIN, 3);
    clock.now = 3000;
    meter.drawn(4);
    const second = meter.report();
    expect(second).toMatchObject({ received: 1, skipped: 2, decodeMs: 3 });
    expect(second.fps).toBeCloseTo(1, 9);
    clock.now = 5000;
    expect(meter.report()).toEqual({ fps: 0, received: 0, skipped: 0, decodeMs: 0 });
  });

  it('leaves out what it could not measure: no pong, no rttMs or latency; nothing drawn, no buffer', () => {
    const { clock, meter } = harness();
    meter.frame(1, ORIGIN, 0.5);
    clock.now = 2000;
    const report = meter.report();
    expect(report).toEqual({ fps: 0, received: 1, skipped: 0, decodeMs: 0.5 });
    expect(Number.isNaN(meter.ageMs)).toBe(true);
    expect(Number.isNaN(meter.clockOffsetMs)).toBe(true);
  });

  it('measures the age of the drawn state on the server clock, corrected by the offset the pings give', () => {
    const { clock, meter } = harness();
    // The server's clock runs 5 s ahead of the page's: uncorrected, every age is off by 5000.
    const skew = 5000;
    const serverAt = (local: number) => ORIGIN + local + skew;
    meter.pong(pong(0, 4, skew));
    expect(meter.clockOffsetMs).toBeCloseTo(skew, 3);
    expect(meter.rttMs).toBe(4);
    // Frame k is sent at local 100 + k * TICK_MS (server clock), arriving 10 ms later.
    const ages: number[] = [];
    for (let k = 0; k < 60; k++) {
      const sentLocal = 100 + k * TICK_MS;
      clock.now = sentLocal + 10;
      meter.frame(k, serverAt(sentLocal), 0.2);
      // Drawn 6 ticks (100 ms) behind the newest frame, 3 ms after it arrived.
      if (k >= 6) {
        clock.now += 3;
        meter.drawn(k - 6);
        // Drawn state of tick k - 6 was sent 6 ticks before frame k: 100 + 10 + 3 ms ago.
        ages.push(meter.ageMs);
      }
    }
    for (const age of ages) expect(age).toBeCloseTo(6 * TICK_MS + 13, 3);
    const report = meter.report();
    expect(report.latencyMs).toBeCloseTo(6 * TICK_MS + 13, 3);
    expect(report.bufferMs).toBeCloseTo(6 * TICK_MS, 6);
    expect(report.rttMs).toBe(4);
    expectValid(report);
  });

  it('takes the send time between the two frames around a fractional tick, however unevenly they were sent', () => {
    const { clock, meter } = harness();
    meter.pong(pong(0, 2, 0));
    // Ticks 10 and 14 only (the server skipped 11-13), sent 100 ms apart (a stall).
    meter.frame(10, ORIGIN + 1000, 0);
    meter.frame(14, ORIGIN + 1100, 0);
    clock.now = 1200;
    meter.drawn(12.5);
    // 12.5 is 5/8 of the way from 10 to 14: sent at 1062.5.
    // (Epoch ms near 1.7e12 carry about 0.0002 ms of float precision: 3 digits.)
    expect(meter.ageMs).toBeCloseTo(1200 - 1062.5, 3);
    // Past the newest frame (or before the oldest held) it goes on at the nominal tick rate.
    meter.drawn(15);
    expect(meter.ageMs).toBeCloseTo(1200 - (1100 + TICK_MS), 3);
    meter.drawn(8);
    expect(meter.ageMs).toBeCloseTo(1200 - (1000 - 2 * TICK_MS), 3);
    expect(meter.report().bufferMs).toBeCloseTo(((14 - 12.5 + 0 + (14 - 8)) * TICK_MS) / 3, 9);
  });

  it('keeps the offset of the lowest-round-trip recent ping, and forgets old ones', () => {
    const { meter } = harness();
    // The true offset is 300; a slow, lopsided round trip misleads by up to half of it.
    meter.pong({ sentAt: 0, receivedAt: 200, serverTime: ORIGIN + 10 + 300 });
    expect(meter.clockOffsetMs).toBeCloseTo(300 + 10 - 100, 3);
    meter.pong(pong(2000, 2, 300));
    expect(meter.clockOffsetMs).toBeCloseTo(300, 3);
    meter.pong({ sentAt: 4000, receivedAt: 4050, serverTime: ORIGIN + 4000 + 300 });
    expect(meter.clockOffsetMs).toBeCloseTo(300, 3);
    expect(meter.rttMs).toBe(50);
    // Seven more slower pings push the 2 ms one out of the recent eight.
    for (let i = 0; i < 7; i++) meter.pong(pong(6000 + i * 2000, 20 + i, 310));
    expect(meter.clockOffsetMs).toBeCloseTo(310, 3);
    // A pong without a usable clock or with a round trip backwards in time is ignored.
    meter.pong({ sentAt: 30_000, receivedAt: 30_001, serverTime: Number.NaN });
    meter.pong({ sentAt: 30_000, receivedAt: 29_000, serverTime: ORIGIN });
    expect(meter.clockOffsetMs).toBeCloseTo(310, 3);
    expect(meter.rttMs).toBe(26);
  });

  it('keeps every value in its protocol range: clamped, whole counts, never negative', () => {
    const { clock, meter } = harness();
    // A wrong clock estimate (the server seems 10 s behind) would make ages negative.
    meter.pong(pong(0, 1, -10_000));
    meter.frame(1, ORIGIN, 20_000);
    // Thousands of draws in one millisecond: a huge rate.
    for (let i = 0; i < 5000; i++) meter.drawn(1);
    clock.now = 1;
    meter.pong({ sentAt: 0, receivedAt: 90_000, serverTime: ORIGIN });
    const report = meter.report();
    expect(report.fps).toBe(STATS_FIELDS.fps.max);
    expect(report.decodeMs).toBe(STATS_FIELDS.decodeMs.max);
    expect(report.latencyMs).toBe(0);
    expect(report.rttMs).toBe(STATS_FIELDS.rttMs.max);
    expectValid(report);
    // Ages far in the past (the server clock far ahead) are capped too.
    meter.pong(pong(2, 0.5, 1e9));
    meter.drawn(1);
    clock.now = 2;
    expect(meter.report().latencyMs).toBe(STATS_FIELDS.latencyMs.max);
  });

  it('starts afresh on restart: a new window, new ticks (no gap across sockets), no clock until the next pong', () => {
    const { clock, meter } = harness();
    meter.pong(pong(0, 2, 0));
    meter.frame(100, ORIGIN, 1);
    meter.drawn(99);
    clock.now = 1000;
    meter.restart(30);
    // The new socket's ticks start lower; neither that nor its first frame is a gap.
    meter.frame(5, ORIGIN + 1000, 1);
    meter.frame(7, ORIGIN + 1000 + 2000 / 30, 1);
    meter.drawn(6);
    expect(Number.isNaN(meter.ageMs)).toBe(true);
    expect(Number.isNaN(meter.rttMs)).toBe(true);
    clock.now = 3000;
    const report = meter.report();
    expect(report).toEqual({ fps: 0.5, received: 2, skipped: 1, decodeMs: 1, bufferMs: 1000 / 30 });
  });
});
