/**
 * Lobby checkpoints on a fake clock: a lobby resumed from a checkpoint makes
 * the same frames as the lobby that never stopped (spawns waiting in the
 * inbox move with it, client forces do not); a hand-over freezes the lobby
 * until it ends as moved or drained, or thaws.
 */
import { describe, expect, it } from 'vitest';
import type { LobbyCheckpoint, LobbySettings } from '../../../lobbies/lobby-messages.js';
import { bytesOf, drivenLobby, STEP_MS } from './driven-lobby.js';

const spawn = (seq: number, x: number, y: number, count: number) =>
  ({ t: 'spawn', seq, x, y, count }) as const;

/**
 * Runs a lobby 31 ticks (an odd world step count: the steering slice
 * matters), with a spawn on the way, then leaves a spawn waiting in its
 * inbox and takes a checkpoint.
 */
async function checkpointedLobby(overrides: Partial<LobbySettings> = {}) {
  const original = drivenLobby(overrides);
  original.handle.join(1);
  original.ticks(10);
  original.handle.trySend(1, spawn(0, 200, 300, 150));
  original.ticks(21);
  expect(original.handle.trySend(1, spawn(1, 700, 50, 80))).toBe('ok');
  const checkpoint = await original.handle.checkpoint();
  return { original, checkpoint };
}

/** A second lobby, on its own host and clock, resumed from `checkpoint`. */
function resumed(checkpoint: LobbyCheckpoint, overrides: Partial<LobbySettings> = {}) {
  const lobby = drivenLobby({
    ...overrides,
    particles: checkpoint.world.count,
    resume: checkpoint,
  });
  lobby.handle.join(9);
  return lobby;
}

describe('a lobby resumed from a checkpoint', () => {
  it('records the tick, the world and the spawns waiting in the inbox', async () => {
    const { original, checkpoint } = await checkpointedLobby();
    expect(checkpoint).toMatchObject({ id: 'cp', seed: 42, tick: 31, epoch: 0 });
    expect(checkpoint.world).toMatchObject({ count: 550, steps: 31, size: 1000 });
    expect(checkpoint.pendingSpawns).toEqual([{ x: 700, y: 50, count: 80 }]);
    expect(original.handle.lastCheckpoint).toEqual(checkpoint);
    // A checkpoint is a look, not a pause: the lobby carries on and the spawn lands.
    original.ticks(1);
    expect(original.frames.at(-1)).toMatchObject({ tick: 32, count: 630 });
  });

  it('makes bit-identical frames to the lobby that never stopped, with a spawn before and after', async () => {
    const { original, checkpoint } = await checkpointedLobby();
    const copy = resumed(checkpoint);
    for (const lobby of [original, copy]) {
      lobby.ticks(5);
      lobby.handle.trySend(lobby === original ? 1 : 9, spawn(2, 990, 990, 60));
      lobby.ticks(55);
    }
    const expected = original.frames.slice(-60);
    expect(copy.frames.map((f) => f.tick)).toEqual(expected.map((f) => f.tick));
    expect(copy.frames[0]).toMatchObject({ tick: 32, count: 630 });
    expect(copy.frames.at(-1)!.count).toBe(690);
    for (let i = 0; i < expected.length; i++) {
      expect(bytesOf(copy.frames[i]).equals(bytesOf(expected[i])), `tick ${expected[i].tick}`).toBe(
        true,
      );
    }
  });

  it('would not without the pending spawn or the world step count (the comparison can fail)', async () => {
    const { original, checkpoint } = await checkpointedLobby();
    original.ticks(3);
    const lost = resumed({ ...checkpoint, pendingSpawns: [] });
    lost.ticks(3);
    expect(lost.frames.at(-1)!.count).not.toBe(original.frames.at(-1)!.count);
    const shifted = resumed({ ...checkpoint, world: { ...checkpoint.world, steps: 0 } });
    shifted.ticks(3);
    expect(bytesOf(shifted.frames.at(-1)!).equals(bytesOf(original.frames.at(-1)!))).toBe(false);
  });

  it('resumes with the steering budget of its settings (SWARMHOST_STEER_BUDGET)', async () => {
    // 550 particles on a budget of 100: each steers every 4th step, not every 2nd.
    const { original, checkpoint } = await checkpointedLobby({ steerBudget: 100 });
    const same = resumed(checkpoint, { steerBudget: 100 });
    const other = resumed(checkpoint);
    original.ticks(12);
    same.ticks(12);
    other.ticks(12);
    expect(bytesOf(same.frames.at(-1)!).equals(bytesOf(original.frames.at(-1)!))).toBe(true);
    expect(bytesOf(other.frames.at(-1)!).equals(bytesOf(original.frames.at(-1)!))).toBe(false);
  });

  it('leaves out the forces of clients and their pending inputs; the resumed lobby starts without forces', async () => {
    const original = drivenLobby();
    original.handle.join(1);
    original.handle.trySend(1, { t: 'input', seq: 0, x: 500, y: 500, mode: 'attract' });
    original.ticks(2);
    original.handle.trySend(1, { t: 'input', seq: 1, x: 10, y: 10, mode: 'repel' });
    const checkpoint = await original.handle.checkpoint();
    expect(checkpoint.world.forces.owners).toEqual([1]);
    expect(checkpoint.pendingSpawns).toEqual([]);
    const copy = resumed(checkpoint);
    expect((await copy.handle.checkpoint()).world.forces.owners).toEqual([]);
  });

  it('refuses a checkpoint that does not match its settings, failing the lobby with the reason', async () => {
    const { checkpoint } = await checkpointedLobby();
    const badWorld = structuredClone(checkpoint);
    badWorld.world.vx[0] = Number.NaN;
    const cases = [
      { particles: 10, resume: checkpoint, error: /checkpoint holds 550 particles/ },
      { particles: 550, resume: badWorld, error: /RangeError: world snapshot: vx\[0\]/ },
    ];
    for (const { error, ...overrides } of cases) {
      // One restart, so the second failure is heard (the first is within spawn).
      const lobby = drivenLobby(overrides, { maxRestarts: 1, windowMs: 60_000, backoffMs: 10 });
      lobby.clock.advance(10);
      expect(lobby.handle.status.get().phase).toBe('failed');
      expect(lobby.notices).toContainEqual(
        expect.objectContaining({ type: 'crashed', error: expect.stringMatching(error) }),
      );
    }
  });
});

describe('a hand-over', () => {
  it('freezes the lobby: no ticks, no frames, no timers, no inputs from the call on', async () => {
    const { clock, handle, frames, ticks } = drivenLobby();
    handle.join(1);
    ticks(5);
    handle.trySend(1, spawn(0, 1, 1, 20));
    const answer = handle.handOver();
    expect(handle.trySend(1, spawn(1, 1, 1, 20))).toBe('closed');
    const checkpoint = await answer;
    expect(checkpoint).toMatchObject({ tick: 5, pendingSpawns: [{ x: 1, y: 1, count: 20 }] });
    expect(handle.status.get().phase).toBe('handingOver');
    expect(handle.lastCheckpoint).toBe(checkpoint);
    clock.advance(5000);
    expect(frames).toHaveLength(5);
    // Not even the idle timeout: whoever handed it over decides how it ends.
    expect(clock.pending).toBe(0);
  });

  it('ends as moved: ended, frames closed, its room given back', async () => {
    const { clock, host, handle } = drivenLobby({}, undefined, 10_000);
    handle.join(1);
    clock.advance(STEP_MS * 3);
    await handle.handOver();
    expect(host.capacity()[0]).toMatchObject({ particles: 400, lobbies: 1 });
    handle.finishHandOver('moved');
    expect(handle.status.get().phase).toBe('moved');
    expect(handle.ended).toBe(true);
    expect(handle.frames.closed).toBe(true);
    expect(host.capacity()[0]).toMatchObject({ particles: 0, lobbies: 0 });
    await expect(handle.checkpoint()).rejects.toThrow(/has ended \(moved\)/);
  });

  it('ends as drained, from a draining lobby too', async () => {
    const { handle } = drivenLobby();
    handle.join(1);
    handle.drain();
    expect(handle.status.get().phase).toBe('draining');
    await handle.handOver();
    expect(handle.status.get().phase).toBe('handingOver');
    handle.finishHandOver('drained');
    expect(handle.status.get().phase).toBe('drained');
    expect(handle.ended).toBe(true);
  });

  it('thaws when abandoned: ticks on from where it froze, inputs again, the waiting spawn applied', async () => {
    const { clock, handle, frames, ticks } = drivenLobby();
    handle.join(1);
    ticks(4);
    handle.trySend(1, spawn(0, 1, 1, 30));
    await handle.handOver();
    clock.advance(1000);
    handle.resumeAfterHandOver();
    expect(handle.status.get().phase).toBe('running');
    expect(handle.trySend(1, spawn(1, 2, 2, 5))).toBe('ok');
    ticks(2);
    expect(frames.slice(-2).map((f) => [f.tick, f.count])).toEqual([
      [5, 435],
      [6, 435],
    ]);
    expect(handle.lastAck(1)).toBe(1);
  });

  it('of a closing lobby is refused, and inputs stay refused as closing says', async () => {
    const { handle } = drivenLobby();
    handle.join(1);
    handle.close('test');
    await expect(handle.handOver()).rejects.toThrow(/is closing: no checkpoint for a hand-over/);
    expect(handle.status.get().phase).toBe('closing');
  });

  it('answers every request in order; the newest checkpoint is kept', async () => {
    const { handle, ticks } = drivenLobby();
    handle.join(1);
    ticks(2);
    const first = handle.checkpoint();
    ticks(1);
    const second = handle.checkpoint();
    expect((await first).tick).toBe(2);
    expect((await second).tick).toBe(3);
    expect(handle.lastCheckpoint?.tick).toBe(3);
  });
});
