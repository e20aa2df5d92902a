import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyClient } from '../../protocol/lobby-client.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

/** The TCP socket under a `ws` client, to stop reading from it. */
const tcp = (client: LobbyClient) =>
  (client.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;

const HIGH_WATER = 64 * 1024;

describe('a client that stops reading', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ sendHighWaterBytes: HIGH_WATER, frameRing: 16 });
    const res = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'slow', particles: 20_000 }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => server.close());

  it('is skipped and bounded while the other keeps full rate, then resyncs with a keyframe', async () => {
    const fast = await joinLobby(server, 'slow');
    const slow = await joinLobby(server, 'slow');
    await waitFor(() => fast.frames > 5 && slow.frames > 5, 5000, 'both streaming');
    const lobby = server.app.directory.get('slow')!;
    const slowSession = lobby.feed.client(slow.welcome!.clientId)!;

    tcp(slow).pause();
    const tickAtPause = lobby.handle.tick;
    const fastAtPause = fast.frames;
    let maxBuffered = 0;
    await waitFor(
      () => {
        maxBuffered = Math.max(maxBuffered, slowSession.bufferedBytes);
        return lobby.feed.framesSkipped(slowSession) > 60;
      },
      20_000,
      'frames skipped for the paused client',
    );
    const ticks = lobby.handle.tick - tickAtPause;
    const fastFrames = fast.frames - fastAtPause;
    // The fast client got (nearly) every tick while the slow one was stuck.
    expect(fastFrames / ticks).toBeGreaterThan(0.9);
    // Memory held for the stuck client stays under the mark plus one frame.
    const keyframeBytes = 20_000 * 4 + 64;
    expect(maxBuffered).toBeLessThanOrEqual(HIGH_WATER + keyframeBytes);
    const skipped = await server.app.metrics.framesSkipped.get();
    expect(skipped.values.find((v) => v.labels.reason === 'backpressure')!.value).toBeGreaterThan(
      60,
    );

    const keyframesBefore = slow.keyframes;
    tcp(slow).resume();
    // Its base left the 16-frame ring long ago: the next frame must be a keyframe.
    await waitFor(() => slow.keyframes > keyframesBefore, 10_000, 'resync keyframe');
    await waitFor(
      () => slow.frames > 0 && slow.decoder!.tick >= lobby.handle.tick - 5,
      10_000,
      'caught up',
    );
    let compared = 0;
    for (let seq = lobby.handle.frames.newestSeq; seq >= lobby.handle.frames.oldestSeq; seq--) {
      const f = lobby.handle.frames.get(seq)!;
      if (f.tick !== slow.decoder!.tick) continue;
      compared++;
      expect(
        Buffer.from(
          slow.decoder!.positions.buffer,
          slow.decoder!.positions.byteOffset,
          f.count * 4,
        ),
      ).toEqual(Buffer.from(f.positions.buffer, 0, f.count * 4));
    }
    expect(compared).toBe(1);
    fast.close();
    slow.close();
  });
});
