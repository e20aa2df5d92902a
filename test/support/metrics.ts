/**
 * Reading a test server's /metrics: the sum of one metric's samples whose
 * labels include the ones given (0 when there are none).
 */
import { parseSamples, sum } from '../../bench/prometheus-text.js';
import type { TestServer } from './server.js';

export async function metricValue(
  server: TestServer,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`${server.http}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return sum(parseSamples(await res.text()), name, labels);
}
