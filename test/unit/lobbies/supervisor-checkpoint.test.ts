/**
 * What a restart starts from: the newest checkpoint (its world, with the
 * particles spawned before it), else the checkpoint the lobby was resumed
 * from, else the seed; ticks go on from where the crashed one stopped.
 */
import { describe, expect, it } from 'vitest';
import type { RestartPolicy } from '../../../lobbies/supervisor.js';
import { World } from '../../../lobbies/world/world.js';
import { quantBitsFor, quantizePositions } from '../../../protocol/quantize.js';
import { bytesOf, drivenLobby, STEP_MS } from './driven-lobby.js';

const RESTARTS: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, backoffMs: 100 };

/** A lobby of 400 that grew to 700 by a spawn, then ran on. */
function grownLobby(particleBudget?: number) {
  const lobby = drivenLobby({}, RESTARTS, particleBudget);
  lobby.handle.join(1);
  lobby.ticks(3);
  lobby.handle.trySend(1, { t: 'spawn', seq: 0, x: 300, y: 300, count: 300 });
  lobby.ticks(4);
  return lobby;
}

function crashAndRestart(lobby: ReturnType<typeof drivenLobby>) {
  lobby.handle.injectFault('throw');
  lobby.clock.advance(STEP_MS);
  expect(lobby.handle.status.get().phase).toBe('restarting');
  lobby.clock.advance(RESTARTS.backoffMs);
  expect(lobby.handle.status.get().phase).toBe('running');
}

describe('a supervised lobby restarts', () => {
  it('from its newest checkpoint: the particles spawned before it are still there', async () => {
    const lobby = grownLobby(5000);
    const { handle, frames, notices, ticks } = lobby;
    const checkpoint = await handle.checkpoint();
    expect(checkpoint.world.count).toBe(700);
    ticks(10);
    const tickBefore = handle.tick;
    crashAndRestart(lobby);
    expect(notices).toContainEqual({ type: 'restarted', epoch: 1, from: 'checkpoint' });
    expect(handle.status.get().particles).toBe(700);
    // The seat holds what the restarted world holds.
    expect(lobby.host.capacity()[0].particles).toBe(700);
    ticks(1);
    const first = frames.at(-1)!;
    // Ticks never go back; the epoch says "new world, keyframe".
    expect(first).toMatchObject({ tick: tickBefore + 1, epoch: 1, count: 700 });
    // Its world is exactly the checkpoint's, stepped once.
    const world = World.fromSnapshot(checkpoint.world, 2000);
    world.step(1 / 60);
    const expected = new Uint16Array(world.count * 2);
    quantizePositions(world.x, world.y, world.count, 1000, quantBitsFor(1000), expected);
    expect(bytesOf(first).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('from its seed when no checkpoint was taken (what the test above must not see)', () => {
    const lobby = grownLobby();
    crashAndRestart(lobby);
    expect(lobby.notices).toContainEqual({ type: 'restarted', epoch: 1, from: 'seed' });
    expect(lobby.handle.status.get().particles).toBe(400);
  });

  it('from the checkpoint it was resumed from, when it took none since', async () => {
    const source = grownLobby();
    const checkpoint = await source.handle.checkpoint();
    const resumed = drivenLobby(
      { particles: checkpoint.world.count, resume: checkpoint, epoch: 4 },
      RESTARTS,
    );
    resumed.handle.join(2);
    resumed.ticks(2);
    expect(resumed.frames[0]).toMatchObject({ tick: checkpoint.tick + 1, epoch: 4 });
    crashAndRestart(resumed);
    expect(resumed.notices).toContainEqual({ type: 'restarted', epoch: 5, from: 'checkpoint' });
    expect(resumed.handle.status.get().particles).toBe(700);
  });

  it('refuses a checkpoint asked for while it is down, and rejects one pending at the crash', async () => {
    const lobby = grownLobby();
    lobby.handle.injectFault('throw');
    lobby.clock.advance(STEP_MS);
    expect(lobby.handle.status.get().phase).toBe('restarting');
    await expect(lobby.handle.checkpoint()).rejects.toThrow(/is restarting: no checkpoint/);
    await expect(lobby.handle.handOver()).rejects.toThrow(/is restarting/);
    // The refused hand-over leaves the restarted lobby taking inputs.
    lobby.clock.advance(RESTARTS.backoffMs);
    expect(lobby.handle.trySend(1, { t: 'input', seq: 5, x: 1, y: 1, mode: 'none' })).toBe('ok');
  });
});
