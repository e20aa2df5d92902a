/**
 * The quantile estimate Prometheus's histogram_quantile makes, for one
 * histogram: used by /status (tick p99 over a window) and by the benchmarks
 * (from scraped /metrics), so both read the same numbers a dashboard shows.
 */

/**
 * Prometheus's histogram_quantile for one histogram: linear interpolation
 * inside the bucket holding the rank; a rank in the +Inf bucket answers the
 * highest finite bound. `counts` are cumulative, in `bounds` order.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  counts: readonly number[],
): number | undefined {
  const total = counts[counts.length - 1];
  if (!total || total <= 0) return undefined;
  const rank = q * total;
  let i = 0;
  while (i < counts.length - 1 && counts[i] < rank) i++;
  if (bounds[i] === Number.POSITIVE_INFINITY) return bounds[bounds.length - 2];
  const start = i === 0 ? 0 : bounds[i - 1];
  const below = i === 0 ? 0 : counts[i - 1];
  const inBucket = counts[i] - below;
  if (inBucket <= 0) return bounds[i];
  return start + (bounds[i] - start) * ((rank - below) / inBucket);
}
