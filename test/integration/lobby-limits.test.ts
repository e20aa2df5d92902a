/**
 * Per-instance limits over real sockets: how many lobbies, how many clients
 * in one lobby, which origins may open sockets; and what two clients of the
 * same lobby learn about each other. Each limit gets its own server so one
 * limit never masks another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import { LobbyClient, type SocketLike } from '../../protocol/lobby-client.js';
import type { LobbyStatus } from '../../protocol/messages.js';
import {
  closed,
  joinLobby,
  openSocket,
  startServer,
  type TestServer,
  waitFor,
} from '../support/server.js';

const PARTICLES = 300;

/** Closes every client still open and waits until the server has seen them go. */
async function closeAll(clients: LobbyClient[]): Promise<void> {
  for (const client of clients) {
    if (client.socket.readyState === WebSocket.OPEN) client.close(1000);
  }
  await waitFor(() => clients.every((c) => c.closeCode !== undefined), 5000, 'clients closed');
}

async function lobbyIds(server: TestServer): Promise<string[]> {
  const res = await fetch(`${server.http}/lobbies`);
  expect(res.status).toBe(200);
  return ((await res.json()).lobbies as LobbyStatus[]).map((l) => l.id).sort();
}

async function refusals(server: TestServer, reason: string): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const match = new RegExp(
    `^swarmhost_handshakes_refused_total\\{reason="${reason}"\\} (\\S+)$`,
    'm',
  ).exec(text);
  return match ? Number(match[1]) : 0;
}

describe('maxLobbies', () => {
  let server: TestServer;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    server = await startServer({ maxLobbies: 2, defaultParticles: PARTICLES });
  });
  afterAll(async () => {
    await closeAll(clients);
    await server?.close();
  });

  it('joining a third new lobby id closes with 4003', async () => {
    for (const id of ['limit-1', 'limit-2']) {
      const client = await joinLobby(server, id);
      clients.push(client);
      expect(client.closeCode).toBeUndefined();
      expect(client.welcome?.lobbyId).toBe(id);
    }
    const third = await joinLobby(server, 'limit-3');
    clients.push(third);
    expect(third.welcome).toBeUndefined();
    expect(third.closeCode).toBe(CloseCode.tooManyLobbies);
    expect(await lobbyIds(server)).toEqual(['limit-1', 'limit-2']);
    expect(await refusals(server, 'too_many_lobbies')).toBe(1);
  });

  it('joining an existing lobby still works at the limit', async () => {
    const client = await joinLobby(server, 'limit-1');
    clients.push(client);
    expect(client.closeCode).toBeUndefined();
    expect(client.welcome?.lobbyId).toBe('limit-1');
    await waitFor(() => client.status?.clients === 2, 5000, 'two clients in limit-1');
  });

  it('POST /lobbies at the limit → 503 too_many_lobbies', async () => {
    const res = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'limit-rest', particles: PARTICLES }),
    });
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body.error).toBe('too_many_lobbies');
    expect(typeof body.message).toBe('string');
    expect(await lobbyIds(server)).toEqual(['limit-1', 'limit-2']);
  });

  it('a deleted lobby frees its slot', async () => {
    const res = await server.adminFetch('/lobbies/limit-2', { method: 'DELETE' });
    expect(res.status).toBe(202);
    await waitFor(() => server.app.directory.get('limit-2') === undefined, 5000, 'limit-2 removed');
    const client = await joinLobby(server, 'limit-3');
    clients.push(client);
    expect(client.closeCode).toBeUndefined();
    expect(client.welcome?.lobbyId).toBe('limit-3');
    expect(await lobbyIds(server)).toEqual(['limit-1', 'limit-3']);
  });
});

describe('maxClientsPerLobby', () => {
  let server: TestServer;
  const clients: LobbyClient[] = [];
  beforeAll(async () => {
    server = await startServer({ maxClientsPerLobby: 2, defaultParticles: PARTICLES });
  });
  afterAll(async () => {
    await closeAll(clients);
    await server?.close();
  });

  it('a third client closes with 4002', async () => {
    const a = await joinLobby(server, 'full');
    const b = await joinLobby(server, 'full');
    clients.push(a, b);
    expect(a.closeCode).toBeUndefined();
    expect(b.closeCode).toBeUndefined();
    const c = await joinLobby(server, 'full');
    clients.push(c);
    expect(c.welcome).toBeUndefined();
    expect(c.closeCode).toBe(CloseCode.lobbyFull);
    // The refused client never counted.
    const frames = a.frames;
    await waitFor(() => a.frames > frames + 2, 5000, 'a keeps receiving frames');
    expect(a.status?.clients).toBe(2);
    expect(server.app.directory.get('full')?.handle.currentStatus().clients).toBe(2);
    expect(await refusals(server, 'lobby_full')).toBe(1);
  });

  it('a client that leaves frees its place', async () => {
    const [a, b] = clients;
    a.close(1000);
    await waitFor(() => b.status?.clients === 1, 5000, 'b sees a leave');
    const d = await joinLobby(server, 'full');
    clients.push(d);
    expect(d.closeCode).toBeUndefined();
    expect(d.welcome?.lobbyId).toBe('full');
    await waitFor(() => b.status?.clients === 2, 5000, 'b sees d join');
  });

  it('another lobby is not affected by a full one', async () => {
    const e = await joinLobby(server, 'other');
    clients.push(e);
    expect(e.closeCode).toBeUndefined();
    expect(e.welcome?.lobbyId).toBe('other');
  });
});

describe('allowedOrigins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      allowedOrigins: ['http://good.example'],
      defaultParticles: PARTICLES,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function withOrigin(headers: Record<string, string>): Promise<LobbyClient> {
    const socket = openSocket(server.wsUrl('origins'), headers);
    socket.on('error', () => {
      // Surfaces as the close code.
    });
    const client = new LobbyClient(socket as unknown as SocketLike);
    await waitFor(
      () => client.welcome !== undefined || client.closeCode !== undefined,
      5000,
      'welcome or close',
    );
    return client;
  }

  /** The HTTP status an upgrade request with these headers gets, and its body. */
  function upgradeStatus(
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = openSocket(server.wsUrl('origins'), headers);
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      socket.on('open', () => reject(new Error('upgraded: the origin check must come first')));
      socket.on('error', () => {});
    });
  }

  it('a socket from another origin gets 403 before the upgrade', async () => {
    const answer = await upgradeStatus({ Origin: 'http://evil.example' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error).toBe('origin_not_allowed');
  });

  it('a socket without an Origin gets 403', async () => {
    expect((await upgradeStatus({})).status).toBe(403);
  });

  it('an origin differing only in scheme or port gets 403', async () => {
    for (const origin of ['https://good.example', 'http://good.example:8080']) {
      expect((await upgradeStatus({ Origin: origin })).status, origin).toBe(403);
    }
  });

  it('a socket from the allowed origin joins', async () => {
    const client = await withOrigin({ Origin: 'http://good.example' });
    expect(client.closeCode).toBeUndefined();
    expect(client.welcome?.lobbyId).toBe('origins');
    await waitFor(() => client.frames > 0, 5000, 'first frame');
    const socket = client.socket as unknown as WebSocket;
    const done = closed(socket);
    client.close(1000);
    expect((await done).code).toBe(1000);
  });

  it('refused origins create no lobby and are counted', async () => {
    // Only the allowed client created 'origins'.
    expect(await lobbyIds(server)).toEqual(['origins']);
    expect(await refusals(server, 'origin')).toBe(4);
    // Refused before the upgrade: no socket was opened, so none was closed.
    const text = await (await fetch(`${server.http}/metrics`)).text();
    expect(text).toMatch(/^swarmhost_ws_closes_total\{code="1008"\} 0$/m);
  });
});

describe('two clients in one lobby', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: PARTICLES });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('share the lobby id and see each other in status.clients', async () => {
    const a = await joinLobby(server, 'pair');
    const b = await joinLobby(server, 'pair');
    try {
      expect(a.welcome?.lobbyId).toBe('pair');
      expect(b.welcome?.lobbyId).toBe('pair');
      expect(a.welcome?.clientId).not.toBe(b.welcome?.clientId);
      expect(a.welcome?.instanceId).toBe(b.welcome?.instanceId);
      await waitFor(() => a.status?.clients === 2, 5000, 'a sees 2 clients');
      await waitFor(() => b.status?.clients === 2, 5000, 'b sees 2 clients');
      expect(a.status).toMatchObject({ lobbyId: 'pair', phase: 'running', particles: PARTICLES });
      expect(b.status).toMatchObject({ lobbyId: 'pair', phase: 'running', particles: PARTICLES });
      // Both see the same world.
      await waitFor(() => a.frames > 0 && b.frames > 0, 5000, 'frames for both');
      expect(a.decoder?.count).toBe(PARTICLES);
      expect(b.decoder?.count).toBe(PARTICLES);

      b.close(1000);
      await waitFor(() => a.status?.clients === 1, 5000, 'a sees b leave');
      expect(a.status?.phase).toBe('running');
      a.close(1000);
      await waitFor(
        () => server.app.directory.get('pair')?.handle.status.get().phase === 'idle',
        5000,
        'lobby idle without clients',
      );
    } finally {
      for (const c of [a, b]) if (c.socket.readyState === WebSocket.OPEN) c.close(1000);
    }
  });
});
