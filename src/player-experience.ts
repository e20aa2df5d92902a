/**
 * Players' experience per lobby as their own stats reports tell it: the
 * latest accepted report of each session (kept until the session closes,
 * so memory is one entry per session), summarised on request for /status
 * over the reports younger than SWARMHOST_STATS_WINDOW_MS. Nothing is
 * computed per report beyond storing it; a summary costs O(n log n) in the
 * lobby's reporting players (the sort behind the p99s).
 */
import type { StatsReport } from '../protocol/index.js';

interface Latest {
  report: StatsReport;
  /** When it arrived (performance.now()). */
  at: number;
  /** Ticks without a frame per second of game time: tickRate × skipped / (received + skipped). */
  skippedPerSecond: number;
}

/** A lobby's players (or the instance's), from their latest reports in the window. */
export interface PlayersSummary {
  /** Players whose latest report is in the window. */
  reporting: number;
  fpsMean: number | null;
  fpsMin: number | null;
  /** End-to-end latency: mean and p99 over the players that reported it. */
  latencyMeanMs: number | null;
  latencyP99Ms: number | null;
  rttMeanMs: number | null;
  rttP99Ms: number | null;
  decodeMeanMs: number | null;
  /** The interpolation buffer players draw behind (browsers report it): mean and p99. */
  bufferMeanMs: number | null;
  bufferP99Ms: number | null;
  /** Ticks a player got no frame for, per second, mean over players. */
  skippedPerSecond: number | null;
}

export class PlayerExperience {
  #lobbies = new Map<string, Map<object, Latest>>();
  #windowMs: number;
  #now: () => number;

  constructor(windowMs: number, now: () => number = () => performance.now()) {
    this.#windowMs = windowMs;
    this.#now = now;
  }

  /** Keeps `player`'s newest report (replacing the one before); `tickRate` is its lobby's. */
  record(lobbyId: string, player: object, report: StatsReport, tickRate: number): void {
    let players = this.#lobbies.get(lobbyId);
    if (!players) this.#lobbies.set(lobbyId, (players = new Map()));
    // received + skipped are the ticks the window spanned, whatever its length.
    const ticks = report.received + report.skipped;
    const skippedPerSecond = ticks > 0 ? (tickRate * report.skipped) / ticks : 0;
    players.set(player, { report, at: this.#now(), skippedPerSecond });
  }

  /** The session closed: its report no longer counts (and a late one is never recorded). */
  forget(lobbyId: string, player: object): void {
    const players = this.#lobbies.get(lobbyId);
    if (!players?.delete(player)) return;
    if (players.size === 0) this.#lobbies.delete(lobbyId);
  }

  /** One lobby's players. */
  lobby(lobbyId: string): PlayersSummary {
    return this.#summarise(this.#fresh(this.#lobbies.get(lobbyId)?.values() ?? []));
  }

  /** Every player on this instance. */
  all(): PlayersSummary {
    const fresh: Latest[] = [];
    for (const players of this.#lobbies.values()) fresh.push(...this.#fresh(players.values()));
    return this.#summarise(fresh);
  }

  #fresh(entries: Iterable<Latest>): Latest[] {
    const since = this.#now() - this.#windowMs;
    const fresh: Latest[] = [];
    for (const entry of entries) if (entry.at >= since) fresh.push(entry);
    return fresh;
  }

  #summarise(fresh: Latest[]): PlayersSummary {
    const fps = fresh.map((e) => e.report.fps);
    const latency = defined(fresh.map((e) => e.report.latencyMs));
    const rtt = defined(fresh.map((e) => e.report.rttMs));
    const buffer = defined(fresh.map((e) => e.report.bufferMs));
    return {
      reporting: fresh.length,
      fpsMean: mean(fps),
      fpsMin: fps.length === 0 ? null : round(fps.reduce((a, b) => Math.min(a, b))),
      latencyMeanMs: mean(latency),
      latencyP99Ms: p99(latency),
      rttMeanMs: mean(rtt),
      rttP99Ms: p99(rtt),
      decodeMeanMs: mean(fresh.map((e) => e.report.decodeMs)),
      bufferMeanMs: mean(buffer),
      bufferP99Ms: p99(buffer),
      skippedPerSecond: mean(fresh.map((e) => e.skippedPerSecond)),
    };
  }
}

const defined = (values: (number | undefined)[]): number[] =>
  values.filter((v): v is number => v !== undefined);

const round = (value: number): number => Math.round(value * 1000) / 1000;

function mean(values: number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return round(sum / values.length);
}

/** Nearest rank: the smallest value at least 99% of the players are at or below. */
function p99(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.ceil(0.99 * sorted.length) - 1]);
}
