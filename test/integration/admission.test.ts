/**
 * Admission control over real sockets: a new lobby must fit the particle
 * budget of a lobby thread (else POST /lobbies answers 503 instance_full and
 * a join by URL closes with 4003 "instance full"), spawns past the budget get
 * particle_cap, a lobby with nobody in it is paused, and a restarting lobby
 * keeps its room. Budgets and lobbies are small so the tests stay light.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, MAKING_ROOM_REASON } from '../../protocol/close-codes.js';
import { encodeMessage } from '../../protocol/envelope.js';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { joinBystander } from '../support/bystander.js';
import { joinLobby, openSocket, startServer, type TestServer, waitFor } from '../support/server.js';

const post = (server: TestServer, path: string, body: unknown) =>
  server.adminFetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The value of one series in /metrics (0 when absent). */
async function metric(server: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

const closeAll = async (clients: LobbyClient[]) => {
  for (const client of clients) if (client.socket.readyState === WebSocket.OPEN) client.close(1000);
  await waitFor(() => clients.every((c) => c.closeCode !== undefined), 5000, 'clients closed');
};

describe('a full instance (inline host, budget 1000)', () => {
  let server: TestServer;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    server = await startServer({ workers: 0, particleBudget: 1000, defaultParticles: 300 });
  });
  afterAll(async () => {
    await closeAll(clients);
    await server?.close();
  });

  it('POST /lobbies beyond the budget → 503 instance_full, creating nothing', async () => {
    for (const id of ['a', 'b', 'c'])
      expect((await post(server, '/lobbies', { id })).status).toBe(201);
    const refused = await post(server, '/lobbies', { id: 'd', particles: 200 });
    expect(refused.status).toBe(503);
    const body = await refused.json();
    expect(body).toMatchObject({ error: 'instance_full' });
    expect(body.message).toMatch(/instance full/);
    expect(server.app.directory.get('d')).toBeUndefined();
    expect(await metric(server, 'swarmhost_lobbies_refused_total{reason="instance_full"}')).toBe(1);
  });

  it('a join by URL to a new id that does not fit closes with 4003 "instance full"', async () => {
    const client = await joinLobby(server, 'by-url');
    clients.push(client);
    expect(client.welcome).toBeUndefined();
    expect(client.closeCode).toBe(CloseCode.tooManyLobbies);
    expect(client.closeReason).toMatch(/^instance full/);
    expect(server.app.directory.get('by-url')).toBeUndefined();
    expect(await metric(server, 'swarmhost_handshakes_refused_total{reason="instance_full"}')).toBe(
      1,
    );
    expect(await metric(server, 'swarmhost_lobbies_refused_total{reason="instance_full"}')).toBe(2);
  });

  it('joining a lobby that exists still works when the instance is full', async () => {
    const client = await joinLobby(server, 'a');
    clients.push(client);
    expect(client.closeCode).toBeUndefined();
    await waitFor(() => client.frames > 2, 5000, 'frames in a');
  });

  it('spawns grow a lobby up to the budget, then get particle_cap', async () => {
    const client = clients.at(-1)!;
    const granted = client.spawn(500, 500, 100);
    await waitFor(() => client.ack >= granted, 5000, 'spawn applied');
    expect(client.errors).toEqual([]);
    expect(client.decoder?.count).toBe(400);
    const refused = client.spawn(500, 500, 1);
    await waitFor(() => client.errors.length > 0, 5000, 'particle_cap');
    expect(client.errors[0]).toMatchObject({ code: 'particle_cap', seq: refused });
    expect(client.errors[0].message).toMatch(/instance is full/);
    expect(await metric(server, 'swarmhost_inputs_total{result="particle_cap"}')).toBe(1);
  });

  it('/status and /metrics show the budget used per thread and tick lateness per lobby', async () => {
    const status = await (await fetch(`${server.http}/status`)).json();
    expect(status.capacity).toEqual({
      particles: 1000,
      budget: 1000,
      workers: [{ worker: 'main', particles: 1000, budget: 1000, lobbies: 3 }],
    });
    const byId = new Map(status.lobbies.map((l: { id: string }) => [l.id, l]));
    // 'a' ticks for its client; 'b' has had nobody in it: paused, no ticks.
    expect((byId.get('a') as { tickLatenessP99Ms: number }).tickLatenessP99Ms).toBeGreaterThan(0);
    expect(byId.get('b')).toMatchObject({
      phase: 'idle',
      tickP99Ms: null,
      tickLatenessP99Ms: null,
    });
    expect(await metric(server, 'swarmhost_particle_budget{worker="main"}')).toBe(1000);
    expect(await metric(server, 'swarmhost_particles_reserved{worker="main"}')).toBe(1000);
  });

  it('a lobby that ends gives its particles back', async () => {
    expect((await server.adminFetch('/lobbies/b', { method: 'DELETE' })).status).toBe(202);
    await waitFor(() => server.app.directory.get('b') === undefined, 5000, 'b removed');
    const client = await joinLobby(server, 'by-url');
    clients.push(client);
    expect(client.closeCode).toBeUndefined();
    expect(client.welcome?.lobbyId).toBe('by-url');
  });
});

/** Hello, then leave: lobbies a join made, with nobody in them. */
async function leaveEmpty(server: TestServer, ids: string[]): Promise<void> {
  for (const id of ids) {
    const ghost = await joinLobby(server, id);
    expect(ghost.welcome).toBeDefined();
    ghost.close();
    await waitFor(
      () => server.app.directory.get(id)?.handle.status.get().phase === 'idle',
      5000,
      `${id} empty`,
    );
  }
}

describe('empty lobbies do not lock players out (inline host, budget 1000)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 0, particleBudget: 1000, defaultParticles: 300 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a full instance closes the longest-empty lobby a join made, to make room for a player', async () => {
    // Hello, then leave: three lobbies nobody is in fill the budget.
    await leaveEmpty(server, ['ghost-1', 'ghost-2', 'ghost-3']);
    // An operator's lobby, empty too, is never closed for room.
    expect((await post(server, '/lobbies', { id: 'operator', particles: 100 })).status).toBe(201);
    // A real player: let it retry once, as the browser client does after 4003.
    let player = await joinLobby(server, 'real');
    if (player.closeCode !== undefined) player = await joinLobby(server, 'real');
    expect(player.closeCode).toBeUndefined();
    expect(player.welcome?.lobbyId).toBe('real');
    await waitFor(() => server.app.directory.get('ghost-1') === undefined, 5000, 'ghost-1 closed');
    expect(server.app.directory.get('ghost-2')).toBeDefined();
    expect(server.app.directory.get('operator')).toBeDefined();
    expect(await metric(server, 'swarmhost_lobbies_evicted_total')).toBe(1);
    player.close();
  });

  it('a lobby with a player in it is never closed for room', async () => {
    // Left: ghost-2, ghost-3 and 'real' (its player gone: empty now), and
    // 'operator'. Three players take the three empty join-made lobbies' room.
    const players = [];
    for (const id of ['p-1', 'p-2', 'p-3']) {
      let p = await joinLobby(server, id);
      if (p.closeCode !== undefined) p = await joinLobby(server, id);
      players.push(p);
    }
    expect(await metric(server, 'swarmhost_lobbies_evicted_total')).toBe(4);
    // No empty join-made lobby is left to close: the next new id is refused.
    const refused = await joinLobby(server, 'one-too-many');
    const again =
      refused.closeCode !== undefined ? await joinLobby(server, 'one-too-many') : refused;
    for (const p of players) expect(p.closeCode).toBeUndefined();
    expect(again.closeCode ?? refused.closeCode).toBe(CloseCode.tooManyLobbies);
    for (const p of players) p.close();
  });
});

describe('empty lobbies make room on a worker thread too (budget 1000)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 1, particleBudget: 1000, defaultParticles: 300 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a join that meets a full worker is told "making room" and gets in on its retry; nobody joins the lobby closed for it', async () => {
    await leaveEmpty(server, ['w-ghost-1', 'w-ghost-2', 'w-ghost-3']);
    const first = await joinLobby(server, 'w-real');
    // The room frees when the worker reports the close, a moment later.
    if (first.closeCode !== undefined) {
      expect(first.closeCode).toBe(CloseCode.tooManyLobbies);
      expect(first.closeReason.startsWith(MAKING_ROOM_REASON)).toBe(true);
      // A player who wants the evicted lobby meanwhile is not welcomed into it.
      const evicted = ['w-ghost-1', 'w-ghost-2', 'w-ghost-3'].find(
        (id) => server.app.directory.get(id)?.evicted,
      );
      if (evicted !== undefined) {
        const late = await joinLobby(server, evicted);
        expect(late.welcome).toBeUndefined();
        expect(late.closeCode).toBe(CloseCode.lobbyClosed);
      }
      await expect.poll(() => metric(server, 'swarmhost_lobbies_evicted_total')).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      const retry = await joinLobby(server, 'w-real');
      expect(retry.closeCode).toBeUndefined();
      expect(retry.welcome?.lobbyId).toBe('w-real');
      retry.close();
    } else {
      first.close();
    }
    expect(await metric(server, 'swarmhost_lobbies_evicted_total')).toBeGreaterThanOrEqual(1);
  });
});

describe('an attacker on a worker thread (budget 4000, lobbies of 1000)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 1, particleBudget: 4000, defaultParticles: 1000 });
  });
  afterAll(async () => server?.close());

  it('the first lobby keeps 60 Hz while 50 more lobbies and spawn floods are tried', async () => {
    const bystander = await joinBystander(server);
    bystander.mark();
    // 25 players that stay in new lobbies, 25 that say hello and leave.
    const stayers: LobbyClient[] = [];
    for (let i = 0; i < 25; i++) stayers.push(await joinLobby(server, `attack-${i}`));
    for (let i = 0; i < 25; i++) {
      const socket = openSocket(server.wsUrl(`hit-and-run-${i}`));
      socket.on('open', () => {
        socket.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION }));
        socket.close(1000);
      });
      await new Promise((resolve) => socket.once('close', resolve));
    }
    const admitted = stayers.filter((c) => c.welcome !== undefined);
    // The bystander's 1000 and three more fill the worker's 4000.
    expect(admitted).toHaveLength(3);
    for (const refused of stayers.filter((c) => c.welcome === undefined)) {
      expect(refused.closeCode).toBe(CloseCode.tooManyLobbies);
      expect(refused.closeReason).toMatch(/^instance full/);
    }
    // Those let in try to grow their lobbies.
    for (const client of admitted) for (let i = 0; i < 4; i++) client.spawn(500, 500, 500);
    await waitFor(
      () => admitted.every((c) => c.errors.filter((e) => e.code === 'particle_cap').length === 4),
      5000,
      'every spawn refused',
    );
    await bystander.expectUndisturbed();
    expect(server.app.directory.size).toBe(4);
    expect(server.app.host.capacity()).toEqual([
      { worker: expect.any(String), particles: 4000, budget: 4000, lobbies: 4 },
    ]);
    expect(await metric(server, 'swarmhost_handshakes_refused_total{reason="instance_full"}')).toBe(
      47,
    );
    await closeAll(stayers);
    bystander.close();
  }, 30_000);
});

describe('paused lobbies over real sockets (inline host)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 0, defaultParticles: 500, idleTimeoutMs: 1500 });
  });
  afterAll(async () => server?.close());

  const ticksOf = async (lobby: string) => {
    const { values } = await server.app.metrics.tickDuration.get();
    const count = values.find(
      (v) => v.metricName === 'swarmhost_tick_duration_seconds_count' && v.labels.lobby === lobby,
    );
    return count?.value ?? 0;
  };

  it('a lobby created by POST with nobody in it makes no ticks', async () => {
    expect((await post(server, '/lobbies', { id: 'quiet' })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const handle = server.app.directory.get('quiet')!.handle;
    expect(handle.currentStatus()).toMatchObject({ phase: 'idle', tick: 0 });
    expect(handle.frames.newestSeq).toBe(-1);
    expect(await ticksOf('quiet')).toBe(0);
  });

  it('resumes on join, pauses on leave, and a rejoin gets the newest frame at once', async () => {
    const handle = server.app.directory.get('quiet')!.handle;
    const first = await joinLobby(server, 'quiet');
    await waitFor(() => first.frames > 10, 5000, 'frames');
    first.close(1000);
    await waitFor(() => handle.status.get().phase === 'idle', 5000, 'paused');
    const pausedAt = handle.tick;
    const ticks = await ticksOf('quiet');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handle.tick).toBe(pausedAt);
    expect(await ticksOf('quiet')).toBe(ticks);

    const ticksSeen: number[] = [];
    const again = await joinLobby(server, 'quiet', { frame: (m) => ticksSeen.push(m.tick) });
    await waitFor(() => ticksSeen.length > 5, 5000, 'frames after rejoining');
    // The first is a keyframe of the frame the lobby paused on; then it carries on.
    expect(again.keyframes).toBe(1);
    expect(ticksSeen[0]).toBe(pausedAt);
    expect(ticksSeen[1]).toBe(pausedAt + 1);
    again.close(1000);
  });

  it('a paused lobby still closes after the idle timeout', async () => {
    await waitFor(() => server.app.directory.get('quiet') === undefined, 5000, 'quiet closed');
  });
});

describe.each(['throw', 'exit'] as const)(
  'a restarting lobby keeps its room (worker thread, fault %s)',
  (kind) => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({
        workers: 1,
        faultInjection: true,
        particleBudget: 2000,
        defaultParticles: 1000,
        restartBackoffMs: 1000,
      });
    });
    afterAll(async () => server?.close());

    it('nothing else is admitted while it is down, and it comes back', async () => {
      const victim = await joinLobby(server, 'victim');
      await waitFor(() => victim.frames > 5, 10_000, 'victim streaming');
      expect((await post(server, '/lobbies', { id: 'other' })).status).toBe(201);
      const keyframes = victim.keyframes;
      expect((await post(server, '/lobbies/victim/fault', { kind })).status).toBe(202);
      await waitFor(() => victim.status?.phase === 'restarting', 5000, 'restarting');
      const sneaky = await post(server, '/lobbies', { id: 'sneaky' });
      expect(sneaky.status).toBe(503);
      expect((await sneaky.json()).error).toBe('instance_full');
      await waitFor(() => victim.keyframes > keyframes, 10_000, 'keyframe after the restart');
      expect(victim.closeCode).toBeUndefined();
      expect(server.app.host.capacity()[0]).toMatchObject({ particles: 2000, lobbies: 2 });
      victim.close(1000);
    }, 30_000);
  },
);
