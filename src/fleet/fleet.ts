/**
 * Fleet mode (SWARMHOST_REDIS_URL): this process's part in a fleet that
 * runs each lobby on exactly one instance and moves it, with its state,
 * wherever the load balancer sends its players.
 *
 * Placement follows the load balancer. A join for a lobby that does not run
 * here claims it: take the lease if it is free (resuming the lobby from its
 * checkpoint, or from its seed if it has none), else ask the owner to hand
 * it over and wait, at most SWARMHOST_HANDOVER_WAIT_MS, for the lease to
 * come free (the owner released it, or a dead owner's lease lapsed). Joins
 * of one lobby that arrive meanwhile share the one claim. A join that
 * cannot be placed gets 1013 with a reason a client retries soon on.
 *
 * It owns the lease round (renew every third of SWARMHOST_LEASE_MS and
 * refresh the fleet directory), the checkpoint round, answering other
 * instances' hand-over requests (damped), and the fleet's half of a drain.
 * What an owner does per lobby is in owned-lobbies.ts; the Redis side in
 * lobby-leases.ts, fleet-directory.ts and handover-channel.ts.
 */
import { randomBytes } from 'node:crypto';
import { CloseCode, LOBBY_MOVING_REASON, type LobbyStatus } from '../../protocol/index.js';
import type { LobbyCheckpoint } from '../../lobbies/index.js';
import type { ClientSession } from '../client-session.js';
import type { Config } from '../config.js';
import type {
  CreateOptions,
  CreateResult,
  JoinResult,
  LobbyDirectory,
} from '../lobby-directory.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { decodeCheckpoint } from './checkpoint-codec.js';
import { FleetDirectory, type FleetInstance, type FleetLobby } from './fleet-directory.js';
import type { HandoverReason, ResumeSource } from './fleet-metrics.js';
import { HandoverChannel, type HandoverMessage } from './handover-channel.js';
import { type Lease, LobbyLeases, type StoredCheckpoint } from './lobby-leases.js';
import { OwnedLobbies } from './owned-lobbies.js';
import { RedisConnection } from './redis-connection.js';

/** A waiting join polls the lease this often (a hint from the owner wakes it sooner). */
const CLAIM_POLL_MS = 50;
/** A waiting join asks the owner again this often: a pub/sub message may be lost. */
const CLAIM_ASK_AGAIN_MS = 500;
/** How long start-up waits for Redis before serving anyway (joins needing it are refused meanwhile). */
const CONNECT_WAIT_MS = 5000;

type Refusal = Extract<JoinResult, { ok: false }>;
type Claim = { ok: true } | { ok: false; refusal: Refusal };

export interface FleetListing {
  instances: FleetInstance[];
  lobbies: FleetLobby[];
}

export class Fleet {
  /** This process in the fleet: "<instanceId>/<boot id>". */
  readonly holder: string;
  #config: Config;
  #directory: LobbyDirectory;
  #metrics: Metrics;
  #log: Logger;
  #redis: RedisConnection;
  #leases: LobbyLeases;
  #owned: OwnedLobbies;
  #channel: HandoverChannel;
  #fleetDirectory: FleetDirectory;
  #claims = new Map<string, Promise<Claim>>();
  /** Joins waiting on a lobby, woken by the owner's answers. */
  #waiters = new Map<string, Set<(message: HandoverMessage) => void>>();
  #timers: NodeJS.Timeout[] = [];
  #startedAt = Date.now();
  #draining = false;
  #isReady: () => boolean;

  constructor(
    config: Config,
    directory: LobbyDirectory,
    metrics: Metrics,
    log: Logger,
    isReady: () => boolean,
  ) {
    this.#config = config;
    this.#directory = directory;
    this.#metrics = metrics;
    this.#log = log.child({ component: 'fleet' });
    this.#isReady = isReady;
    this.holder = `${config.instanceId}/${randomBytes(4).toString('hex')}`;
    this.#redis = new RedisConnection(config, metrics.fleet, this.#log);
    this.#leases = new LobbyLeases(this.#redis, {
      prefix: config.redisPrefix,
      holder: this.holder,
      leaseMs: config.leaseMs,
      checkpointTtlMs: config.checkpointTtlMs,
    });
    this.#owned = new OwnedLobbies(this.#leases, directory, metrics.fleet, this.#log);
    this.#channel = new HandoverChannel(this.#redis, config.redisPrefix);
    // An instance that stopped refreshing for two leases is gone.
    this.#fleetDirectory = new FleetDirectory(this.#redis, {
      prefix: config.redisPrefix,
      staleMs: 2 * config.leaseMs,
    });
    directory.onLobbyEnded((id, phase) => {
      // Handed over (moved, drained): the lease went with the hand-over.
      if (phase === 'moved' || phase === 'drained') return;
      void this.#owned.ended(id);
    });
  }

  get redisReady(): boolean {
    return this.#redis.ready;
  }

  get ownedCount(): number {
    return this.#owned.size;
  }

  async start(): Promise<void> {
    await this.#redis.connect(CONNECT_WAIT_MS);
    // Subscribing waits for the connection; it must not hold start-up.
    void this.#channel
      .listen(this.holder, (message) => this.#onMessage(message))
      .catch((error) => this.#log.error({ err: error }, 'hand-over channel: subscribe failed'));
    const every = (ms: number, round: () => Promise<void>) => {
      let running = false;
      const timer = setInterval(() => {
        // A slow Redis must not stack rounds on top of each other.
        if (running) return;
        running = true;
        round()
          .catch((error) => this.#log.debug({ err: error }, 'fleet round failed'))
          .finally(() => {
            running = false;
          });
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(Math.floor(this.#config.leaseMs / 3), () => this.#leaseRound());
    every(this.#config.checkpointIntervalMs, () => this.#owned.checkpointAll());
    void this.#leaseRound().catch(() => {});
  }

  /** Renews every lease and refreshes this instance's entries in the fleet directory. */
  async #leaseRound(): Promise<void> {
    await this.#owned.renewAll();
    const lobbies: FleetLobby[] = [];
    let clients = 0;
    const now = Date.now();
    for (const id of this.#owned.ids()) {
      const lobby = this.#directory.get(id);
      if (!lobby) continue;
      const status = lobby.handle.currentStatus();
      clients += status.clients;
      lobbies.push({ ...status, owner: this.#config.instanceId, at: now });
    }
    await this.#fleetDirectory.publish(
      {
        instance: this.#config.instanceId,
        holder: this.holder,
        startedAt: this.#startedAt,
        at: now,
        ready: this.#isReady(),
        lobbies: lobbies.length,
        clients,
      },
      lobbies,
    );
  }

  /** Joins a lobby: at once if it runs here and is ours, else after claiming it. */
  join(id: string, session: ClientSession): JoinResult | Promise<JoinResult> {
    const local = this.#directory.get(id);
    if (local) {
      const own = this.#owned.get(id);
      if (own && !own.handingOver) return this.#directory.join(id, session);
      // Frozen for a hand-over, or closing as a conflict: it will run elsewhere in a moment.
      return moving(`${LOBBY_MOVING_REASON}: retry in a moment`);
    }
    return this.#joinElsewhere(id, session);
  }

  async #joinElsewhere(id: string, session: ClientSession): Promise<JoinResult> {
    const claim = await this.#claimOnce(id, { id, byJoin: true });
    if (!claim.ok) return claim.refusal;
    return this.#directory.join(id, session);
  }

  /** One claim per lobby at a time: joins that arrive during it share it. */
  #claimOnce(id: string, options: CreateOptions): Promise<Claim> {
    let claim = this.#claims.get(id);
    if (!claim) {
      claim = this.#claim(id, options).finally(() => this.#claims.delete(id));
      this.#claims.set(id, claim);
    }
    return claim;
  }

  async #claim(id: string, options: CreateOptions): Promise<Claim> {
    // Leaving (readiness is off, or the drain has begun): taking a lobby now
    // would only mean handing it on again in a moment.
    if (this.#draining || !this.#isReady())
      return refuse('draining', CloseCode.draining, 'server is draining: reconnect');
    if (!this.#redis.ready) return unavailable();
    const started = performance.now();
    const deadline = started + this.#config.handoverWaitMs;
    let askedAt = Number.NEGATIVE_INFINITY;
    let askAfter = 0;
    let waited = false;
    for (;;) {
      let result: Awaited<ReturnType<LobbyLeases['acquire']>>;
      try {
        result = await this.#leases.acquire(id);
      } catch {
        return unavailable();
      }
      if (result.acquired) {
        if (waited) this.#metrics.fleet.handoverWait.observe((performance.now() - started) / 1000);
        return this.#resume(result.lease, options);
      }
      waited = true;
      const now = performance.now();
      if (now >= deadline)
        return {
          ok: false,
          refusal: moving(`${LOBBY_MOVING_REASON}: its owner has not handed it over yet, retry`),
        };
      if (now >= askAfter && now - askedAt >= CLAIM_ASK_AGAIN_MS) {
        askedAt = now;
        void this.#channel
          .send(result.holder, { t: 'handOver', lobby: id, from: this.holder })
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
  async #resume(lease: Lease, options: CreateOptions): Promise<Claim> {
    const id = lease.id;
    let stored: Awaited<ReturnType<LobbyLeases['readCheckpoint']>>;
    try {
      stored = await this.#leases.readCheckpoint(id);
    } catch {
      await this.#leases.release(lease).catch(() => {});
      return unavailable();
    }
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
          tick: resumeTick(decoded.checkpoint.tick, stored, this.#config.tickRate),
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
    const created = this.#directory.create({ ...options, resume });
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
        ? stored.reason === 'drain' || stored.reason === 'join_elsewhere'
          ? stored.reason
          : 'lease_lapsed'
        : undefined;
    this.#owned.add(lease, reason !== undefined, resume?.tick ?? 0);
    this.#metrics.fleet.resumes.inc({ from });
    if (reason) this.#metrics.fleet.handovers.inc({ direction: 'in', reason });
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

  #onMessage(message: HandoverMessage): void {
    if (message.t === 'handOver') {
      void this.#onHandOverRequest(message.lobby, message.from).catch((error) =>
        this.#log.warn({ lobby: message.lobby, err: error }, 'hand-over failed'),
      );
      return;
    }
    for (const waiter of this.#waiters.get(message.lobby) ?? []) waiter(message);
  }

  /** Another instance got a join for a lobby of ours: hand it over, unless it came here just now. */
  async #onHandOverRequest(id: string, from: string): Promise<void> {
    const own = this.#owned.get(id);
    // Not ours (any more), already going, or leaving with the drain anyway.
    if (!own || own.handingOver || this.#draining) return;
    const heldMs = performance.now() - own.handedInAt;
    const damping = this.#config.handoverDampingMs;
    if (heldMs < damping) {
      await this.#channel.send(from, {
        t: 'refused',
        lobby: id,
        retryAfterMs: Math.ceil(damping - heldMs),
        reason: 'damped: it moved here moments ago',
      });
      return;
    }
    const outcome = await this.#owned.handOut(id, 'join_elsewhere');
    if (outcome !== 'released') return;
    await this.#channel.send(from, { t: 'released', lobby: id }).catch(() => {});
    this.#directory.get(id)?.handle.finishHandOver('moved');
  }

  /**
   * Creates a lobby by API (PUT/POST /lobbies) where it must not already
   * exist anywhere in the fleet: not running elsewhere, and no checkpoint.
   */
  async create(options: CreateOptions): Promise<CreateResult> {
    const id = options.id;
    if (this.#directory.get(id)) return exists(id, 'it runs here');
    if (!this.#redis.ready)
      return {
        ok: false,
        reason: 'fleet_unavailable',
        message: 'the fleet directory (Redis) is unreachable: try again',
      };
    let result: Awaited<ReturnType<LobbyLeases['acquire']>>;
    let stored: Awaited<ReturnType<LobbyLeases['readCheckpoint']>>;
    try {
      result = await this.#leases.acquire(id);
      if (!result.acquired) return exists(id, `instance ${instanceOf(result.holder)} runs it`);
      stored = await this.#leases.readCheckpoint(id);
    } catch {
      return {
        ok: false,
        reason: 'fleet_unavailable',
        message: 'the fleet directory (Redis) failed: try again',
      };
    }
    const lease = result.lease;
    if (stored) {
      await this.#leases.release(lease).catch(() => {});
      return exists(
        id,
        'it has a checkpoint: it resumes on its next join (DELETE it first to start afresh)',
      );
    }
    const created = this.#directory.create(options);
    if (!created.ok) {
      await this.#leases.release(lease).catch(() => {});
      return created;
    }
    this.#owned.add(lease, false, 0);
    this.#metrics.fleet.resumes.inc({ from: 'seed' });
    return created;
  }

  /**
   * Deletes a lobby anywhere in the fleet (DELETE /lobbies/:id): one that
   * runs here closes; a dormant one (a checkpoint, no owner) is forgotten.
   */
  async remove(
    id: string,
  ): Promise<'closing' | 'deleted' | 'not_found' | { owner: string } | 'unavailable'> {
    if (this.#directory.close(id, 'closed by API')) return 'closing';
    try {
      const result = await this.#leases.acquire(id);
      if (!result.acquired) return { owner: instanceOf(result.holder) };
      const stored = await this.#leases.readCheckpoint(id);
      await this.#leases.forget(result.lease);
      return stored ? 'deleted' : 'not_found';
    } catch {
      return 'unavailable';
    }
  }

  /** Every instance's lobbies, from the fleet directory (this instance's own if Redis is unreachable). */
  async list(): Promise<FleetListing & { complete: boolean }> {
    try {
      return { ...(await this.#fleetDirectory.list()), complete: true };
    } catch {
      const now = Date.now();
      const lobbies = this.#directory
        .list()
        .map((status: LobbyStatus) => ({ ...status, owner: this.#config.instanceId, at: now }));
      return { instances: [], lobbies, complete: false };
    }
  }

  /**
   * The fleet's half of a drain: every lobby is frozen, checkpointed into
   * Redis and released, in parallel; then all are closed with 4005 at once
   * (after every checkpoint is stored, so reconnecting players find it).
   * Lobbies that could not be handed over are drained the old way.
   */
  async drain(): Promise<void> {
    this.#draining = true;
    const ids = this.#owned.ids();
    const outcomes = await Promise.all(ids.map((id) => this.#owned.handOut(id, 'drain')));
    ids.forEach((id, i) => {
      const handle = this.#directory.get(id)?.handle;
      if (!handle) return;
      if (outcomes[i] === 'released' || outcomes[i] === 'frozen') handle.finishHandOver('drained');
    });
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
    await this.#fleetDirectory.withdraw(this.holder).catch(() => {});
    await this.#redis.close();
  }
}

/**
 * The tick a resumed lobby continues from. A hand-over's checkpoint is the
 * last state its owner had (it froze first): continue right after it. A
 * periodic one may be older than the last frame players saw from an owner
 * that died: skip ahead by the time since it was written, so ticks never
 * go back for anyone (the world itself resumes exactly as checkpointed; a
 * tick is a label for frames, its steps are the world's own).
 */
function resumeTick(tick: number, stored: StoredCheckpoint, tickRate: number): number {
  if (stored.reason !== 'periodic') return tick;
  const elapsedMs = Math.max(0, Date.now() - stored.at);
  return tick + Math.ceil((elapsedMs / 1000) * tickRate);
}

function refuse(reason: Refusal['reason'], closeCode: number, message: string): Claim {
  return { ok: false, refusal: { ok: false, reason, closeCode, message } };
}

function moving(message: string): Refusal {
  return { ok: false, reason: 'lobby_moving', closeCode: CloseCode.tryAgainLater, message };
}

function unavailable(): Claim {
  return refuse(
    'fleet_unavailable',
    CloseCode.tryAgainLater,
    'the fleet directory (Redis) is unreachable: try again',
  );
}

function exists(id: string, why: string): CreateResult {
  return { ok: false, reason: 'exists', message: `lobby '${id}' exists: ${why}` };
}

/** "<instanceId>/<boot id>" → instanceId. */
function instanceOf(holder: string): string {
  return holder.slice(0, holder.lastIndexOf('/'));
}
