/**
 * What the bots saw between two pool samples: each bot's frame rate (a bot
 * is counted once it existed at the window's start), bytes per second per
 * bot, ticks they missed, and how many were connected.
 */
import type { PoolSample } from './bot-pool.js';

export interface ClientWindow {
  /** Bots that existed for the whole window. */
  bots: number;
  /** Connected at the window's end, of all bots. */
  live: number;
  fpsMean: number;
  fpsP5: number;
  fpsMin: number;
  bytesPerClientPerS: number;
  /** Ticks no frame carried, per bot per second (gaps in `tick`). */
  missedPerS: number;
  reconnects: number;
}

export function clientWindow(before: PoolSample, after: PoolSample): ClientWindow {
  const seconds = (after.at - before.at) / 1000;
  const fps: number[] = [];
  let bytes = 0;
  let missed = 0;
  let reconnects = 0;
  let live = 0;
  after.workers.forEach((now, w) => {
    const then = before.workers[w];
    for (let i = 0; i < then.frames.length; i++) {
      fps.push((now.frames[i] - then.frames[i]) / seconds);
      bytes += now.bytes[i] - then.bytes[i];
    }
    missed += now.skipped - then.skipped;
    reconnects += now.reconnects - then.reconnects;
    live += now.live;
  });
  fps.sort((a, b) => a - b);
  const bots = fps.length;
  return {
    bots,
    live,
    fpsMean: bots > 0 ? fps.reduce((a, b) => a + b, 0) / bots : Number.NaN,
    fpsP5: bots > 0 ? fps[Math.floor((bots - 1) * 0.05)] : Number.NaN,
    fpsMin: bots > 0 ? fps[0] : Number.NaN,
    bytesPerClientPerS: bots > 0 ? bytes / bots / seconds : Number.NaN,
    missedPerS: bots > 0 ? missed / bots / seconds : Number.NaN,
    reconnects,
  };
}
