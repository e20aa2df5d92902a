/**
 * Fleet mode (SWARMHOST_REDIS_URL): this process's part in a fleet that
 * runs each lobby on exactly one instance and moves it, with its state,
 * wherever the load balancer sends its players.
 *
 * Placement follows the load balancer. A join for a lobby that runs here
 * and is ours joins at once; any other claims the lobby (lobby-claims.ts:
 * take the lease, or ask its owner and wait, then resume it here). A join
 * that cannot be placed gets 1013 with a reason a client retries soon on.
 *
 * It owns the lease round (renew every third of SWARMHOST_LEASE_MS and
 * refresh the fleet directory), the checkpoint round, answering other
 * instances' hand-over requests (damped), and the fleet's half of a drain.
 * It also answers the fleet-wide API (create, delete, list). What an owner
 * does per lobby is in owned-lobbies.ts; the Redis side in lobby-leases.ts,
 * fleet-directory.ts and handover-channel.ts.
 */
import { randomBytes } from 'node:crypto';
import { LOBBY_MOVING_REASON, type LobbyStatus } from '../../protocol/index.js';
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
import { FleetDirectory, type FleetInstance, type FleetLobby } from './fleet-directory.js';
import { HandoverChannel, type HandoverMessage } from './handover-channel.js';
import { LobbyLeases } from './lobby-leases.js';
import { LobbyClaims, moving } from './lobby-claims.js';
import { OwnedLobbies } from './owned-lobbies.js';
import { RedisConnection } from './redis-connection.js';

/** A new lobby's first checkpoint is stored within about this long of its first tick. */
const FIRST_CHECKPOINT_MS = 1000;
/** How long start-up waits for Redis before serving anyway (joins needing it are refused meanwhile). */
const CONNECT_WAIT_MS = 5000;

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
  #claims: LobbyClaims;
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
    this.#claims = new LobbyClaims({
      config,
      directory,
      metrics: metrics.fleet,
      log: this.#log,
      redis: this.#redis,
      leases: this.#leases,
      channel: this.#channel,
      owned: this.#owned,
      fleetDirectory: this.#fleetDirectory,
      leaving: () => this.#draining || !this.#isReady(),
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
    // Rounds at least every FIRST_CHECKPOINT_MS, so a new lobby's first
    // checkpoint comes soon; each lobby is then written once per interval.
    const interval = this.#config.checkpointIntervalMs;
    every(Math.min(interval, FIRST_CHECKPOINT_MS), () => this.#owned.checkpointAll(interval));
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
    const claim = await this.#claims.claim(id, { id, byJoin: true });
    if (!claim.ok) return claim.refusal;
    return this.#directory.join(id, session);
  }

  #onMessage(message: HandoverMessage): void {
    if (message.t === 'handOver') {
      void this.#onHandOverRequest(message.lobby, message.from).catch((error) =>
        this.#log.warn({ lobby: message.lobby, err: error }, 'hand-over failed'),
      );
      return;
    }
    this.#claims.hear(message);
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

  /** Lobby `id` on whichever instance runs it (undefined if none, or Redis cannot be read). */
  async find(id: string): Promise<FleetLobby | undefined> {
    return this.#fleetDirectory.lobby(id).catch(() => undefined);
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

function exists(id: string, why: string): CreateResult {
  return { ok: false, reason: 'exists', message: `lobby '${id}' exists: ${why}` };
}

/** "<instanceId>/<boot id>" → instanceId. */
function instanceOf(holder: string): string {
  return holder.slice(0, holder.lastIndexOf('/'));
}
