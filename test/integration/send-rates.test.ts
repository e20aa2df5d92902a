import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

/** The TCP socket under a `ws` client, to stop reading from it. */
const tcp = (client: LobbyClient) =>
  (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;

async function counter(server: TestServer, name: string, labels: Record<string, string>) {
  const metric = await server.app.metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return match?.value ?? 0;
}

async function createLobby(server: TestServer, id: string, particles: number) {
  const res = await server.adminFetch('/lobbies', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, particles }),
  });
  expect(res.status).toBe(201);
}

describe('a send rate per client', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
    await createLobby(server, 'rates', 500);
  });
  afterAll(async () => server.close());

  it('a client that asks for 15 Hz is sent every 4th tick, on the ticks its class shares', async () => {
    const a: number[] = [];
    const b: number[] = [];
    const full: number[] = [];
    const slowA = await joinLobby(server, 'rates', { frame: (m) => a.push(m.tick) });
    const slowB = await joinLobby(server, 'rates', { frame: (m) => b.push(m.tick) });
    const fast = await joinLobby(server, 'rates', { frame: (m) => full.push(m.tick) });
    slowA.requestRate(15);
    slowB.requestRate(15);
    const skippedBefore = await counter(server, 'swarmhost_frames_skipped_total', {
      reason: 'rate',
    });
    await waitFor(() => a.length > 12 && b.length > 12, 10_000, 'frames at 15 Hz');
    // After the ask lands: every gap a multiple of 4 ticks, on ticks ≡ 0 mod 4.
    const settled = (ticks: number[]) => ticks.slice(ticks.length - 8);
    for (const ticks of [settled(a), settled(b)]) {
      for (const tick of ticks) expect(tick % 4).toBe(0);
      for (let i = 1; i < ticks.length; i++) expect((ticks[i] - ticks[i - 1]) % 4).toBe(0);
    }
    // The 60 Hz client still gets consecutive ticks.
    const recent = settled(full);
    expect(recent.filter((tick, i) => i > 0 && tick - recent[i - 1] === 1).length).toBeGreaterThan(
      4,
    );
    const lobby = server.app.directory.get('rates')!;
    const session = (client: LobbyClient) => lobby.feed.client(client.welcome!.clientId)!;
    expect(lobby.feed.sendRate(session(slowA))).toBe(15);
    expect(lobby.feed.sendRate(session(fast))).toBe(60);
    expect(await counter(server, 'swarmhost_client_send_rate_clients', { hz: '15' })).toBe(2);
    expect(
      await counter(server, 'swarmhost_frames_skipped_total', { reason: 'rate' }),
    ).toBeGreaterThan(skippedBefore);

    // Asking for more than the server's cap gets the cap.
    await server.adminFetch('/config', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sendRate: 20 }),
    });
    slowA.requestRate(60);
    await waitFor(() => lobby.feed.sendRate(session(slowA)) === 20, 5000, 'capped at 20');
    expect(lobby.feed.sendRate(session(slowB))).toBe(15);
    await server.adminFetch('/config', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sendRate: 60 }),
    });
    for (const client of [slowA, slowB, fast]) client.close();
  });

  it('refuses rates it does not offer with an answer, and the client carries on', async () => {
    const client = await joinLobby(server, 'rates');
    const bad: Array<[object, string]> = [
      [{ t: 'rate', hz: 7 }, 'out_of_range'],
      [{ t: 'rate', hz: 0 }, 'out_of_range'],
      [{ t: 'rate', hz: -60 }, 'out_of_range'],
      [{ t: 'rate', hz: 60.5 }, 'out_of_range'],
      [{ t: 'rate', hz: 2 ** 32 }, 'out_of_range'],
      [{ t: 'rate', hz: 2 ** 53 + 2 }, 'out_of_range'],
      [{ t: 'rate', hz: Number.NaN }, 'out_of_range'],
      [{ t: 'rate', hz: '60' }, 'invalid_message'],
      [{ t: 'rate' }, 'invalid_message'],
      [{ t: 'rate', hz: 'ßpeed ✓ 🚀' }, 'invalid_message'],
    ];
    const invalidBefore = await counter(server, 'swarmhost_inputs_total', { result: 'invalid' });
    const rangeBefore = await counter(server, 'swarmhost_inputs_total', { result: 'out_of_range' });
    for (const [message] of bad) client.sendRaw(message);
    await waitFor(() => client.errors.length >= bad.length, 5000, 'an answer to each');
    expect(client.errors.map((e) => e.code)).toEqual(bad.map(([, code]) => code));
    expect(await counter(server, 'swarmhost_inputs_total', { result: 'invalid' })).toBe(
      invalidBefore + 3,
    );
    expect(await counter(server, 'swarmhost_inputs_total', { result: 'out_of_range' })).toBe(
      rangeBefore + 7,
    );
    const frames = client.frames;
    await waitFor(() => client.frames > frames + 10, 5000, 'frames go on');
    expect(client.closeCode).toBeUndefined();
    const lobby = server.app.directory.get('rates')!;
    expect(lobby.feed.sendRate(lobby.feed.client(client.welcome!.clientId)!)).toBe(60);
    client.close();
  });
});

describe('the server lowers the rate of a client that cannot keep up, and raises it again', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({
      sendHighWaterBytes: 256 * 1024,
      rateBacklogBytes: 8 * 1024,
      rateWindowMs: 200,
      rateRaiseAfterMs: 400,
    });
    await createLobby(server, 'congested', 20_000);
  });
  afterAll(async () => server.close());

  it('steps a stalled reader down the ladder and back up once it reads again', async () => {
    const fast = await joinLobby(server, 'congested');
    const slow = await joinLobby(server, 'congested');
    await waitFor(() => fast.frames > 5 && slow.frames > 5, 5000, 'both streaming');
    const lobby = server.app.directory.get('congested')!;
    const slowSession = lobby.feed.client(slow.welcome!.clientId)!;
    const fastSession = lobby.feed.client(fast.welcome!.clientId)!;
    const downBefore = await counter(server, 'swarmhost_send_rate_changes_total', {
      direction: 'down',
    });

    tcp(slow).pause();
    await waitFor(() => lobby.feed.sendRate(slowSession) === 10, 15_000, 'slow one at 10 Hz');
    expect(lobby.feed.sendRate(fastSession)).toBe(60);
    expect(
      await counter(server, 'swarmhost_send_rate_changes_total', { direction: 'down' }),
    ).toBeGreaterThanOrEqual(downBefore + 4);

    tcp(slow).resume();
    await waitFor(() => lobby.feed.sendRate(slowSession) === 60, 30_000, 'back at 60 Hz');
    expect(
      await counter(server, 'swarmhost_send_rate_changes_total', { direction: 'up' }),
    ).toBeGreaterThanOrEqual(4);
    // It is streaming again, in step with the lobby.
    const frames = slow.frames;
    await waitFor(() => slow.frames > frames + 30, 10_000, 'streaming again');
    fast.close();
    slow.close();
  });
});
