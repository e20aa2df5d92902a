/**
 * GET /status, GET /config and PATCH /config against a real server: the
 * status of every lobby with its tick p99 and totals, secrets redacted, the
 * admin token (401 / 403 / 403 when disabled), validation (400), and that a
 * PATCH really changes what clients get: sendRate lowers the frames a client
 * receives, defaultParticles sizes the next lobby created by a join.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { REDACTED } from '../../src/config-redaction.js';
import { histogramQuantile } from '../../src/histogram-quantile.js';
import { SERVER_VERSION } from '../../src/version.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const TOKEN = 'test-admin-token-0123456789';

function patchConfig(server: TestServer, body: unknown, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return fetch(`${server.http}/config`, {
    method: 'PATCH',
    headers,
    body: JSON.stringify(body),
  });
}

/** Frames the client got per second and per lobby tick over about `ms`. */
async function frameRate(server: TestServer, client: LobbyClient, lobbyId: string, ms = 1000) {
  const { handle } = server.app.directory.get(lobbyId)!;
  const frames0 = client.frames;
  const tick0 = handle.tick;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const frames = client.frames - frames0;
  return {
    perSecond: (frames * 1000) / (performance.now() - t0),
    perTick: frames / Math.max(1, handle.tick - tick0),
  };
}

describe('the tick p99 estimate', () => {
  const bounds = [0.001, 0.01, Number.POSITIVE_INFINITY];
  it('interpolates inside the bucket holding the rank, as histogram_quantile does', () => {
    expect(histogramQuantile(0.5, bounds, [0, 100, 100])).toBeCloseTo(0.0055, 9);
    expect(histogramQuantile(0.99, bounds, [10, 10, 10])).toBeCloseTo(0.00099, 9);
    expect(histogramQuantile(0.99, bounds, [50, 100, 100])).toBeCloseTo(0.001 + 0.009 * 0.98, 9);
  });
  it('answers the highest finite bound for a rank in +Inf, and nothing without samples', () => {
    expect(histogramQuantile(0.99, bounds, [0, 0, 10])).toBe(0.01);
    expect(histogramQuantile(0.99, bounds, [0, 0, 0])).toBeUndefined();
  });
});

describe('GET /status', () => {
  let server: TestServer;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 2000 });
    clients.push(await joinLobby(server, 'st-a'), await joinLobby(server, 'st-a'));
    const res = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'st-b', particles: 500 }),
    });
    expect(res.status).toBe(201);
    await waitFor(() => clients.every((c) => c.frames > 30), 10_000, 'frames');
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  it('shows the instance, every lobby with its tick p99, and totals', async () => {
    const res = await fetch(`${server.http}/status`);
    expect(res.status).toBe(200);
    const status = await res.json();
    expect(status).toMatchObject({
      instanceId: server.app.config.instanceId,
      version: SERVER_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      ready: true,
    });
    expect(status.uptimeSeconds).toBeGreaterThan(0);
    expect(Date.parse(status.startedAt)).toBeLessThanOrEqual(Date.now());
    expect(status.tickWindowSeconds).toBeGreaterThan(0);

    const byId = new Map(status.lobbies.map((l: { id: string }) => [l.id, l]));
    const a = byId.get('st-a') as Record<string, unknown>;
    expect(a).toMatchObject({ id: 'st-a', phase: 'running', clients: 2, particles: 2000 });
    expect(a.tick as number).toBeGreaterThan(30);
    // A real duration in ms: more than nothing, less than a stalled world.
    expect(a.tickP99Ms as number).toBeGreaterThan(0);
    expect(a.tickP99Ms as number).toBeLessThan(1000);
    const b = byId.get('st-b') as Record<string, unknown>;
    expect(b).toMatchObject({ id: 'st-b', clients: 0, particles: 500 });
    // Nobody in it: paused, no ticks in the window.
    expect(b).toMatchObject({ phase: 'idle', tickP99Ms: null });

    expect(status.totals).toMatchObject({ lobbies: 2, clients: 2, particles: 2500 });
    const phases = status.totals.phases as Record<string, number>;
    expect(Object.values(phases).reduce((sum, n) => sum + n, 0)).toBe(2);
    expect(phases.running).toBe(1);
    expect(status.totals.framesSent).toBeGreaterThan(60);
    expect(status.totals.bytesSent).toBeGreaterThan(0);
    expect(status.totals.framesSkipped).toBe(0);
  });

  it('drops a lobby once it has closed', async () => {
    expect((await server.adminFetch('/lobbies/st-b', { method: 'DELETE' })).status).toBe(202);
    await waitFor(() => server.app.directory.get('st-b') === undefined, 10_000, 'st-b removed');
    const status = await (await fetch(`${server.http}/status`)).json();
    expect(status.lobbies.map((l: { id: string }) => l.id)).toEqual(['st-a']);
    expect(status.totals).toMatchObject({ lobbies: 1, clients: 2, particles: 2000 });
  });
});

describe('GET /config', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ adminToken: TOKEN, defaultParticles: 2000 });
  });
  afterAll(async () => server.close());

  it('shows the effective configuration with secrets redacted', async () => {
    const res = await fetch(`${server.http}/config`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(TOKEN);
    const body = JSON.parse(text);
    expect(body.config.adminToken).toBe(REDACTED);
    expect(body.config).toMatchObject({
      defaultParticles: 2000,
      sendRate: 60,
      tickRate: 60,
      instanceId: server.app.config.instanceId,
    });
    // Every setting is there.
    expect(Object.keys(body.config).sort()).toEqual(Object.keys(server.app.config).sort());
    expect(body.tunable).toEqual(
      expect.arrayContaining(['defaultParticles', 'sendHighWaterBytes', 'sendRate']),
    );
    expect(body.secret).toEqual(['adminToken', 'redisUrl']);
    expect(body.patchEnabled).toBe(true);
  });

  it('says PATCH is disabled when no token is configured', async () => {
    const open = await startServer({ adminToken: '' });
    try {
      const body = await (await fetch(`${open.http}/config`)).json();
      expect(body.patchEnabled).toBe(false);
      expect(body.config.adminToken).toBe('');
    } finally {
      await open.close();
    }
  });
});

describe('PATCH /config', () => {
  let server: TestServer;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    server = await startServer({ adminToken: TOKEN, defaultParticles: 2000 });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  const currentSendRate = async () =>
    (await (await fetch(`${server.http}/config`)).json()).config.sendRate;

  it('401 without an Authorization header, or with one that is not a bearer token', async () => {
    for (const authorization of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', `Token ${TOKEN}`]) {
      const res = await patchConfig(server, { sendRate: 30 }, authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await res.json()).error).toBe('unauthorized');
    }
    expect(await currentSendRate()).toBe(60);
  });

  it('403 with a wrong token', async () => {
    for (const token of ['wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const res = await patchConfig(server, { sendRate: 30 }, `Bearer ${token}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: 'forbidden' });
    }
    expect(await currentSendRate()).toBe(60);
  });

  it('403 admin_disabled when no admin token is configured, whatever the header', async () => {
    const open = await startServer({ adminToken: '' });
    try {
      for (const authorization of [undefined, 'Bearer ', 'Bearer anything']) {
        const res = await patchConfig(open, { sendRate: 30 }, authorization);
        expect(res.status).toBe(403);
        const body = await res.json();
        expect(body.error).toBe('admin_disabled');
        expect(body.message).toContain('SWARMHOST_ADMIN_TOKEN');
      }
    } finally {
      await open.close();
    }
  });

  it('400 with a reason for values it refuses, and changes nothing', async () => {
    const cases: [unknown, RegExp][] = [
      [{ sendRate: 0 }, /SWARMHOST_SEND_RATE.*minimum/],
      [{ sendRate: 1000 }, /SWARMHOST_SEND_RATE.*maximum/],
      [{ sendRate: 'fast' }, /not a number/],
      [{ sendHighWaterBytes: 10.5 }, /not an integer/],
      [{ defaultParticles: 5_000_000 }, /SWARMHOST_DEFAULT_PARTICLES|maxParticles/],
      [{ tickRate: 30 }, /not a runtime-tunable setting/],
      [{ sendRate: 30, bogus: 1 }, /'bogus' is not a runtime-tunable setting/],
      [{ sendRate: null }, /must be a number/],
      [[1, 2], /JSON object/],
      ['sendRate=30', /JSON object/],
    ];
    for (const [body, reason] of cases) {
      const res = await patchConfig(server, body, `Bearer ${TOKEN}`);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(answer.error).toBe('invalid_setting');
      expect(answer.message).toMatch(reason);
    }
    expect(await currentSendRate()).toBe(60);
  });

  it('200 with the new tunables; a lower sendRate lowers the frames a client gets', async () => {
    const client = await joinLobby(server, 'rate');
    clients.push(client);
    await waitFor(() => client.frames > 30, 10_000, 'streaming');
    const before = await frameRate(server, client, 'rate');

    const res = await patchConfig(server, { sendRate: 10 }, `bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.tunables).toMatchObject({ sendRate: 10, defaultParticles: 2000 });
    expect(await currentSendRate()).toBe(10);
    const after = await frameRate(server, client, 'rate');

    // 60 Hz: about a frame per tick before, about one in six after (generous
    // margins: two shared cores).
    expect(before.perTick).toBeGreaterThan(0.8);
    expect(before.perSecond).toBeGreaterThan(30);
    expect(after.perTick).toBeLessThan(0.3);
    expect(after.perSecond).toBeLessThan(20);
    expect(after.perSecond).toBeGreaterThan(3);

    const back = await patchConfig(server, { sendRate: 60 }, `Bearer ${TOKEN}`);
    expect(back.status).toBe(200);
  });

  it('defaultParticles applies to the next lobby created by a join, not to existing ones', async () => {
    const res = await patchConfig(server, { defaultParticles: 1234 }, `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect((await res.json()).tunables.defaultParticles).toBe(1234);
    const client = await joinLobby(server, 'fresh');
    clients.push(client);
    expect(client.welcome).toBeDefined();
    const fresh = await (await fetch(`${server.http}/lobbies/fresh`)).json();
    expect(fresh.particles).toBe(1234);
    await waitFor(() => client.decoder?.count === 1234, 5000, 'a frame of 1234 particles');
    const existing = await (await fetch(`${server.http}/lobbies/rate`)).json();
    expect(existing.particles).toBe(2000);
    const config = await (await fetch(`${server.http}/config`)).json();
    expect(config.config.defaultParticles).toBe(1234);
  });
});
