/**
 * Just enough of the Prometheus text format for the benchmarks: read the
 * samples of one metric and estimate a histogram quantile the way
 * PromQL's histogram_quantile does (src/histogram-quantile.ts).
 */
import { histogramQuantile as quantileOfBuckets } from '../src/histogram-quantile.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

export function sum(samples: Sample[], name: string, filter: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

/** What counters and histograms gained between two scrapes of one server: `after` less `before`, series by series. */
export function samplesSince(after: Sample[], before: Sample[]): Sample[] {
  const key = (s: Sample) => `${s.name}{${JSON.stringify(s.labels)}}`;
  const was = new Map(before.map((s) => [key(s), s.value]));
  return after.map((s) => ({ ...s, value: s.value - (was.get(key(s)) ?? 0) }));
}

/** q in [0,1] of a histogram, from its cumulative `_bucket` samples (summed over matching series). */
export function histogramQuantile(
  samples: Sample[],
  name: string,
  q: number,
  filter: Record<string, string> = {},
): number {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue;
    if (!Object.entries(filter).every(([k, v]) => s.labels[k] === v)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const estimate = quantileOfBuckets(
    q,
    sorted.map(([le]) => le),
    sorted.map(([, count]) => count),
  );
  return estimate ?? Number.NaN;
}
