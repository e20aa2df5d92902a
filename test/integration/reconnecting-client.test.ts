/**
 * The reconnect loop bots and the browser share, against real servers: a
 * draining instance (4005) sends the client on to another instance (here the
 * test's createSocket plays the load balancer), and a lobby closed by the
 * API (4004) is rejoined on the same one, created anew.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/close-codes.js';
import type { SocketLike } from '../../protocol/lobby-client.js';
import { ReconnectingLobbyClient } from '../../protocol/reconnecting-client.js';
import { openSocket, startServer, type TestServer, waitFor } from '../support/server.js';

describe('ReconnectingLobbyClient against real servers', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all(
      [0, 1].map(() => startServer({ workers: 0, defaultParticles: 100, closeGraceMs: 10_000 })),
    );
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('follows a drain to another instance, and rejoins a lobby closed by the API', async () => {
    // The "load balancer": A until A drains, then B.
    let target = a;
    const client = new ReconnectingLobbyClient({
      url: a.wsUrl('roaming'),
      createSocket: () => openSocket(target.wsUrl('roaming')) as unknown as SocketLike,
    }).start();
    try {
      await waitFor(() => client.tick >= 0, 5000, 'frames from A');
      target = b;
      await a.app.directory.drainAll(10_000);
      await waitFor(
        () => client.welcomes.length === 2 && (client.decoder?.tick ?? -1) >= 0,
        5000,
        'B',
      );
      expect(client.connections[0].closeCode).toBe(CloseCode.draining);
      expect(client.welcomes[0].instanceId).not.toBe(client.welcomes[1].instanceId);
      expect(client.decoder?.count).toBe(100);

      const deleted = await b.adminFetch('/lobbies/roaming', { method: 'DELETE' });
      expect(deleted.status).toBe(202);
      await waitFor(() => client.welcomes.length === 3, 5000, 'the lobby created anew');
      expect(client.connections[1].closeCode).toBe(CloseCode.lobbyClosed);
      expect(client.welcomes[2].instanceId).toBe(client.welcomes[1].instanceId);
      expect(client.reconnects).toBe(2);
      expect(client.state).toEqual({ kind: 'live' });
    } finally {
      client.stop();
    }
  });
});
