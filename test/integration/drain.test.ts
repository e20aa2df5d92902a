/**
 * Draining: every lobby tells its clients to reconnect (4005), and
 * `drainAll` resolves as soon as the last lobby has gone, not at a poll
 * tick or at its timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/close-codes.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

describe('drainAll', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 0, defaultParticles: 100, closeGraceMs: 10_000 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('resolves at once when there is nothing to drain', async () => {
    const started = performance.now();
    await server.app.directory.drainAll(10_000);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('closes clients with 4005 and resolves when the last lobby has gone, long before its timeout', async () => {
    const clients = await Promise.all(['a', 'b', 'c'].map((id) => joinLobby(server, id)));
    await waitFor(() => clients.every((c) => c.frames > 0), 5000, 'frames');
    const started = performance.now();
    await server.app.directory.drainAll(10_000);
    const took = performance.now() - started;
    expect(server.app.directory.size).toBe(0);
    // The clients answer the close at once, so the lobbies go at once: not
    // after the 10 s grace or the 10 s timeout.
    expect(took).toBeLessThan(3000);
    await waitFor(() => clients.every((c) => c.closeCode !== undefined), 5000, 'closes');
    for (const client of clients) expect(client.closeCode).toBe(CloseCode.draining);
  });
});
