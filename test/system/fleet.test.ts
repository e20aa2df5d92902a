/**
 * Fleet mode end to end: 2–3 real instances (processes) sharing a real
 * redis-server, behind a router that sends each lobby id where a table
 * says, as a load balancer hashing the id would. Players are the shared
 * reconnecting client. Each scenario changes where the lobby's players are
 * sent (scale-up, drain, kill -9, restart, a flapping route) and then
 * checks, within 5 s, that exactly one instance runs the lobby with all its
 * players, that no player saw a tick go back, and that spawned particles
 * were kept.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/close-codes.js';
import { type Fleet, startFleet } from '../support/fleet.js';
import { type FleetPlayer, fleetPlayer } from '../support/fleet-player.js';
import { parseSamples, sum } from '../../bench/prometheus-text.js';
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';
import { TEST_ADMIN_TOKEN } from '../support/server.js';

const PARTICLES = 1500;
const SPAWNED = 300;
/** The bound: after each change, one owner with every player within this. */
const SETTLE_MS = 5000;
const ENV = {
  SWARMHOST_DEFAULT_PARTICLES: String(PARTICLES),
  SWARMHOST_HANDOVER_DAMPING_MS: '1000',
};

let redis: RedisServer;
let fleet: Fleet | undefined;
let players: FleetPlayer[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const player of players) player.stop();
  players = [];
  await fleet?.closeAll();
  fleet = undefined;
});
afterAll(stopAllRedis);

async function eventually(check: () => Promise<boolean>, ms: number, label: string) {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `eventually`, saying where things stand when it gives up. */
async function eventuallyOr(
  describe: () => Promise<string>,
  check: () => Promise<boolean>,
  ms: number,
  label: string,
) {
  try {
    await eventually(check, ms, label);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await describe().catch(String)}`);
  }
}

async function describeState(f: Fleet, id: string, all: FleetPlayer[]): Promise<string> {
  const where: Record<string, unknown> = {};
  for (const name of f.names()) where[name] = (await f.lobbiesOn(name)).filter((l) => l.id === id);
  const who = all.map((p) => ({
    on: p.instance(),
    state: p.client.state.kind,
    closes: p.client.connections.map((c) => `${c.closeCode}:${c.closeReason}`),
  }));
  return JSON.stringify({ where, players: who });
}

async function start(names: string[], env: Record<string, string> = {}): Promise<Fleet> {
  fleet = await startFleet({ names, redisUrl: redis.url, env: { ...ENV, ...env } });
  return fleet;
}

function join(f: Fleet, id: string): FleetPlayer {
  const player = fleetPlayer(f.router.port, id);
  players.push(player);
  return player;
}

/** Players in lobby `id` through the router, all welcomed by `owner`, one of them spawning. */
async function populate(f: Fleet, id: string, owner: string, count = 2): Promise<FleetPlayer[]> {
  f.router.route(id, owner);
  const joined = Array.from({ length: count }, () => join(f, id));
  await eventually(
    async () => joined.every((p) => p.instance() === owner && p.frames() > 0),
    10_000,
    'players in',
  );
  joined[0].client.spawn(500, 500, SPAWNED);
  await eventually(
    async () => (joined[0].client.status?.particles ?? 0) === PARTICLES + SPAWNED,
    5000,
    'spawn applied',
  );
  return joined;
}

/** Exactly one instance runs `id`, it is `owner`, and it has every player, each getting frames from it. */
async function settledOn(f: Fleet, id: string, owner: string, all: FleetPlayer[], sinceMs: number) {
  await eventuallyOr(
    () => describeState(f, id, all),
    async () => {
      const where = await f.whereIs(id);
      if (where.length !== 1 || where[0] !== owner) return false;
      const lobby = (await f.lobbiesOn(owner)).find((l) => l.id === id);
      return (
        lobby?.clients === all.length &&
        all.every((p) => p.instance() === owner && p.lastFrameAt() > sinceMs)
      );
    },
    SETTLE_MS,
    `lobby ${id} on ${owner} alone with ${all.length} players`,
  );
  for (const player of all) {
    expect(player.tickWentBack).toEqual([]);
    expect(player.client.status?.particles).toBe(PARTICLES + SPAWNED);
  }
}

async function metric(
  f: Fleet,
  instance: string,
  name: string,
  labels: Record<string, string> = {},
) {
  const response = await fetch(`${f.instance(instance).url}/metrics`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
  });
  return sum(parseSamples(await response.text()), name, labels);
}

describe('fleet: one owner per lobby, and lobbies move with their state', () => {
  it('scale-up: a join on the new hash owner moves the lobby there, players follow on 4007', async () => {
    const f = await start(['a', 'b']);
    const id = 'scale-up';
    const first = await populate(f, id, 'a');
    await f.add('c');
    f.router.route(id, 'c');
    const moveAt = performance.now();
    const newcomer = join(f, id);
    await settledOn(f, id, 'c', [...first, newcomer], moveAt);
    for (const player of first) expect(player.closeCodes()).toEqual([CloseCode.moved]);
    expect(newcomer.closeCodes()).toEqual([]);
    expect(
      await metric(f, 'c', 'swarmhost_handovers_total', {
        direction: 'in',
        reason: 'join_elsewhere',
      }),
    ).toBe(1);
    expect(
      await metric(f, 'a', 'swarmhost_handovers_total', {
        direction: 'out',
        reason: 'join_elsewhere',
      }),
    ).toBe(1);
  }, 40_000);

  it('drain: readiness goes first, then the lobby is checkpointed, released, and its players resume on the next instance', async () => {
    const f = await start(['a', 'b'], { SWARMHOST_DRAIN_DELAY_MS: '600' });
    const id = 'drained';
    const all = await populate(f, id, 'a');
    const a = f.instance('a');
    // The balancer's health check: /readyz on a, polled until it says 503.
    let notReadyAt = Number.POSITIVE_INFINITY;
    const poll = setInterval(() => {
      fetch(`${a.url}/readyz`).then(
        (r) => {
          if (r.status === 503) notReadyAt = Math.min(notReadyAt, performance.now());
        },
        () => {},
      );
    }, 25);
    const drainAt = performance.now();
    const stopped = f.stop('a');
    // The balancer notices a leaving and sends the lobby's players to b.
    await eventually(async () => notReadyAt < Number.POSITIVE_INFINITY, 2000, '/readyz 503');
    clearInterval(poll);
    f.router.route(id, 'b');
    await settledOn(f, id, 'b', all, drainAt);
    expect((await stopped).code).toBe(0);
    for (const player of all) expect(player.closeCodes()).toEqual([CloseCode.draining]);
    // No player was sent away before the balancer could see the instance leave.
    const firstFrameOnB = Math.min(
      ...all.map((p) => p.firstFrameOn('b') ?? Number.POSITIVE_INFINITY),
    );
    expect(firstFrameOnB - notReadyAt).toBeGreaterThanOrEqual(500);
    expect(
      await metric(f, 'b', 'swarmhost_handovers_total', { direction: 'in', reason: 'drain' }),
    ).toBe(1);
  }, 40_000);

  it('kill -9: the lease lapses and the next instance resumes from the last checkpoint, never from the seed', async () => {
    const f = await start(['a', 'b']);
    const id = 'crashed';
    const all = await populate(f, id, 'a');
    // Wait for a periodic checkpoint that holds the spawn: one taken at or
    // after the tick of the status that first showed it (a checkpoint a few
    // ticks before the spawn, e.g. the lobby's first, would not).
    const spawnedBy = all[0].client.status?.tick ?? Number.POSITIVE_INFINITY;
    await eventually(
      async () =>
        Number(await redis.command('HGET', `swarmhost:checkpoint:${id}`, 'tick')) >= spawnedBy,
      8000,
      'a checkpoint after the spawn',
    );
    const killAt = performance.now();
    await f.kill('a');
    f.router.route(id, 'b');
    await settledOn(f, id, 'b', all, killAt);
    expect(
      await metric(f, 'b', 'swarmhost_handovers_total', {
        direction: 'in',
        reason: 'lease_lapsed',
      }),
    ).toBe(1);
    expect(await metric(f, 'b', 'swarmhost_lobby_resumes_total', { from: 'checkpoint' })).toBe(1);
  }, 40_000);

  it('restart: an instance that comes back takes its lobbies back, with their state', async () => {
    const f = await start(['a', 'b']);
    const id = 'returning';
    const all = await populate(f, id, 'a');
    // a leaves (the balancer routes around it) and comes back.
    const leaveAt = performance.now();
    const stopped = f.stop('a');
    f.router.route(id, 'b');
    await settledOn(f, id, 'b', all, leaveAt);
    await stopped;
    await f.restart('a');
    // Past the damping of the hand-over in, the hash owner gets it back.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    f.router.route(id, 'a');
    const backAt = performance.now();
    const newcomer = join(f, id);
    await settledOn(f, id, 'a', [...all, newcomer], backAt);
  }, 60_000);

  it('a flapping route: hand-overs are damped, and the lobby settles on the last owner without ever splitting', async () => {
    const damping = 2000;
    const f = await start(['a', 'b'], { SWARMHOST_HANDOVER_DAMPING_MS: String(damping) });
    const id = 'flapping';
    const all = await populate(f, id, 'a');
    // The health check flaps: the route flips every 250 ms for 3 s, a player joining at each flip.
    const flapStart = performance.now();
    let target = 'a';
    let maxOwners = 0;
    for (let flip = 0; flip < 12; flip++) {
      target = target === 'a' ? 'b' : 'a';
      f.router.route(id, target);
      all.push(join(f, id));
      await new Promise((resolve) => setTimeout(resolve, 250));
      maxOwners = Math.max(maxOwners, (await f.whereIs(id)).length);
    }
    const settleAt = performance.now();
    // It ends wherever the route ends, with everybody, within the bound (damping included).
    await settledOn(f, id, target, all, settleAt);
    expect(maxOwners).toBeLessThanOrEqual(1);
    const moves =
      (await metric(f, 'a', 'swarmhost_handovers_total', {
        direction: 'out',
        reason: 'join_elsewhere',
      })) +
      (await metric(f, 'b', 'swarmhost_handovers_total', {
        direction: 'out',
        reason: 'join_elsewhere',
      }));
    // Twelve flips in 3 s: without damping, about twelve moves; with it, one per damping window.
    const elapsed = performance.now() - flapStart;
    expect(moves).toBeLessThanOrEqual(Math.ceil(elapsed / damping) + 1);
  }, 60_000);

  it('a Redis restart does not disturb players, and ownership is taken up again', async () => {
    const f = await start(['a', 'b']);
    const id = 'redis-restart';
    const all = await populate(f, id, 'a');
    const before = all.map((p) => p.frames());
    await redis.restart(); // no persistence: every lease and checkpoint is gone
    const restartedAt = performance.now();
    // Frames never stopped, nobody was closed.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    all.forEach((p, i) => {
      expect(p.frames() - before[i]).toBeGreaterThan(60);
      expect(p.closeCodes()).toEqual([]);
    });
    // a took its lease up again: a join elsewhere now moves the lobby instead of splitting it.
    await eventually(
      async () => (await redis.command('GET', `swarmhost:lease:${id}`)) !== null,
      3000,
      'lease retaken',
    );
    f.router.route(id, 'b');
    const newcomer = join(f, id);
    await settledOn(f, id, 'b', [...all, newcomer], restartedAt);
  }, 40_000);
});
