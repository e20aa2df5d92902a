import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { particlesNear } from '../support/particles.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const near = particlesNear;

describe('inputs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 3000 });
  });
  afterAll(async () => server.close());

  it('attract gathers particles at the point and is acknowledged', async () => {
    const client = await joinLobby(server, 'attract');
    await waitFor(() => client.frames > 2, 5000, 'frames');
    const before = near(client, 500, 500, 100);
    const seq = client.sendInput(500, 500, 'attract');
    await waitFor(() => client.ack >= seq, 5000, 'ack');
    expect(client.ack).toBe(seq);
    const tick = client.decoder!.tick;
    await waitFor(() => client.decoder!.tick > tick + 150, 10_000, '150 ticks');
    const after = near(client, 500, 500, 100);
    expect(after).toBeGreaterThan(before * 2);
    expect(client.errors).toEqual([]);
    client.close();
  });

  it('repel empties the area around the point', async () => {
    const client = await joinLobby(server, 'repel');
    await waitFor(() => client.frames > 2, 5000, 'frames');
    const before = near(client, 250, 750, 60);
    const seq = client.sendInput(250, 750, 'repel');
    await waitFor(() => client.ack >= seq, 5000, 'ack');
    const tick = client.decoder!.tick;
    await waitFor(() => client.decoder!.tick > tick + 120, 10_000, '120 ticks');
    expect(near(client, 250, 750, 60)).toBeLessThan(Math.max(1, before / 2));
    client.close();
  });

  it('spawn adds particles that every client sees, with a status update', async () => {
    const a = await joinLobby(server, 'spawn');
    const b = await joinLobby(server, 'spawn');
    await waitFor(() => a.frames > 0 && b.frames > 0, 5000, 'frames');
    const seq = a.spawn(100, 900, 250);
    await waitFor(() => a.ack >= seq, 5000, 'ack');
    await waitFor(
      () => b.decoder!.count === 3250 && a.decoder!.count === 3250,
      5000,
      'spawned particles',
    );
    await waitFor(() => b.status?.particles === 3250, 5000, 'status update');
    // The spawned tail is near the point where it was spawned.
    expect(near(a, 100, 900, 60)).toBeGreaterThanOrEqual(200);
    a.close();
    b.close();
  });

  it('a client leaving shows in the status others get', async () => {
    const a = await joinLobby(server, 'leave');
    const b = await joinLobby(server, 'leave');
    await waitFor(() => b.frames > 2, 5000, 'frames');
    a.sendInput(800, 200, 'attract');
    a.close();
    await waitFor(() => b.status?.clients === 1, 5000, 'leave seen in status');
    b.close();
  });
});
