/**
 * Claiming a lobby for this instance (fleet mode): the join-side half of a
 * hand-over. Take the lease if it is free; else ask its holder to hand the
 * lobby over and poll the lease every CLAIM_POLL_MS (the holder's answer
 * wakes the claim sooner; a damped "refused" says when to ask again) until
 * it is ours or SWARMHOST_HANDOVER_WAIT_MS has passed. Once ours, start the
 * lobby here from its checkpoint (its tick skipped ahead after a crash, see
 * `lapsed`), from its seed if it has none, or from its seed when the
 * checkpoint is unusable (logged, counted). One claim per lobby at a time:
 * joins that arrive meanwhile share it.
 */
import { CloseCode, LOBBY_MOVING_REASON } from '../../protocol/index.js';
import type { LobbyCheckpoint } from '../../lobbies/index.js';
import type { Config } from '../config.js';
import type { CreateOptions, JoinResult, LobbyDirectory } from '../lobby-directory.js';
import type { Logger } from '../logger.js';
import { decodeCheckpoint } from './checkpoint-codec.js';
import type { FleetDirectory } from './fleet-directory.js';
import type { FleetMetrics, HandoverReason, ResumeSource } from './fleet-metrics.js';
import type { HandoverChannel, HandoverMessage } from './handover-channel.js';
import type { Lease, LobbyLeases, StoredCheckpoint } from './lobby-leases.js';
import type { OwnedLobbies } from './owned-lobbies.js';
import type { RedisConnection } from './redis-connection.js';

/** A waiting join polls the lease this often (a hint from the owner wakes it sooner). */
const CLAIM_POLL_MS = 50;
/** A waiting join asks the owner again this often: a pub/sub message may be lost. */
const CLAIM_ASK_AGAIN_MS = 500;

export type Refusal = Extract<JoinResult, { ok: false }>;
export type Claim = { ok: true } | { ok: false; refusal: Refusal };

export interface ClaimDeps {
  config: Config;
  directory: LobbyDirectory;
  metrics: FleetMetrics;
  log: Logger;
  redis: RedisConnection;
  leases: LobbyLeases;
  channel: HandoverChannel;
  owned: OwnedLobbies;
  fleetDirectory: FleetDirectory;
  /** True while this instance is leaving (readiness off, or draining): it takes no lobby then. */
  leaving: () => boolean;
}

export class LobbyClaims {
  #config: Config;
  #directory: LobbyDirectory;
  #metrics: FleetMetrics;
  #log: Logger;
  #redis: RedisConnection;
  #leases: LobbyLeases;
  #channel: HandoverChannel;
  #owned: OwnedLobbies;
  #fleetDirectory: FleetDirectory;
  #leaving: () => boolean;
  #claims = new Map<string, Promise<Claim>>();
  /** Claims waiting on a lobby, woken by its holder's answers. */
  #waiters = new Map<string, Set<(message: HandoverMessage) => void>>();

  constructor(deps: ClaimDeps) {
    this.#config = deps.config;
    this.#directory = deps.directory;
    this.#metrics = deps.metrics;
    this.#log = deps.log;
    this.#redis = deps.redis;
    this.#leases = deps.leases;
    this.#channel = deps.channel;
    this.#owned = deps.owned;
    this.#fleetDirectory = deps.fleetDirectory;
    this.#leaving = deps.leaving;
  }

  /** A holder's answer (released, refused) for a lobby some claim may be waiting on. */
  hear(message: HandoverMessage): void {
    for (const waiter of this.#waiters.get(message.lobby) ?? []) waiter(message);
  }

  /** Claims lobby `id` for this instance; joins that arrive during a claim share it. */
  claim(id: string, options: CreateOptions): Promise<Claim> {
    let claim = this.#claims.get(id);
    if (!claim) {
      claim = this.#claimNow(id, options).finally(() => this.#claims.delete(id));
      this.#claims.set(id, claim);
    }
    return claim;
  }

  async #claimNow(id: string, options: CreateOptions): Promise<Claim> {
    // Leaving (readiness is off, or the drain has begun): taking a lobby now
    // would only mean handing it on again in a moment.
    if (this.#leaving())
      return refuse('draining', CloseCode.draining, 'server is draining: reconnect');
    if (!this.#redis.ready) return unavailable();
    const started = performance.now();
    const deadline = started + this.#config.handoverWaitMs;
    let askedAt = Number.NEGATIVE_INFINITY;
    let askAfter = 0;
    let waited = false;
    /** The fence of the holder we found, if any: a checkpoint older than it predates that owner. */
    let heldFence: number | undefined;
    for (;;) {
      let result: Awaited<ReturnType<LobbyLeases['acquire']>>;
      try {
        result = await this.#leases.acquire(id);
      } catch {
        return unavailable();
      }
      if (result.acquired) {
        if (waited) this.#metrics.handoverWait.observe((performance.now() - started) / 1000);
        return this.#resume(result.lease, options, heldFence);
      }
      waited = true;
      heldFence = result.fence;
      const now = performance.now();
      if (now >= deadline)
        return {
          ok: false,
          refusal: moving(`${LOBBY_MOVING_REASON}: its owner has not handed it over yet, retry`),
        };
      if (now >= askAfter && now - askedAt >= CLAIM_ASK_AGAIN_MS) {
        askedAt = now;
        void this.#channel
          .send(result.holder, { t: 'handOver', lobby: id, from: this.#leases.holder })
          .catch(() => {});
      }
      const answer = await this.#nextMessage(id, Math.min(CLAIM_POLL_MS, deadline - now));
      if (answer?.t === 'refused') {
        // Damped: ask again when the owner will agree, if that is within our wait.
        askAfter = performance.now() + answer.retryAfterMs;
        askedAt = Number.NEGATIVE_INFINITY;
      }
    }
  }

  /** We hold the lease: start the lobby here from its checkpoint, or its seed if it has none. */
  async #resume(lease: Lease, options: CreateOptions, heldFence?: number): Promise<Claim> {
    const id = lease.id;
    let stored: Awaited<ReturnType<LobbyLeases['readCheckpoint']>>;
    try {
      stored = await this.#leases.readCheckpoint(id);
    } catch {
      await this.#leases.release(lease).catch(() => {});
      return unavailable();
    }
    // An owner that died wrote its lobby's tick to the fleet directory every
    // lease round: its players' ticks must not go back, whatever we start from.
    const seen = await this.#fleetDirectory.lastSeen(id).catch(() => undefined);
    const seenTick = seen ? ticksSince(seen.tick, seen.at, this.#config.tickRate) : 0;
    let resume: LobbyCheckpoint | undefined;
    let from: ResumeSource = 'seed';
    if (stored) {
      const decoded = decodeCheckpoint(
        stored.data,
        id,
        this.#config.maxParticles,
        this.#config.worldSize,
      );
      if (decoded.ok) {
        resume = {
          ...decoded.checkpoint,
          tick: Math.max(
            seenTick,
            lapsed(stored, heldFence)
              ? ticksSince(decoded.checkpoint.tick, stored.at, this.#config.tickRate)
              : decoded.checkpoint.tick,
          ),
        };
        from = 'checkpoint';
      } else {
        from = 'unusable_checkpoint';
        this.#log.error(
          { lobby: id, reason: decoded.reason },
          'checkpoint unusable: starting the lobby from its seed',
        );
      }
    }
    const created = this.#directory.create({ ...options, resume, startTick: seenTick });
    if (!created.ok) {
      await this.#leases.release(lease).catch(() => {});
      const full = created.reason === 'instance_full';
      return refuse(
        full ? 'instance_full' : 'too_many_lobbies',
        CloseCode.tooManyLobbies,
        created.message,
      );
    }
    const reason: HandoverReason | undefined =
      resume && stored
        ? lapsed(stored, heldFence)
          ? 'lease_lapsed'
          : (stored.reason as HandoverReason)
        : undefined;
    this.#owned.add(lease, reason !== undefined, resume?.tick ?? 0);
    this.#metrics.resumes.inc({ from });
    if (reason) this.#metrics.handovers.inc({ direction: 'in', reason });
    this.#log.info(
      { lobby: id, from, reason, tick: resume?.tick, fence: lease.fence },
      'lobby taken',
    );
    return { ok: true };
  }

  /** Waits for the owner's next message about `id`, or `ms`. */
  #nextMessage(id: string, ms: number): Promise<HandoverMessage | undefined> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(id);
      if (!waiters) this.#waiters.set(id, (waiters = new Set()));
      const waiter = (message: HandoverMessage | undefined) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        if (waiters.size === 0) this.#waiters.delete(id);
        resolve(message);
      };
      const timer = setTimeout(() => waiter(undefined), Math.max(0, ms));
      waiters.add(waiter);
    });
  }
}

/**
 * Whether the lobby comes to us because its owner's lease lapsed (it died,
 * or stalled), not because it was handed over: its checkpoint is a
 * periodic one, or older than the owner we found holding it (that owner
 * took it over and died before storing one of its own). Then the state is
 * older than the last frames players saw, and the resumed tick skips ahead
 * by the time since it was written, so ticks never go back for anyone (the
 * world itself resumes exactly as checkpointed; a tick is a label for
 * frames, its steps are the world's own). A hand-over's checkpoint is the
 * last state its owner had (it froze first): its tick continues as is.
 */
function lapsed(stored: StoredCheckpoint, heldFence: number | undefined): boolean {
  return stored.reason === 'periodic' || (heldFence !== undefined && stored.fence < heldFence);
}

/** `tick` written at `at` (ms since the epoch), plus every tick that could have run since. */
function ticksSince(tick: number, at: number, tickRate: number): number {
  return tick + Math.ceil((Math.max(0, Date.now() - at) / 1000) * tickRate);
}

function refuse(reason: Refusal['reason'], closeCode: number, message: string): Claim {
  return { ok: false, refusal: { ok: false, reason, closeCode, message } };
}

export function moving(message: string): Refusal {
  return { ok: false, reason: 'lobby_moving', closeCode: CloseCode.tryAgainLater, message };
}

function unavailable(): Claim {
  return refuse(
    'fleet_unavailable',
    CloseCode.tryAgainLater,
    'the fleet directory (Redis) is unreachable: try again',
  );
}
