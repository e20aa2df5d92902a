/**
 * Lobby ownership in a real Redis: one owner at a time, fencing tokens that
 * only grow, a stale owner's writes refused, and what a Redis that lost its
 * data (restarted without persistence) means for an owner.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { defaultConfig } from '../../src/config.js';
import { FleetMetrics } from '../../src/fleet/fleet-metrics.js';
import { LobbyLeases } from '../../src/fleet/lobby-leases.js';
import { RedisConnection } from '../../src/fleet/redis-connection.js';
import type { Logger } from '../../src/logger.js';
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';

const LEASE_MS = 600;
const noop = () => {};
const silent = { debug: noop, info: noop, warn: noop, error: noop } as unknown as Logger;
let redis: RedisServer;
const connections: RedisConnection[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
});
afterAll(stopAllRedis);

async function owner(holder: string, prefix = 'leases') {
  const config = defaultConfig({ redisUrl: redis.url, redisTimeoutMs: 200, leaseMs: LEASE_MS });
  const metrics = new FleetMetrics(new Registry());
  const connection = new RedisConnection(config, metrics, silent);
  connections.push(connection);
  expect(await connection.connect(2000)).toBe(true);
  const leases = new LobbyLeases(connection, {
    prefix,
    holder,
    leaseMs: LEASE_MS,
    checkpointTtlMs: 60_000,
  });
  return { leases, metrics, connection };
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe('lobby leases in a real Redis', () => {
  it('gives a lobby one owner at a time, and the same fence back to its owner', async () => {
    const a = await owner('a/1', 'one');
    const b = await owner('b/1', 'one');
    const first = await a.leases.acquire('room');
    expect(first).toEqual({ acquired: true, lease: { id: 'room', holder: 'a/1', fence: 1 } });
    expect(await b.leases.acquire('room')).toEqual({ acquired: false, holder: 'a/1', fence: 1 });
    expect(await a.leases.acquire('room')).toEqual(first);
    // Another lobby is independent.
    expect(await b.leases.acquire('other')).toMatchObject({ acquired: true, lease: { fence: 1 } });
  });

  it('lets a lapsed lease be taken with a larger fence, and fences the old owner off', async () => {
    const a = await owner('a/1', 'lapse');
    const b = await owner('b/1', 'lapse');
    const old = await a.leases.acquire('room');
    if (!old.acquired) throw new Error('not acquired');
    expect(await a.leases.writeCheckpoint(old.lease, bytes('a-state'), 10, 'periodic')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    const taken = await b.leases.acquire('room');
    if (!taken.acquired) throw new Error('not taken over');
    expect(taken.lease.fence).toBeGreaterThan(old.lease.fence);
    // The new owner reads what the old one stored, then moves on.
    const stored = await b.leases.readCheckpoint('room');
    expect(Buffer.from(stored?.data ?? []).toString()).toBe('a-state');
    expect(stored).toMatchObject({ fence: old.lease.fence, tick: 10, reason: 'periodic' });
    expect(await b.leases.writeCheckpoint(taken.lease, bytes('b-state'), 20, 'periodic')).toBe(
      true,
    );
    // The old owner wakes up: every write of its is refused.
    expect(await a.leases.renew(old.lease)).toBe('lost');
    expect(await a.leases.writeCheckpoint(old.lease, bytes('stale'), 30, 'periodic')).toBe(false);
    expect(await a.leases.release(old.lease)).toBe(false);
    expect(await a.leases.forget(old.lease)).toBe(false);
    const after = await b.leases.readCheckpoint('room');
    expect(Buffer.from(after?.data ?? []).toString()).toBe('b-state');
    expect(await b.leases.renew(taken.lease)).toBe('renewed');
  });

  it('refuses a stale owner even after the new owner released the lobby', async () => {
    const a = await owner('a/1', 'released');
    const b = await owner('b/1', 'released');
    const old = await a.leases.acquire('room');
    if (!old.acquired) throw new Error('not acquired');
    await redis.command('DEL', 'released:lease:room');
    const taken = await b.leases.acquire('room');
    if (!taken.acquired) throw new Error('not taken');
    expect(await b.leases.writeCheckpoint(taken.lease, bytes('b'), 5, 'join_elsewhere')).toBe(true);
    expect(await b.leases.release(taken.lease)).toBe(true);
    // Nobody holds it now, but someone newer has: the old owner may not take it back by renewing.
    expect(await a.leases.renew(old.lease)).toBe('lost');
    expect(await a.leases.writeCheckpoint(old.lease, bytes('stale'), 6, 'periodic')).toBe(false);
  });

  it('takes a lease again after Redis lost everything, and fences keep growing past stored checkpoints', async () => {
    const a = await owner('a/1', 'amnesia');
    const held = await a.leases.acquire('room');
    if (!held.acquired) throw new Error('not acquired');
    // Redis restarted without its data: the lease and counter are gone.
    await redis.command('DEL', 'amnesia:lease:room', 'amnesia:fence:room');
    expect(await a.leases.renew(held.lease)).toBe('retaken');
    expect(await a.leases.writeCheckpoint(held.lease, bytes('x'), 1, 'periodic')).toBe(true);
    // A restore from an old snapshot: the counter is behind the stored checkpoint's fence.
    await redis.command('DEL', 'amnesia:lease:room');
    await redis.command('SET', 'amnesia:fence:room', 0);
    const b = await owner('b/1', 'amnesia');
    const next = await b.leases.acquire('room');
    expect(next.acquired && next.lease.fence).toBeGreaterThan(held.lease.fence);
  });

  it('never takes back a lease it released, even when nobody took it since', async () => {
    const a = await owner('a/1', 'released-own');
    const held = await a.leases.acquire('room');
    if (!held.acquired) throw new Error('not acquired');
    await a.leases.writeCheckpoint(held.lease, bytes('x'), 1, 'join_elsewhere');
    expect(await a.leases.release(held.lease)).toBe(true);
    // A renewal that was late for the release (it raced the hand-over).
    expect(await a.leases.renew(held.lease)).toBe('lost');
    expect(await redis.command('EXISTS', 'released-own:lease:room')).toBe(0);
    const b = await owner('b/1', 'released-own');
    const next = await b.leases.acquire('room');
    expect(next.acquired && next.lease.fence).toBeGreaterThan(held.lease.fence);
  });

  it('forgets an ended lobby: lease, checkpoint and directory entry go together', async () => {
    const a = await owner('a/1', 'forget');
    const held = await a.leases.acquire('room');
    if (!held.acquired) throw new Error('not acquired');
    await a.leases.writeCheckpoint(held.lease, bytes('x'), 1, 'periodic');
    await redis.command('HSET', 'forget:lobbies', 'room', '{}');
    expect(await a.leases.forget(held.lease)).toBe(true);
    expect(await a.leases.readCheckpoint('room')).toBeUndefined();
    expect(await redis.command('EXISTS', 'forget:lease:room', 'forget:checkpoint:room')).toBe(0);
    expect(await redis.command('HEXISTS', 'forget:lobbies', 'room')).toBe(0);
  });

  it('fails fast while Redis is down, counts it, and works again when it is back', async () => {
    const a = await owner('a/1', 'down');
    await redis.stop();
    try {
      await expect(a.leases.acquire('room')).rejects.toThrow();
      // The failed command and the connection's close event may come in either order.
      const notReadyBy = Date.now() + 2000;
      while (a.connection.ready && Date.now() < notReadyBy)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(a.connection.ready).toBe(false);
      const errors = await a.metrics.redisErrors.get();
      expect(errors.values.find((v) => v.labels.op === 'acquire')?.value).toBeGreaterThan(0);
    } finally {
      await redis.restart();
    }
    // ioredis reconnects by itself within its capped backoff.
    const deadline = Date.now() + 5000;
    while (!a.connection.ready && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await a.leases.acquire('room')).toMatchObject({ acquired: true });
  });
});
