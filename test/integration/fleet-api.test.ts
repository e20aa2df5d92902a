/**
 * Fleet mode through in-process instances sharing a real redis-server: the
 * routable API (PUT, GET and DELETE /lobbies/:id, the fleet-wide list and
 * the /status fleet view), a join that waits for a lease held elsewhere,
 * what an instance does while Redis is down, and the safety net that closes
 * a copy of a lobby this instance no longer owns.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CloseCode,
  decodeMessage,
  encodeMessage,
  LOBBY_MOVING_REASON,
  PROTOCOL_VERSION,
} from '../../protocol/index.js';
import type { Config } from '../../src/config.js';
import { type RedisServer, startRedis, stopAllRedis } from '../../bench/redis-server.js';
import { metricValue } from '../support/metrics.js';
import {
  closed,
  joinLobby,
  openSocket,
  startServer,
  type TestServer,
  waitFor,
} from '../support/server.js';

let redis: RedisServer;
const servers: TestServer[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
afterAll(stopAllRedis);

async function instance(name: string, overrides: Partial<Config> = {}): Promise<TestServer> {
  const server = await startServer({
    instanceId: name,
    redisUrl: redis.url,
    workers: 0,
    defaultParticles: 500,
    leaseMs: 1500,
    redisTimeoutMs: 400,
    checkpointIntervalMs: 500,
    ...overrides,
  });
  servers.push(server);
  return server;
}

/** Two instances of one fleet (one key prefix). */
async function pair(overrides: Partial<Config> = {}) {
  const prefix = `fleet-${Math.random().toString(36).slice(2, 8)}`;
  const a = await instance('a', { redisPrefix: prefix, ...overrides });
  const b = await instance('b', { redisPrefix: prefix, ...overrides });
  return { a, b, prefix };
}

const json = async (response: Response) => ({
  status: response.status,
  body: await response.json(),
});

describe('fleet mode: the API a load balancer can route', () => {
  it('lists every instance’s lobbies with their owner, and refuses to create or delete one that runs elsewhere', async () => {
    const { a, b } = await pair();
    const player = await joinLobby(a, 'on-a');
    expect(player.welcome?.instanceId).toBe('a');
    const created = await json(await b.adminFetch('/lobbies/on-b', { method: 'PUT' }));
    expect(created.status).toBe(201);
    // The fleet directory is refreshed every lease round (a third of the lease).
    await waitForAsync(
      async () => {
        const { body } = await json(await fetch(`${b.http}/lobbies`));
        return body.complete === true && body.lobbies.length === 2;
      },
      3000,
      'both lobbies in the fleet list',
    );
    const { body: list } = await json(await fetch(`${a.http}/lobbies`));
    const owners = Object.fromEntries(
      list.lobbies.map((l: { id: string; owner: string }) => [l.id, l.owner]),
    );
    expect(owners).toEqual({ 'on-a': 'a', 'on-b': 'b' });
    expect(await json(await fetch(`${b.http}/lobbies/on-a`))).toMatchObject({
      status: 200,
      body: { id: 'on-a', owner: 'a' },
    });
    // The id runs on a: b may neither create it afresh nor delete it.
    expect(await json(await b.adminFetch('/lobbies/on-a', { method: 'PUT' }))).toMatchObject({
      status: 409,
      body: { error: 'exists' },
    });
    expect(await json(await b.adminFetch('/lobbies/on-a', { method: 'DELETE' }))).toMatchObject({
      status: 409,
      body: { error: 'owned_elsewhere' },
    });
    // /status: the fleet as the directory sees it.
    const { body: status } = await json(await a.adminFetch('/status'));
    expect(status.fleet).toMatchObject({ redis: 'up', owned: 1, complete: true });
    expect(status.fleet.instances.map((i: { instance: string }) => i.instance).sort()).toEqual([
      'a',
      'b',
    ]);
    // Deleted where it runs: it closes, and its lease and checkpoint go.
    expect((await a.adminFetch('/lobbies/on-a', { method: 'DELETE' })).status).toBe(202);
    await waitFor(() => player.closeCode !== undefined, 3000, 'player closed');
    await waitForAsync(
      async () => (await fetch(`${b.http}/lobbies/on-a`)).status === 404,
      3000,
      'gone from the fleet',
    );
  });

  it('a lobby with a checkpoint and no owner exists: PUT refuses it, a join resumes it, DELETE forgets it', async () => {
    const { a, b, prefix } = await pair();
    const player = await joinLobby(a, 'dormant');
    player.spawn(10, 10, 40);
    await waitFor(() => player.status?.particles === 540, 3000, 'spawn');
    // a drains: the lobby is checkpointed and released, nobody owns it.
    a.app.ready = false;
    await a.app.fleet?.drain();
    await waitFor(() => player.closeCode === CloseCode.draining, 3000, 'player sent away');
    expect(await redis.command('EXISTS', `${prefix}:lease:dormant`)).toBe(0);
    expect(await json(await b.adminFetch('/lobbies/dormant', { method: 'PUT' }))).toMatchObject({
      status: 409,
      body: { error: 'exists' },
    });
    const back = await joinLobby(b, 'dormant');
    expect(back.welcome?.instanceId).toBe('b');
    await waitFor(() => back.status !== undefined, 3000, 'status');
    expect(back.status?.particles).toBe(540);
    back.close();
    await waitFor(() => b.app.directory.get('dormant')?.feed.size === 0, 3000, 'left');
    // Drain b too, then forget the dormant checkpoint from a third instance.
    await b.app.fleet?.drain();
    const c = await instance('c', { redisPrefix: prefix });
    await waitForAsync(
      async () => (await redis.command('EXISTS', `${prefix}:lease:dormant`)) === 0,
      3000,
      'released',
    );
    expect(await json(await c.adminFetch('/lobbies/dormant', { method: 'DELETE' }))).toMatchObject({
      status: 200,
      body: { status: 'deleted' },
    });
    expect(await redis.command('EXISTS', `${prefix}:checkpoint:dormant`)).toBe(0);
    expect((await c.adminFetch('/lobbies/dormant', { method: 'DELETE' })).status).toBe(404);
  });
});

describe('fleet mode: waiting for a lobby held elsewhere', () => {
  it('holds the join while the holder’s lease runs, refuses inputs meanwhile, and answers 1013 past the bound', async () => {
    const { a, prefix } = await pair({ handoverWaitMs: 600 });
    // A holder that never answers (a dead instance), for longer than the wait.
    await redis.command('SET', `${prefix}:lease:held`, 'ghost/1 7', 'PX', 5000);
    const socket = openSocket(a.wsUrl('held'));
    const replies: Array<Record<string, unknown>> = [];
    socket.on('message', (data: Buffer) => {
      const decoded = decodeMessage(new Uint8Array(data));
      if (decoded.ok) replies.push(decoded.value as Record<string, unknown>);
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
    socket.send(encodeMessage({ t: 'input', seq: 1, x: 1, y: 1, mode: 'attract' }));
    socket.send(encodeMessage({ t: 'stats', fps: 60, received: 0, skipped: 0, decodeMs: 0 }));
    const { code, reason } = await closed(socket);
    expect(code).toBe(CloseCode.tryAgainLater);
    expect(reason.startsWith(LOBBY_MOVING_REASON)).toBe(true);
    expect(replies).toContainEqual(
      expect.objectContaining({ t: 'error', code: 'not_joined', seq: 1 }),
    );
    // A stats report gets the same answer (it has no seq), counted as such.
    expect(replies.filter((r) => r.t === 'error' && r.code === 'not_joined')).toHaveLength(2);
    expect(
      await metricValue(a, 'swarmhost_client_stats_reports_total', { result: 'not_joined' }),
    ).toBe(1);
    // Once the lease lapses the lobby is free: taken, from its seed.
    await redis.command('PEXPIRE', `${prefix}:lease:held`, 1);
    const player = await joinLobby(a, 'held');
    expect(player.welcome?.instanceId).toBe('a');
    expect(
      await metricValue(a, 'swarmhost_handshakes_refused_total', { reason: 'lobby_moving' }),
    ).toBe(1);
  });
});

describe('fleet mode: ticks never go back', () => {
  it('a lobby whose owner died before its first checkpoint starts from its seed, its ticks after the last seen', async () => {
    const { a, prefix } = await pair();
    // A dead owner: its lease lapses at once, and its directory entry says
    // its players saw tick 5000 a second ago.
    const at = Date.now() - 1000;
    await redis.command(
      'HSET',
      `${prefix}:lobbies`,
      'orphan',
      JSON.stringify({
        id: 'orphan',
        owner: 'ghost',
        phase: 'running',
        clients: 2,
        particles: 500,
        maxParticles: 30000,
        tick: 5000,
        at,
      }),
    );
    const player = await joinLobby(a, 'orphan');
    await waitFor(() => player.frames > 0, 3000, 'a frame');
    expect(player.status?.particles).toBe(500);
    // 5000 plus the 60 ticks a second the dead owner may have run since.
    expect(player.status?.tick ?? 0).toBeGreaterThanOrEqual(5060);
    expect(await metricValue(a, 'swarmhost_lobby_resumes_total', { from: 'seed' })).toBe(1);
  });
});

describe('fleet mode: Redis down, and the safety net', () => {
  it('keeps running lobbies and their players, refuses joins that need Redis with 1013, and recovers', async () => {
    const { a } = await pair();
    const player = await joinLobby(a, 'kept');
    await redis.stop();
    try {
      const before = player.frames;
      // A lobby that runs here: still served.
      const second = await joinLobby(a, 'kept');
      expect(second.welcome).toBeDefined();
      // A lobby that would need an owner: refused, with a reason.
      const refused = await joinLobby(a, 'new-while-down');
      expect(refused.closeCode).toBe(CloseCode.tryAgainLater);
      expect(refused.closeReason).toMatch(/Redis/);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(player.frames - before).toBeGreaterThan(30);
      expect(player.closeCode).toBeUndefined();
      expect(await metricValue(a, 'swarmhost_redis_up')).toBe(0);
      expect(
        await metricValue(a, 'swarmhost_handshakes_refused_total', { reason: 'fleet_unavailable' }),
      ).toBe(1);
    } finally {
      await redis.restart();
    }
    await waitForAsync(
      async () => (await metricValue(a, 'swarmhost_redis_up')) === 1,
      5000,
      'reconnected',
    );
    const later = await joinLobby(a, 'new-after');
    expect(later.welcome?.instanceId).toBe('a');
    expect(player.closeCode).toBeUndefined();
  });

  it('closes its copy of a lobby another instance owns with 4007, counted', async () => {
    const { a, prefix } = await pair();
    const player = await joinLobby(a, 'stolen');
    await redis.command('SET', `${prefix}:lease:stolen`, 'thief/1 99', 'PX', 2000);
    await waitFor(() => player.closeCode !== undefined, 3000, 'player closed');
    expect(player.closeCode).toBe(CloseCode.moved);
    expect(await metricValue(a, 'swarmhost_lobby_ownership_conflicts_total')).toBe(1);
    expect(a.app.directory.get('stolen')).toBeUndefined();
  });
});

async function waitForAsync(check: () => Promise<boolean>, ms: number, label: string) {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
