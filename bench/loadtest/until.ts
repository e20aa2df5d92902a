/**
 * The --until limits: "tick_p99>16.7ms,client_fps<55,latency_p99>100ms".
 * Each names a step measurement (UNTIL_METRICS), a direction and a
 * threshold with an optional unit; a step breaks the limit when its
 * measurement crosses it. A measurement with no data (NaN) breaks nothing:
 * a limit is evidence of overload, never of missing numbers.
 */
import { UsageError } from '../cli-options.js';

/** What each step measures, in the unit its limits are written in. */
export const UNTIL_METRICS = {
  tick_p50: { unit: 'ms', help: 'server tick duration, median over the step' },
  tick_p99: { unit: 'ms', help: 'server tick duration, 99th percentile over the step' },
  tick_rate: { unit: 'Hz', help: 'server ticks per second per lobby' },
  connected: { unit: '%', help: 'bots connected at the end of the step, % of those started' },
  client_fps: { unit: 'fps', help: 'frames per second a client receives, mean over clients' },
  client_fps_p5: { unit: 'fps', help: 'frames per second, the 5th percentile over clients' },
  latency_p50: { unit: 'ms', help: 'end-to-end latency (server send to bot decode), median' },
  latency_p99: { unit: 'ms', help: 'end-to-end latency, 99th percentile' },
  skipped: { unit: '/s', help: 'frames the server skipped per client per second' },
  server_cpu: { unit: '%', help: 'server CPU, % of one core (summed over instances)' },
  server_rss: { unit: 'MiB', help: 'server resident memory (summed over instances)' },
  loop_lag_p99: { unit: 'ms', help: "server event loop lag p99 (the worst instance's)" },
  bot_cpu: { unit: '%', help: "the load generator's own CPU, % of one core" },
} as const;

export type UntilMetric = keyof typeof UNTIL_METRICS;
export type StepMeasures = Record<UntilMetric, number>;

export interface UntilCondition {
  metric: UntilMetric;
  op: '>' | '<';
  /** In the metric's unit (UNTIL_METRICS). */
  threshold: number;
  /** As written, for messages and the report. */
  text: string;
}

/** Unit suffixes a limit may carry, as factors to the metric's unit. */
const UNIT_FACTORS: Record<string, Record<string, number>> = {
  ms: { '': 1, ms: 1, s: 1000, us: 0.001 },
  Hz: { '': 1, hz: 1 },
  fps: { '': 1, fps: 1 },
  '/s': { '': 1, '/s': 1 },
  '%': { '': 1, '%': 1 },
  MiB: { '': 1, mib: 1, gib: 1024 },
};

export function parseUntil(raw: string): UntilCondition[] {
  const parts = raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (parts.length === 0) throw new UsageError('--until needs at least one limit');
  return parts.map(parseCondition);
}

function parseCondition(text: string): UntilCondition {
  const match = /^([a-z0-9_]+)\s*([<>])\s*(-?[0-9]*\.?[0-9]+(?:e-?\d+)?)\s*([A-Za-z%/]*)$/.exec(
    text,
  );
  if (!match)
    throw new UsageError(
      `--until: '${text}' is not METRIC>VALUE or METRIC<VALUE (e.g. tick_p99>16.7ms)`,
    );
  const [, name, op, number, unitRaw] = match;
  if (!(name in UNTIL_METRICS))
    throw new UsageError(
      `--until: unknown metric '${name}' (known: ${Object.keys(UNTIL_METRICS).join(', ')})`,
    );
  const metric = name as UntilMetric;
  const unit = UNTIL_METRICS[metric].unit;
  const factor = UNIT_FACTORS[unit][unitRaw.toLowerCase()];
  if (factor === undefined)
    throw new UsageError(`--until: '${text}': ${metric} is in ${unit}, not '${unitRaw}'`);
  const threshold = Number(number) * factor;
  if (!Number.isFinite(threshold) || threshold < 0)
    throw new UsageError(`--until: '${text}': the threshold must be a number >= 0`);
  return { metric, op: op as '>' | '<', threshold, text };
}

/** The limits a step's measurements break (empty: the step held). */
export function brokenLimits(
  conditions: UntilCondition[],
  measures: StepMeasures,
): UntilCondition[] {
  return conditions.filter(({ metric, op, threshold }) => {
    const value = measures[metric];
    if (!Number.isFinite(value)) return false;
    return op === '>' ? value > threshold : value < threshold;
  });
}
