/**
 * One session's stats reports (`{t:'stats'}`): the answer to each, its own
 * rate limit (SWARMHOST_STATS_RATE_PER_SEC, burst SWARMHOST_STATS_BURST,
 * after the session's message rate limit), and where an accepted one goes:
 * the client metrics and the lobby's player experience. Every stats
 * message is counted once in `swarmhost_client_stats_reports_total` by
 * result (not in `swarmhost_inputs_total`). A refused report gets an error
 * reply and the connection stays; only a stats message before the hello
 * closes it (4006), as any other would.
 */
import { type ClientMessage, ErrorCode, type ErrorCodeValue } from '../protocol/index.js';
import type { StatsResult } from './client-metrics.js';
import type { Config } from './config.js';
import type { Metrics } from './metrics.js';
import type { PlayerExperience } from './player-experience.js';
import { RateLimiter } from './rate-limiter.js';

type StatsMessage = Extract<ClientMessage, { t: 'stats' }>;

/** Where the session is, as far as a stats report cares. */
export type StatsStage = 'before_hello' | 'placing' | 'joined';

/** What the session does with a stats message: nothing, an error reply, or close 4006. */
export type StatsAnswer = undefined | 'expected_hello' | { code: ErrorCodeValue; message: string };

/** parseClientMessage's answer, as the session has it. */
type Parsed =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCodeValue; reason: string };

export interface StatsIntakeContext {
  config: Config;
  metrics: Metrics;
  players: PlayerExperience;
}

export class StatsIntake {
  #ctx: StatsIntakeContext;
  #lobbyId: string;
  #player: object;
  #limiter: RateLimiter;
  #closed = false;

  /** `player` is the session: the key of its report in the lobby's player experience. */
  constructor(ctx: StatsIntakeContext, lobbyId: string, player: object) {
    this.#ctx = ctx;
    this.#lobbyId = lobbyId;
    this.#player = player;
    this.#limiter = new RateLimiter(ctx.config.statsRatePerSec, ctx.config.statsBurst);
  }

  /** Whether a decoded message is a stats message (valid or not): its outcome is ours to count. */
  static owns(value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { t?: unknown }).t === 'stats';
  }

  /** Answers one stats message; `tickRate` is the joined lobby's. */
  take(parsed: Parsed, stage: StatsStage, tickRate: number): StatsAnswer {
    if (this.#closed) return undefined;
    if (stage === 'before_hello') {
      this.#count('not_joined');
      return 'expected_hello';
    }
    if (!parsed.ok) {
      this.#count(parsed.code === ErrorCode.outOfRange ? 'out_of_range' : 'invalid_message');
      return { code: parsed.code, message: parsed.reason };
    }
    const { t: _, ...report } = parsed.message as StatsMessage;
    if (stage === 'placing') {
      this.#count('not_joined');
      return { code: ErrorCode.notJoined, message: 'not joined yet: wait for the welcome' };
    }
    if (!this.#limiter.tryTake()) {
      this.#count('rate_limited');
      const { statsRatePerSec } = this.#ctx.config;
      return {
        code: ErrorCode.rateLimited,
        message: `too many stats reports (over ${statsRatePerSec}/s): this one was dropped`,
      };
    }
    this.#ctx.players.record(this.#lobbyId, this.#player, report, tickRate);
    this.#ctx.metrics.client.observe(report);
    return undefined;
  }

  /** The session closed: its report leaves the lobby's summary, and nothing more is taken. */
  close(): void {
    this.#closed = true;
    this.#ctx.players.forget(this.#lobbyId, this.#player);
  }

  #count(result: StatsResult): void {
    this.#ctx.metrics.client.reports.inc({ result });
  }
}
