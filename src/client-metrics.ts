/**
 * What players report of their own experience (stats messages), as
 * Prometheus metrics: one histogram observation per accepted report for
 * each measure it carries, the frames it counted, and every report's
 * outcome. No lobby or client label: a client's numbers are one sample
 * among all the instance's players, and the series stay few.
 * Registered on the instance's registry, every series present from start
 * (unlabelled histograms and counters export 0; each result is created at 0).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { StatsReport } from '../protocol/index.js';

/** Every outcome of a stats message (the `result` label). */
export const STATS_RESULTS = [
  'accepted',
  'invalid_message',
  'out_of_range',
  'rate_limited',
  'not_joined',
] as const;
export type StatsResult = (typeof STATS_RESULTS)[number];

export class ClientMetrics {
  readonly fps: Histogram;
  readonly latency: Histogram;
  readonly rtt: Histogram;
  readonly decode: Histogram;
  readonly interpBuffer: Histogram;
  readonly framesReceived: Counter;
  readonly framesSkipped: Counter;
  readonly reports: Counter<'result'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.fps = new Histogram({
      name: 'swarmhost_client_fps',
      help: 'Frames per second players decoded (bots) or drew (browsers) over one report window, one observation per stats report.',
      // Fine around 60 Hz, where p50 and p5 live when all is well.
      buckets: [1, 5, 10, 15, 20, 25, 30, 40, 45, 50, 55, 58, 59.5, 61, 75, 90, 120, 144, 240],
      registers,
    });
    this.latency = new Histogram({
      name: 'swarmhost_client_latency_seconds',
      help: 'Mean end-to-end frame latency players reported for one window (server send to decode, or to draw), seconds.',
      buckets: [
        0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.033, 0.05, 0.075, 0.1, 0.15,
        0.25, 0.5, 1,
      ],
      registers,
    });
    this.rtt = new Histogram({
      name: 'swarmhost_client_rtt_seconds',
      help: "Players' latest ping round trip at each stats report, seconds.",
      buckets: [
        0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1,
        2.5,
      ],
      registers,
    });
    this.decode = new Histogram({
      name: 'swarmhost_client_decode_seconds',
      help: 'Mean time players took to decode one frame over a report window, seconds.',
      buckets: [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.0167, 0.033, 0.1, 0.5,
      ],
      registers,
    });
    this.interpBuffer = new Histogram({
      name: 'swarmhost_client_interp_buffer_seconds',
      help: 'How far the state browsers drew lagged the newest frame they held (interpolation buffer), at each stats report, seconds.',
      buckets: [0.005, 0.01, 0.0167, 0.025, 0.033, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1],
      registers,
    });
    this.framesReceived = new Counter({
      name: 'swarmhost_client_frames_received_total',
      help: 'Frames players reported receiving (sum of accepted stats reports).',
      registers,
    });
    this.framesSkipped = new Counter({
      name: 'swarmhost_client_frames_skipped_total',
      help: 'Ticks players reported no frame for: gaps in the ticks they received, including those thinned by the send rate (sum of accepted stats reports).',
      registers,
    });
    this.reports = new Counter({
      name: 'swarmhost_client_stats_reports_total',
      help: 'Stats reports by result: accepted, invalid_message, out_of_range, rate_limited (over SWARMHOST_STATS_RATE_PER_SEC), not_joined (before the welcome).',
      labelNames: ['result'] as const,
      registers,
    });
    for (const result of STATS_RESULTS) this.reports.inc({ result }, 0);
  }

  /** One accepted report: each measure it carries, once. */
  observe(report: StatsReport): void {
    this.fps.observe(report.fps);
    this.decode.observe(report.decodeMs / 1000);
    if (report.latencyMs !== undefined) this.latency.observe(report.latencyMs / 1000);
    if (report.rttMs !== undefined) this.rtt.observe(report.rttMs / 1000);
    if (report.bufferMs !== undefined) this.interpBuffer.observe(report.bufferMs / 1000);
    this.framesReceived.inc(report.received);
    this.framesSkipped.inc(report.skipped);
    this.reports.inc({ result: 'accepted' });
  }
}
