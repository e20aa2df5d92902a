/**
 * Lobby ownership and checkpoints in Redis. Every rule that decides who
 * owns a lobby runs inside Redis as one Lua script, so it is atomic across
 * the fleet:
 *
 * - `<p>:lease:<id>` holds "<holder> <fence>" with a TTL: at most one owner
 *   at a time. The fence (from the counter `<p>:fence:<id>`) grows with
 *   every new owner, so a stale owner's token is always smaller.
 * - `<p>:checkpoint:<id>` is a hash {data, fence, tick, reason, at}: the
 *   lobby's last state, who wrote it and why (`periodic`, `join_elsewhere`,
 *   `drain`). A write is accepted only from the current lease holder, and
 *   never over a checkpoint of a larger fence: a paused or partitioned old
 *   owner cannot overwrite its successor's state.
 * - Renewing a lease that vanished (Redis restarted without its data, or it
 *   lapsed while we could not reach Redis) takes it again only if nobody
 *   else has owned the lobby since and we did not release it (the fence
 *   counter, which a release moves on, and the checkpoint's fence are not
 *   above ours); otherwise the lobby is lost to us.
 *
 * A holder is "<instanceId>/<boot id>", one per process: a restarted
 * instance never mistakes its dead predecessor's lease for its own.
 */
import type { Redis } from 'ioredis';
import type { RedisConnection } from './redis-connection.js';

/** Ownership of one lobby as this process holds it. */
export interface Lease {
  id: string;
  holder: string;
  fence: number;
}

export type AcquireResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; holder: string; fence: number };

/** Renewed; renewed by taking it again (it had vanished); or lost to another owner. */
export type RenewResult = 'renewed' | 'retaken' | 'lost';

/** Why a checkpoint was written: read back by its next owner to name the hand-over. */
export type CheckpointReason = 'periodic' | 'join_elsewhere' | 'drain';

export interface StoredCheckpoint {
  data: Uint8Array;
  fence: number;
  tick: number;
  reason: CheckpointReason | string;
  /** When it was written, by its writer's clock (ms since the epoch). */
  at: number;
}

// KEYS: lease, fence counter, checkpoint. ARGV: holder, lease ms.
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
if current then
  local space = string.find(current, ' ', 1, true)
  local holder = string.sub(current, 1, space - 1)
  local fence = tonumber(string.sub(current, space + 1))
  if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, fence, holder}
  end
  return {0, fence, holder}
end
local fence = redis.call('INCR', KEYS[2])
local stored = tonumber(redis.call('HGET', KEYS[3], 'fence')) or 0
if fence <= stored then
  fence = stored + 1
  redis.call('SET', KEYS[2], fence)
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
return {1, fence, ARGV[1]}
`;

// KEYS: lease, fence counter, checkpoint. ARGV: holder, fence, lease ms.
const RENEW = `
local mine = ARGV[1] .. ' ' .. ARGV[2]
local current = redis.call('GET', KEYS[1])
if current == mine then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if current then return 0 end
local fence = tonumber(ARGV[2])
local counter = tonumber(redis.call('GET', KEYS[2])) or 0
local stored = tonumber(redis.call('HGET', KEYS[3], 'fence')) or 0
if counter > fence or stored > fence then return 0 end
if counter < fence then redis.call('SET', KEYS[2], fence) end
redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
return 2
`;

// KEYS: lease, checkpoint. ARGV: holder, fence, data, tick, reason, at, ttl ms.
const WRITE_CHECKPOINT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
local stored = tonumber(redis.call('HGET', KEYS[2], 'fence')) or 0
if stored > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], 'data', ARGV[3], 'fence', ARGV[2], 'tick', ARGV[4], 'reason', ARGV[5], 'at', ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return 1
`;

// KEYS: lease, fence counter, directory hash. ARGV: holder, fence, lobby id.
// The counter moves past the released fence: a renewal that arrives after
// the release must find the lease lost, never take it again.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
`;

// KEYS: lease, checkpoint, directory hash. ARGV: holder, fence, lobby id.
const FORGET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[3])
return 1
`;

/** The scripts as ioredis custom commands (sent by SHA, loaded on first use). */
interface LeaseCommands {
  swarmAcquire(
    lease: string,
    fence: string,
    checkpoint: string,
    holder: string,
    leaseMs: number,
  ): Promise<[number, number, string]>;
  swarmRenew(
    lease: string,
    fence: string,
    checkpoint: string,
    holder: string,
    token: number,
    leaseMs: number,
  ): Promise<number>;
  swarmWriteCheckpoint(
    lease: string,
    checkpoint: string,
    holder: string,
    token: number,
    data: Buffer,
    tick: number,
    reason: string,
    at: number,
    ttlMs: number,
  ): Promise<number>;
  swarmRelease(
    lease: string,
    fence: string,
    directory: string,
    holder: string,
    token: number,
    id: string,
  ): Promise<number>;
  swarmForget(
    lease: string,
    checkpoint: string,
    directory: string,
    holder: string,
    token: number,
    id: string,
  ): Promise<number>;
}

export class LobbyLeases {
  readonly holder: string;
  #redis: RedisConnection;
  #prefix: string;
  #leaseMs: number;
  #checkpointTtlMs: number;

  constructor(
    redis: RedisConnection,
    options: { prefix: string; holder: string; leaseMs: number; checkpointTtlMs: number },
  ) {
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.holder = options.holder;
    this.#leaseMs = options.leaseMs;
    this.#checkpointTtlMs = options.checkpointTtlMs;
    const commands = redis.commands;
    commands.defineCommand('swarmAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    commands.defineCommand('swarmRenew', { numberOfKeys: 3, lua: RENEW });
    commands.defineCommand('swarmWriteCheckpoint', { numberOfKeys: 2, lua: WRITE_CHECKPOINT });
    commands.defineCommand('swarmRelease', { numberOfKeys: 3, lua: RELEASE });
    commands.defineCommand('swarmForget', { numberOfKeys: 3, lua: FORGET });
  }

  /** The hash of lobby summaries (fleet-directory.ts writes it; release removes entries). */
  get directoryKey(): string {
    return `${this.#prefix}:lobbies`;
  }

  #key(kind: 'lease' | 'fence' | 'checkpoint', id: string): string {
    return `${this.#prefix}:${kind}:${id}`;
  }

  #scripts(redis: Redis): LeaseCommands {
    return redis as unknown as LeaseCommands;
  }

  /** Takes the lobby if nobody holds it (or we already do); else says who does. */
  async acquire(id: string): Promise<AcquireResult> {
    const [acquired, fence, holder] = await this.#redis.run('acquire', (redis) =>
      this.#scripts(redis).swarmAcquire(
        this.#key('lease', id),
        this.#key('fence', id),
        this.#key('checkpoint', id),
        this.holder,
        this.#leaseMs,
      ),
    );
    return acquired === 1
      ? { acquired: true, lease: { id, holder: this.holder, fence } }
      : { acquired: false, holder, fence };
  }

  async renew(lease: Lease): Promise<RenewResult> {
    const result = await this.#redis.run('renew', (redis) =>
      this.#scripts(redis).swarmRenew(
        this.#key('lease', lease.id),
        this.#key('fence', lease.id),
        this.#key('checkpoint', lease.id),
        lease.holder,
        lease.fence,
        this.#leaseMs,
      ),
    );
    return result === 1 ? 'renewed' : result === 2 ? 'retaken' : 'lost';
  }

  /** Stores a checkpoint if `lease` still owns the lobby; false if it does not (fenced off). */
  async writeCheckpoint(
    lease: Lease,
    data: Uint8Array,
    tick: number,
    reason: CheckpointReason,
  ): Promise<boolean> {
    const result = await this.#redis.run('checkpoint_write', (redis) =>
      this.#scripts(redis).swarmWriteCheckpoint(
        this.#key('lease', lease.id),
        this.#key('checkpoint', lease.id),
        lease.holder,
        lease.fence,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        tick,
        reason,
        Date.now(),
        this.#checkpointTtlMs,
      ),
    );
    return result === 1;
  }

  async readCheckpoint(id: string): Promise<StoredCheckpoint | undefined> {
    const hash = await this.#redis.run('checkpoint_read', (redis) =>
      redis.hgetallBuffer(this.#key('checkpoint', id)),
    );
    if (!hash.data) return undefined;
    return {
      data: hash.data,
      fence: Number(hash.fence?.toString() ?? 0),
      tick: Number(hash.tick?.toString() ?? 0),
      reason: hash.reason?.toString() ?? '',
      at: Number(hash.at?.toString() ?? 0),
    };
  }

  /** Gives the lobby up, keeping its checkpoint for whoever takes it next. */
  async release(lease: Lease): Promise<boolean> {
    const result = await this.#redis.run('release', (redis) =>
      this.#scripts(redis).swarmRelease(
        this.#key('lease', lease.id),
        this.#key('fence', lease.id),
        this.directoryKey,
        lease.holder,
        lease.fence,
        lease.id,
      ),
    );
    return result === 1;
  }

  /** The lobby has ended for good: gives it up and deletes its checkpoint (the next join starts it afresh). */
  async forget(lease: Lease): Promise<boolean> {
    const result = await this.#redis.run('checkpoint_delete', (redis) =>
      this.#scripts(redis).swarmForget(
        this.#key('lease', lease.id),
        this.#key('checkpoint', lease.id),
        this.directoryKey,
        lease.holder,
        lease.fence,
        lease.id,
      ),
    );
    return result === 1;
  }
}
