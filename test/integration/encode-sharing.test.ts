import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

describe('frame encoding is shared by clients in step', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 2000 });
  });
  afterAll(async () => server.close());

  const encodes = async () => {
    const metric = await server.app.metrics.frameEncodes.get();
    return metric.values.reduce((sum, v) => sum + v.value, 0);
  };

  /** Encodes per tick over `ticks` ticks, once every client is streaming. */
  const encodesPerTick = async (clients: LobbyClient[], ticks: number) => {
    const { handle } = server.app.directory.get('memo')!;
    await waitFor(() => clients.every((c) => c.frames > 10), 10_000, 'all clients streaming');
    const e0 = await encodes();
    const t0 = handle.tick;
    await waitFor(() => handle.tick >= t0 + ticks, 10_000, `${ticks} ticks`);
    return ((await encodes()) - e0) / (handle.tick - t0);
  };

  it('costs about one encode per tick for 1 client and for 50', async () => {
    const clients = [await joinLobby(server, 'memo')];
    const one = await encodesPerTick(clients, 60);
    for (let i = 1; i < 50; i++) clients.push(await joinLobby(server, 'memo'));
    const fifty = await encodesPerTick(clients, 60);
    const sent = await server.app.metrics.framesSent.get();
    expect(sent.values.reduce((sum, v) => sum + v.value, 0)).toBeGreaterThan(50 * 10);
    // One delta per (base, tick); a client briefly out of step adds a little.
    expect(one).toBeLessThan(1.2);
    expect(fifty).toBeLessThan(2);
    expect(fifty).toBeLessThan(one * 50 * 0.1);
    for (const c of clients) c.close();
  });
});
