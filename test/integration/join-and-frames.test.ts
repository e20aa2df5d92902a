import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { PROTOCOL_VERSION } from '../../protocol/version.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const digest = (positions: Uint16Array) =>
  createHash('sha1')
    .update(new Uint8Array(positions.buffer, positions.byteOffset, positions.byteLength))
    .digest('hex');

describe('joining by URL and receiving frames', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 2000 });
  });
  afterAll(async () => server.close());

  it('welcomes with the lobby, tick rate, world and protocol, then a keyframe', async () => {
    const client = await joinLobby(server, 'welcome-test');
    expect(client.welcome).toMatchObject({
      t: 'welcome',
      v: PROTOCOL_VERSION,
      lobbyId: 'welcome-test',
      tickRate: 60,
      worldSize: 1000,
      quantBits: 14,
      instanceId: server.app.config.instanceId,
    });
    expect(client.welcome!.clientId).toBeGreaterThan(0);
    await waitFor(() => client.frames >= 1, 5000, 'first frame');
    expect(client.keyframes).toBe(1);
    expect(client.decoder!.count).toBe(2000);
    expect(client.status).toMatchObject({
      t: 'status',
      lobbyId: 'welcome-test',
      phase: 'running',
      clients: 1,
    });
    client.close();
  });

  it("stamps each frame with its send time on the server's clock, sub-millisecond", async () => {
    const sent: number[] = [];
    const before = Date.now();
    const client = await joinLobby(server, 'send-time', {
      frame: (frame) => sent.push(frame.sent),
    });
    await waitFor(() => sent.length >= 10, 5000, '10 frames');
    const decodedAt = performance.timeOrigin + performance.now();
    // Same process, same clock: every stamp lies between the join and now.
    for (const at of sent) {
      expect(at).toBeGreaterThanOrEqual(before - 1);
      expect(at).toBeLessThanOrEqual(decodedAt);
    }
    expect(sent.some((at) => !Number.isInteger(at))).toBe(true);
    client.close();
  });

  it('two clients of one lobby see the same ticks with identical particles', async () => {
    const seen = [new Map<number, string>(), new Map<number, string>()];
    const clients: LobbyClient[] = [];
    for (const i of [0, 1]) {
      clients.push(
        await joinLobby(server, 'shared', {
          frame: (frame, client) => seen[i].set(frame.tick, digest(client.decoder!.positions)),
        }),
      );
    }
    await waitFor(() => seen[0].size > 40 && seen[1].size > 40, 5000, '40 frames each');
    const common = [...seen[0].keys()].filter((tick) => seen[1].has(tick));
    expect(common.length).toBeGreaterThan(30);
    for (const tick of common) expect(seen[1].get(tick)).toBe(seen[0].get(tick));
    // Consecutive ticks: nobody is throttled on an idle loopback.
    const ticks = [...seen[0].keys()];
    expect(ticks.at(-1)! - ticks[0]).toBeLessThan(ticks.length * 1.5);
    for (const c of clients) c.close();
  });

  it("keyframe + deltas reconstruct exactly the server's quantized state", async () => {
    const { handle } = server.app.directory.get('shared') ?? { handle: undefined };
    const client = await joinLobby(server, 'exact');
    const lobby = server.app.directory.get('exact')!;
    expect(handle === undefined || handle !== lobby.handle).toBe(true);
    let compared = 0;
    let mismatches = 0;
    const onFrame = () => {
      const frames = lobby.handle.frames;
      for (let seq = frames.newestSeq; seq >= frames.oldestSeq && seq >= 0; seq--) {
        const frame = frames.get(seq)!;
        if (frame.tick !== client.decoder!.tick) continue;
        const ours = frame.positions.subarray(0, frame.count * 2);
        if (digest(ours) !== digest(client.decoder!.positions)) mismatches++;
        compared++;
        return;
      }
    };
    const socket = client.socket as unknown as { addEventListener(t: string, l: () => void): void };
    socket.addEventListener('message', onFrame);
    await waitFor(() => compared > 60, 5000, '60 compared frames');
    expect(mismatches).toBe(0);
    expect(client.frames - client.keyframes).toBeGreaterThan(50);
    client.close();
  });

  it('sends one first-order delta after the keyframe, then second-order deltas from the frame before their base', async () => {
    const headers: { kind: string; tick: number; base?: number; prior?: number }[] = [];
    const client = await joinLobby(server, 'second-order', {
      frame: ({ kind, tick, base, prior }) => headers.push({ kind, tick, base, prior }),
    });
    await waitFor(() => headers.length >= 30, 5000, '30 frames');
    expect(headers[0]).toMatchObject({ kind: 'key', base: undefined, prior: undefined });
    expect(headers[1]).toMatchObject({ kind: 'delta', base: headers[0].tick, prior: undefined });
    for (let i = 2; i < headers.length; i++) {
      // What the client holds after a delta: that frame and its base.
      expect(headers[i]).toMatchObject({
        kind: 'delta',
        base: headers[i - 1].tick,
        prior: headers[i - 1].base,
      });
    }
    // The decoder followed every one of them (it throws on a prior it does not hold).
    expect(client.decoder!.tick).toBe(headers.at(-1)!.tick);
    expect(client.decoder!.priorTick).toBe(headers.at(-1)!.base);
    client.close();
  });

  it('ping answers with pong', async () => {
    const client = await joinLobby(server, 'ping');
    const rtt = await client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    client.close();
  });
});
