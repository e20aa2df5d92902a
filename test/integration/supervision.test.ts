import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { WorkerLobbyHost } from '../../lobbies/worker-pool.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const post = (server: TestServer, path: string, body: unknown) =>
  fetch(`${server.http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.adminHeaders },
    body: JSON.stringify(body),
  });

const counter = async (
  server: TestServer,
  name: 'lobbyCrashes' | 'lobbyRestarts' | 'lobbyFailures',
) => {
  const metric = await server.app.metrics[name].get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
};

/** The share of `lobby`'s ticks that `client` saw while `during` runs. */
async function ticksSeenShare(
  server: TestServer,
  lobby: string,
  client: LobbyClient,
  during: () => Promise<void>,
) {
  const handle = server.app.directory.get(lobby)!.handle;
  const ticks0 = handle.tick;
  const seen0 = client.decoder!.tick;
  await during();
  // How far the client's world moved against the lobby's: the ticks it
  // saw, not the frames it got (a main thread busy with the other lobby's
  // crash folds frames into the newest one, and the world still moves on).
  return (client.decoder!.tick - seen0) / (handle.tick - ticks0);
}

describe('supervised lobbies on a worker pool', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      workers: 2,
      faultInjection: true,
      defaultParticles: 1000,
      maxRestarts: 2,
      restartWindowMs: 60_000,
      restartBackoffMs: 100,
      // Small, so the injected out-of-memory is reached in a moment.
      workerHeapMb: 64,
    });
  });
  afterAll(async () => server.close());

  it('places lobbies on the least-loaded worker', async () => {
    expect((await post(server, '/lobbies', { id: 'heavy', particles: 5000 })).status).toBe(201);
    expect((await post(server, '/lobbies', { id: 'light-a', particles: 1000 })).status).toBe(201);
    expect((await post(server, '/lobbies', { id: 'light-b', particles: 1000 })).status).toBe(201);
    const host = getHost(server);
    const byLobby = new Map(host.workers.flatMap((w) => w.lobbies.map((l) => [l, w.id] as const)));
    expect(byLobby.get('light-a')).not.toBe(byLobby.get('heavy'));
    expect(byLobby.get('light-b')).toBe(byLobby.get('light-a'));
    for (const id of ['heavy', 'light-a', 'light-b'])
      await server.adminFetch(`/lobbies/${id}`, { method: 'DELETE' });
  });

  it('a throwing tick restarts that lobby alone; its clients resync without reconnecting', async () => {
    const victim = await joinLobby(server, 'victim');
    const bystander = await joinLobby(server, 'bystander');
    await waitFor(() => victim.frames > 10 && bystander.frames > 10, 10_000, 'both streaming');
    const keyframes = victim.keyframes;
    const tickBefore = victim.decoder!.tick;
    const phases: string[] = [];
    const crashes = await counter(server, 'lobbyCrashes');
    const restarts = await counter(server, 'lobbyRestarts');

    const rate = await ticksSeenShare(server, 'bystander', bystander, async () => {
      const watch = setInterval(() => {
        const phase = victim.status?.phase;
        if (phase && phases.at(-1) !== phase) phases.push(phase);
      }, 1);
      expect((await post(server, '/lobbies/victim/fault', { kind: 'throw' })).status).toBe(202);
      await waitFor(() => victim.keyframes > keyframes, 10_000, 'fresh keyframe after the restart');
      await waitFor(
        () => victim.frames > 0 && victim.decoder!.tick > tickBefore + 30,
        10_000,
        'streaming again',
      );
      clearInterval(watch);
    });
    expect(phases).toContain('restarting');
    expect(victim.closeCode).toBeUndefined();
    // Ticks continue from where the crashed incarnation stopped.
    expect(victim.decoder!.tick).toBeGreaterThan(tickBefore);
    expect(victim.decoder!.count).toBe(1000);
    expect(rate).toBeGreaterThan(0.9);
    expect(await counter(server, 'lobbyCrashes')).toBe(crashes + 1);
    expect(await counter(server, 'lobbyRestarts')).toBe(restarts + 1);
    victim.close();
    bystander.close();
  });

  it.each([
    ['exit', /exit code 70/],
    ['uncaught', /injected uncaught error/],
    ['oom', /memory limit|out of memory/i],
  ] as const)(
    'a worker that dies (%s) has its lobbies restarted and is replaced; other workers carry on',
    async (kind, reason) => {
      const host = getHost(server);
      // Empty workers, so placement puts the two lobbies on different ones.
      for (const lobby of server.app.directory.list())
        await server.adminFetch(`/lobbies/${lobby.id}`, { method: 'DELETE' });
      await waitFor(() => host.workers.every((w) => w.lobbies.length === 0), 5000, 'workers empty');
      const a = await joinLobby(server, 'on-dying-worker');
      await waitFor(() => a.frames > 5, 10_000, 'a streaming');
      const dying = host.workers.find((w) => w.lobbies.includes('on-dying-worker'))!;
      // A lobby on the other worker, with a client that must not notice.
      const b = await joinLobby(server, 'elsewhere');
      await waitFor(() => b.frames > 5, 10_000, 'b streaming');
      const onOther = host.workers.find((w) => w.lobbies.includes('elsewhere'))!;
      expect(onOther.id).not.toBe(dying.id);
      const keyframes = a.keyframes;
      const crashes: string[] = [];
      server.app.directory.get('on-dying-worker')!.handle.onNotice((notice) => {
        if (notice.type === 'crashed') crashes.push(notice.error);
      });

      const rate = await ticksSeenShare(server, 'elsewhere', b, async () => {
        expect((await post(server, '/lobbies/on-dying-worker/fault', { kind })).status).toBe(202);
        await waitFor(() => a.keyframes > keyframes, 15_000, 'keyframe after the worker died');
        await waitFor(() => !host.workers.some((w) => w.id === dying.id), 5000, 'dead worker gone');
      });
      expect(host.workers.length).toBe(2);
      expect(crashes).toEqual([expect.stringMatching(reason)]);
      expect(a.closeCode).toBeUndefined();
      expect(rate).toBeGreaterThan(0.9);
      a.close();
      b.close();
    },
  );

  it('gives up after too many restarts: clients are closed with 1011 and others carry on', async () => {
    const doomed = await joinLobby(server, 'doomed');
    const fine = await joinLobby(server, 'fine');
    await waitFor(() => doomed.frames > 5 && fine.frames > 5, 10_000, 'streaming');
    const failures = await counter(server, 'lobbyFailures');
    for (let i = 0; i < 3 && doomed.closeCode === undefined; i++) {
      const keyframes = doomed.keyframes;
      await post(server, '/lobbies/doomed/fault', { kind: 'throw' });
      await waitFor(
        () => doomed.keyframes > keyframes || doomed.closeCode !== undefined,
        10_000,
        'restart or close',
      );
    }
    await waitFor(() => doomed.closeCode !== undefined, 10_000, 'doomed closed');
    expect(doomed.closeCode).toBe(1011);
    expect(await counter(server, 'lobbyFailures')).toBe(failures + 1);
    await waitFor(() => server.app.directory.get('doomed') === undefined, 5000, 'doomed removed');
    const before = fine.frames;
    await waitFor(() => fine.frames > before + 30, 5000, 'fine still streaming');
    fine.close();
  });

  it('refuses an unknown fault kind or lobby, and the lobby carries on', async () => {
    const client = await joinLobby(server, 'unharmed');
    await waitFor(() => client.frames > 5, 10_000, 'streaming');
    const crashes = await counter(server, 'lobbyCrashes');
    const bad = await post(server, '/lobbies/unharmed/fault', { kind: 'melt' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ message: expect.stringMatching(/kind/) });
    expect((await post(server, '/lobbies/nowhere/fault', { kind: 'oom' })).status).toBe(404);
    const frames = client.frames;
    await waitFor(() => client.frames > frames + 10, 10_000, 'still streaming');
    expect(await counter(server, 'lobbyCrashes')).toBe(crashes);
    expect(client.closeCode).toBeUndefined();
    client.close();
  });

  it('fault injection is off unless configured', async () => {
    const plain = await startServer({ workers: 0 });
    try {
      await post(plain, '/lobbies', { id: 'x', particles: 10 });
      expect((await post(plain, '/lobbies/x/fault', { kind: 'throw' })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

function getHost(server: TestServer): WorkerLobbyHost {
  const host = server.app.host;
  if (!(host instanceof WorkerLobbyHost)) throw new Error('expected a worker host');
  return host;
}
