/**
 * When frames come faster than the main thread fans them out, the ones it
 * has not got to are folded into one fan-out of the newest: every client
 * gets the newest frame (a delta across the gap, decoded exactly), the
 * folded ones are counted, and the event loop is not held by a backlog.
 *
 * A fake clock makes it deterministic: advancing it several ticks in one
 * synchronous step delivers several frames before the main thread's next
 * turn, which is what a fan-out slower than a tick looks like.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../lobbies/fake-clock.js';
import { metricValue } from '../support/metrics.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const TICK_MS = 1000 / 60;
const SUPERSEDED = 'swarmhost_frames_superseded_total';

/** A turn of the event loop: the fan-out runs in the check phase after the frames' turn. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('frames that arrive faster than the fan-out', () => {
  const clock = new FakeClock(1_000_000);
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({}, { clock });
  });
  afterAll(() => server.close());

  const superseded = (lobby: string) => metricValue(server, SUPERSEDED, { lobby });

  it('are folded into one fan-out of the newest, counted, and decoded exactly', async () => {
    const client = await joinLobby(server, 'folding');
    // Tick one at a time until the client holds a delta (a keyframe, then deltas).
    await waitFor(
      () => {
        clock.advance(TICK_MS);
        return client.frames >= 3;
      },
      5000,
      'three frames, one tick at a time',
    );
    // The last tick's frame is on its way: let it land before counting.
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = { frames: client.frames, superseded: await superseded('folding') };
    const tickBefore = client.decoder!.tick;

    // Five ticks before the main thread's next turn: five frames, one fan-out.
    clock.advance(5 * TICK_MS);
    await waitFor(() => client.decoder!.tick >= tickBefore + 5, 5000, 'the newest frame');
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(client.decoder!.tick).toBe(tickBefore + 5);
    expect(client.frames - before.frames).toBe(1);
    expect((await superseded('folding')) - before.superseded).toBe(4);
    // The gap is a delta the client decoded (a decode error would close it).
    expect(client.keyframes).toBe(1);
    expect(client.closeCode).toBeUndefined();

    // One tick per turn again: nothing folded.
    for (let i = 0; i < 3; i++) {
      clock.advance(TICK_MS);
      await waitFor(() => client.decoder!.tick === tickBefore + 6 + i, 5000, `tick ${i}`);
    }
    expect((await superseded('folding')) - before.superseded).toBe(4);
    client.close();
  });
});
