/**
 * Latency histograms (hdr-histogram-js), in microseconds: 3 significant
 * digits from 1 µs to 60 s, so a p99 is exact to 0.1% whatever the load.
 */
import * as hdr from 'hdr-histogram-js';

export type LatencyHistogram = hdr.Histogram;

export const newLatencyHistogram = (): LatencyHistogram =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

/** Adds a worker's compressed histogram into `into`. */
export function addEncoded(into: LatencyHistogram, encoded: string): void {
  const other = hdr.decodeFromCompressedBase64(encoded);
  into.add(other);
  other.destroy();
}

/** A percentile in ms, NaN when nothing was recorded. */
export function percentileMs(histogram: LatencyHistogram, percentile: number): number {
  return histogram.totalCount === 0
    ? Number.NaN
    : histogram.getValueAtPercentile(percentile) / 1000;
}
