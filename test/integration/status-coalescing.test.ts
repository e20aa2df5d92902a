import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage } from '../../protocol/envelope.js';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

/** Every status message a client receives, as sent (not merged). */
function recordStatuses(client: LobbyClient): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  client.socket.addEventListener('message', (event: { data: unknown }) => {
    const decoded = decodeMessage(new Uint8Array(event.data as ArrayBuffer));
    if (decoded.ok && (decoded.value as { t?: string }).t === 'status')
      seen.push(decoded.value as Record<string, unknown>);
  });
  return seen;
}

const JOINERS = 40;

describe('status is coalesced per lobby per tick and carries only what changed', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    const res = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'crowd', particles: 200 }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => server.close());

  it('a burst of joins costs each watcher a few statuses, not one per join', async () => {
    const watcher = await joinLobby(server, 'crowd');
    const raw = recordStatuses(watcher);
    await waitFor(
      () => watcher.status?.clients === 1 && watcher.status.phase === 'running',
      5000,
      'watcher counted',
    );
    raw.length = 0;
    const tickBefore = watcher.status!.tick;

    const joiners = await Promise.all(
      Array.from({ length: JOINERS }, () => joinLobby(server, 'crowd')),
    );
    await waitFor(
      () => watcher.status?.clients === JOINERS + 1,
      10_000,
      `watcher sees ${JOINERS + 1} clients`,
    );
    const ticks = watcher.status!.tick - tickBefore;

    // One status per join would be JOINERS; coalesced, at most one per tick,
    // and the joins landed within far fewer ticks than that here.
    expect(raw.length).toBeGreaterThan(0);
    expect(raw.length).toBeLessThanOrEqual(Math.max(1, ticks + 1));
    expect(raw.length).toBeLessThan(JOINERS);
    // Each names its lobby and tick and only the fields that changed: the
    // cap and the phase did not.
    for (const status of raw) {
      expect(status).toMatchObject({ t: 'status', lobbyId: 'crowd' });
      expect(typeof status.tick).toBe('number');
      expect(status).not.toHaveProperty('maxParticles');
      expect(status).not.toHaveProperty('phase');
      expect(status).toHaveProperty('clients');
    }
    // Ticks never go backwards, and no two statuses share a tick.
    const ticksSeen = raw.map((s) => s.tick as number);
    expect([...ticksSeen].sort((a, b) => a - b)).toEqual(ticksSeen);
    expect(new Set(ticksSeen).size).toBe(ticksSeen.length);

    // A late joiner's first status is the whole view; its merged view agrees.
    const late = await joinLobby(server, 'crowd');
    await waitFor(() => late.status?.clients === JOINERS + 2, 5000, 'late joiner counted');
    expect(late.status).toMatchObject({
      lobbyId: 'crowd',
      phase: 'running',
      particles: 200,
      maxParticles: expect.any(Number),
    });
    await waitFor(() => watcher.status?.clients === JOINERS + 2, 5000, 'watcher counted late');
    expect(watcher.status).toMatchObject({ phase: 'running', particles: 200 });

    for (const joiner of joiners) joiner.close();
    late.close();
    await waitFor(() => watcher.status?.clients === 1, 10_000, 'leaves counted');
    watcher.close();
  });

  it('a status that changed nothing but the tick is not sent', async () => {
    const watcher = await joinLobby(server, 'crowd');
    const raw = recordStatuses(watcher);
    await waitFor(() => watcher.status?.clients === 1, 5000, 'alone');
    raw.length = 0;
    const framesBefore = watcher.frames;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Frames keep coming (ticks advance) but nobody joined or spawned.
    expect(watcher.frames - framesBefore).toBeGreaterThan(5);
    expect(raw).toEqual([]);
    watcher.close();
  });
});
