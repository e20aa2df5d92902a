/**
 * What the servers say about themselves, from their /metrics: one scrape of
 * every instance at a moment (`scrape`), and what happened between two
 * scrapes (`serverWindow`): tick duration quantiles over the window (bucket
 * deltas, summed over lobbies and instances, as PromQL's histogram_quantile
 * over a rate would), ticks per second per lobby, CPU, RSS, frames skipped
 * and the event loop's lag.
 */
import { histogramQuantile, parseSamples, type Sample, sum } from '../prometheus-text.js';

export interface ServerScrape {
  /** When each instance answered (performance.now()), in --metrics order: its counters are of that moment. */
  times: number[];
  /** One sample list per instance, in --metrics order. */
  instances: Sample[][];
}

export interface ServerWindow {
  tickP50Ms: number;
  tickP99Ms: number;
  /** Ticks per second per running lobby. */
  tickRate: number;
  /** % of one core, summed over instances. */
  cpuPercent: number;
  /** Summed over instances, at the window's end. */
  rssMiB: number;
  /** Frames the servers did not send (socket above the high-water mark), per second. */
  skippedPerS: number;
  /** The worst instance's event loop delay p99 at the window's end (prom-client resets it per scrape). */
  loopLagP99Ms: number;
}

export async function scrape(urls: string[], timeoutMs = 5000): Promise<ServerScrape> {
  const answers = await Promise.all(
    urls.map(async (url) => {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      // A busy server answers late: its counters are of when it answered, not of when we asked.
      const at = performance.now();
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
      return { at, samples: parseSamples(await response.text()) };
    }),
  );
  return { times: answers.map((a) => a.at), instances: answers.map((a) => a.samples) };
}

const TICK = 'swarmhost_tick_duration_seconds';

export function serverWindow(before: ServerScrape, after: ServerScrape): ServerWindow {
  // Bucket deltas of every instance as one sample list: the quantile of the window.
  const tickDeltas: Sample[] = [];
  let ticksPerS = 0;
  let lobbiesTicking = 0;
  // Per second, each instance over its own interval, then summed.
  let cpu = 0;
  let skipped = 0;
  after.instances.forEach((now, i) => {
    const then = before.instances[i];
    const seconds = (after.times[i] - before.times[i]) / 1000;
    const rate = (name: string) => (sum(now, name) - sum(then, name)) / seconds;
    const earlier = new Map<string, number>();
    for (const s of then) if (s.name.startsWith(TICK)) earlier.set(seriesKey(s), s.value);
    for (const s of now) {
      if (s.name === `${TICK}_bucket`)
        tickDeltas.push({ ...s, value: s.value - (earlier.get(seriesKey(s)) ?? 0) });
      if (s.name === `${TICK}_count`) {
        const delta = s.value - (earlier.get(seriesKey(s)) ?? 0);
        ticksPerS += delta / seconds;
        if (delta > 0) lobbiesTicking++;
      }
    }
    cpu += rate('process_cpu_seconds_total');
    skipped += rate('swarmhost_frames_skipped_total');
  });
  const ms = (q: number) => histogramQuantile(tickDeltas, TICK, q) * 1000;
  return {
    tickP50Ms: ticksPerS > 0 ? ms(0.5) : Number.NaN,
    tickP99Ms: ticksPerS > 0 ? ms(0.99) : Number.NaN,
    tickRate: lobbiesTicking > 0 ? ticksPerS / lobbiesTicking : Number.NaN,
    cpuPercent: cpu * 100,
    rssMiB:
      after.instances.reduce((t, s) => t + sum(s, 'process_resident_memory_bytes'), 0) / 2 ** 20,
    skippedPerS: skipped,
    loopLagP99Ms: loopLagP99Ms(after),
  };
}

/** The worst instance's event loop delay p99 at a scrape, ms (prom-client resets it per scrape). */
export const loopLagP99Ms = (at: ServerScrape): number =>
  Math.max(...at.instances.map((s) => sum(s, 'nodejs_eventloop_lag_p99_seconds') * 1000));

const seriesKey = (s: Sample): string =>
  `${s.name}{${Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',')}}`;
