/**
 * The fleet-wide view of instances and lobbies, kept in two Redis hashes
 * that every instance refreshes each lease round: `<p>:instances` (one entry
 * per process) and `<p>:lobbies` (one per owned lobby, with its owner).
 * Releasing a lobby removes its entry in the same script as its lease
 * (lobby-leases.ts). Entries of an instance that died stop being refreshed
 * and are left out of every listing once older than `staleMs`, then swept.
 * It is a view for people (GET /lobbies, the landing page, /status), never
 * the authority on ownership: the leases are.
 */
import type { LobbyPhase } from '../../protocol/index.js';
import type { RedisConnection } from './redis-connection.js';

export interface FleetLobby {
  id: string;
  /** The owner's instance id. */
  owner: string;
  phase: LobbyPhase;
  clients: number;
  particles: number;
  maxParticles: number;
  tick: number;
  /** When the owner last wrote this entry (ms since the epoch). */
  at: number;
}

export interface FleetInstance {
  instance: string;
  holder: string;
  startedAt: number;
  at: number;
  ready: boolean;
  lobbies: number;
  clients: number;
}

export class FleetDirectory {
  #redis: RedisConnection;
  #instancesKey: string;
  #lobbiesKey: string;
  #staleMs: number;

  constructor(redis: RedisConnection, options: { prefix: string; staleMs: number }) {
    this.#redis = redis;
    this.#instancesKey = `${options.prefix}:instances`;
    this.#lobbiesKey = `${options.prefix}:lobbies`;
    this.#staleMs = options.staleMs;
  }

  /** Writes this instance's entry and its lobbies' in one round trip. */
  async publish(instance: FleetInstance, lobbies: readonly FleetLobby[]): Promise<void> {
    await this.#redis.run('directory', (redis) => {
      const batch = redis
        .multi()
        .hset(this.#instancesKey, instance.holder, JSON.stringify(instance));
      for (const lobby of lobbies) batch.hset(this.#lobbiesKey, lobby.id, JSON.stringify(lobby));
      return batch.exec();
    });
  }

  /** This process is leaving: its entry goes at once (its lobbies' went with their releases). */
  async withdraw(holder: string): Promise<void> {
    await this.#redis.run('directory', (redis) => redis.hdel(this.#instancesKey, holder));
  }

  /**
   * Lobby `id`'s entry as its owner last wrote it (stale or not): after an
   * owner died, the tick its players had about reached, and when.
   */
  async lastSeen(id: string): Promise<{ tick: number; at: number } | undefined> {
    const entry = await this.#entry(id);
    return entry && Number.isFinite(entry.tick) ? { tick: entry.tick, at: entry.at } : undefined;
  }

  /** Lobby `id`'s entry if its owner is alive (one read, not the whole list). */
  async lobby(id: string): Promise<FleetLobby | undefined> {
    const entry = await this.#entry(id);
    return entry && Date.now() - entry.at <= this.#staleMs ? entry : undefined;
  }

  async #entry(id: string): Promise<FleetLobby | undefined> {
    const json = await this.#redis.run('directory', (redis) => redis.hget(this.#lobbiesKey, id));
    return json === null ? undefined : parse<FleetLobby>(json);
  }

  async list(): Promise<{ instances: FleetInstance[]; lobbies: FleetLobby[] }> {
    const [instances, lobbies] = await this.#redis.run('directory', (redis) =>
      Promise.all([redis.hgetall(this.#instancesKey), redis.hgetall(this.#lobbiesKey)]),
    );
    const now = Date.now();
    const fresh = <T extends { at: number }>(key: string, hash: Record<string, string>) => {
      const live: T[] = [];
      const stale: string[] = [];
      for (const [field, json] of Object.entries(hash)) {
        const entry = parse<T>(json);
        if (entry && now - entry.at <= this.#staleMs) live.push(entry);
        else stale.push(field);
      }
      // Swept by whoever reads: a dead instance cannot clean up after itself.
      if (stale.length > 0)
        void this.#redis.run('directory', (redis) => redis.hdel(key, ...stale)).catch(() => {});
      return live;
    };
    return {
      instances: fresh<FleetInstance>(this.#instancesKey, instances),
      lobbies: fresh<FleetLobby>(this.#lobbiesKey, lobbies),
    };
  }
}

function parse<T>(json: string): T | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && 'at' in value ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
