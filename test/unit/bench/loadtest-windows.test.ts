import { describe, expect, it } from 'vitest';
import type { PoolSample } from '../../../bench/loadtest/bot-pool.js';
import { clientWindow } from '../../../bench/loadtest/client-window.js';
import { type ServerScrape, serverWindow } from '../../../bench/loadtest/server-probe.js';
import { parseSamples } from '../../../bench/prometheus-text.js';

/** One instance's /metrics: `ticks` ticks of one lobby, all in the (2 ms, 3 ms] bucket or (16.7, 20]. */
function metrics(cpu: number, fast: number, slow: number, skipped: number): string {
  const bucket = (le: string, n: number) =>
    `swarmhost_tick_duration_seconds_bucket{lobby="a",le="${le}"} ${n}`;
  return [
    `process_cpu_seconds_total ${cpu}`,
    'process_resident_memory_bytes 104857600',
    'nodejs_eventloop_lag_p99_seconds 0.012',
    `swarmhost_frames_skipped_total{reason="backpressure"} ${skipped}`,
    bucket('0.002', 0),
    bucket('0.003', fast),
    bucket('0.0167', fast),
    bucket('0.02', fast + slow),
    bucket('+Inf', fast + slow),
    `swarmhost_tick_duration_seconds_count{lobby="a"} ${fast + slow}`,
  ].join('\n');
}

describe('serverWindow', () => {
  it('takes rates per instance over its own answer times, and tick quantiles from bucket deltas', () => {
    const before: ServerScrape = {
      times: [0, 0],
      instances: [parseSamples(metrics(10, 1000, 0, 5)), parseSamples(metrics(20, 1000, 0, 0))],
    };
    // The second instance answered 1 s late: its counters cover 2 s, not 1.
    const after: ServerScrape = {
      times: [1000, 2000],
      instances: [parseSamples(metrics(10.5, 1060, 0, 65)), parseSamples(metrics(21, 1118, 2, 0))],
    };
    const w = serverWindow(before, after);
    expect(w.cpuPercent).toBeCloseTo(50 + 50);
    expect(w.tickRate).toBeCloseTo((60 + 60) / 2);
    expect(w.skippedPerS).toBeCloseTo(60);
    expect(w.rssMiB).toBeCloseTo(200);
    expect(w.loopLagP99Ms).toBeCloseTo(12);
    // 178 fast ticks and 2 slow ones: p50 in the 2–3 ms bucket, p99 in 16.7–20 ms.
    expect(w.tickP50Ms).toBeGreaterThan(2);
    expect(w.tickP50Ms).toBeLessThanOrEqual(3);
    expect(w.tickP99Ms).toBeGreaterThan(16.7);
    expect(w.tickP99Ms).toBeLessThanOrEqual(20);
  });

  it('has no tick numbers when no lobby ticked', () => {
    const idle: ServerScrape = {
      times: [0],
      instances: [parseSamples('process_cpu_seconds_total 1')],
    };
    const w = serverWindow(idle, { ...idle, times: [1000] });
    expect(w.tickP99Ms).toBeNaN();
    expect(w.tickRate).toBeNaN();
  });
});

describe('clientWindow', () => {
  const sample = (at: number, frames: number[][], bytes: number[][]): PoolSample => ({
    at,
    workers: frames.map((f, worker) => ({
      type: 'sample',
      id: 0,
      worker,
      frames: f,
      bytes: bytes[worker],
      skipped: 0,
      reconnects: 0,
      live: f.length,
      latency: '',
    })),
  });

  it('counts each bot that existed at the start, per worker, and ignores bots added since', () => {
    const before = sample(0, [[0, 0], [0]], [[0, 0], [0]]);
    const after = sample(2000, [[120, 100, 7], [60]], [[2000, 2000, 10], [1000]]);
    const w = clientWindow(before, after);
    expect(w.bots).toBe(3);
    expect(w.live).toBe(4);
    expect(w.fpsMean).toBeCloseTo((60 + 50 + 30) / 3);
    expect(w.fpsMin).toBe(30);
    expect(w.bytesPerClientPerS).toBeCloseTo(5000 / 3 / 2);
  });
});
