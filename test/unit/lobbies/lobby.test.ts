import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lobbies/fake-clock.js';
import { InlineLobbyHost } from '../../../lobbies/lobby-host.js';
import type { LobbyNotice } from '../../../lobbies/lobby-handle.js';
import type { FrameEvent, LobbySettings } from '../../../lobbies/lobby-messages.js';
import { lobbySteerIntervals } from '../../../lobbies/lobby-world-params.js';
import { World } from '../../../lobbies/world/world.js';
import { quantBitsFor, quantizePositions } from '../../../protocol/index.js';

const STEP_MS = 1000 / 60;

function settings(overrides: Partial<LobbySettings> = {}): LobbySettings {
  return {
    id: 'test',
    seed: 42,
    particles: 500,
    maxParticles: 1000,
    worldSize: 1000,
    tickRate: 60,
    maxCatchUpSteps: 4,
    idleTimeoutMs: 10_000,
    inboxCapacity: 16,
    closeGraceMs: 1000,
    ...overrides,
  };
}

function spawnLobby(overrides: Partial<LobbySettings> = {}, cloneMessages = true) {
  const clock = new FakeClock();
  const host = new InlineLobbyHost({ clock, frameRing: 8, cloneMessages });
  const spawned = host.spawn(settings(overrides));
  if (!spawned.ok) throw new Error(spawned.message);
  const { handle } = spawned;
  const frames: FrameEvent[] = [];
  handle.frames.onSend((_seq, frame) => frames.push(frame));
  const notices: LobbyNotice[] = [];
  handle.onNotice((notice) => notices.push(notice));
  /** Advances the clock ms by ms until `n` more frames have been published. */
  const ticks = (n: number) => {
    const target = frames.length + n;
    for (let guard = 0; frames.length < target && guard < n * 40; guard++) clock.advance(1);
    expect(frames.length).toBe(target);
  };
  return { clock, handle, frames, notices, ticks };
}

describe('lobby actor on a fake clock', () => {
  it('ticks exactly once per step of simulated time', () => {
    const { clock, handle, frames } = spawnLobby();
    handle.join(1);
    clock.advance(STEP_MS * 30 + 1);
    expect(frames.map((f) => f.tick)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(handle.tick).toBe(30);
    expect(frames[0].positions.length).toBe(1000);
  });

  it('is idle without clients and running with them', () => {
    const { clock, handle } = spawnLobby();
    expect(handle.status.get().phase).toBe('idle');
    handle.join(1);
    expect(handle.status.get()).toMatchObject({ phase: 'running', clients: 1 });
    handle.leave(1);
    clock.advance(STEP_MS);
    expect(handle.status.get()).toMatchObject({ phase: 'idle', clients: 0 });
  });

  it('closes after the idle timeout, and not before', () => {
    const { clock, handle } = spawnLobby({ idleTimeoutMs: 5000 });
    clock.advance(4900);
    expect(handle.status.get().phase).toBe('idle');
    handle.join(7);
    clock.advance(10_000);
    expect(handle.status.get().phase).toBe('running');
    handle.leave(7);
    clock.advance(4999);
    expect(handle.status.get().phase).toBe('idle');
    clock.advance(2);
    expect(handle.status.get().phase).toBe('closed');
    expect(handle.ended).toBe(true);
    expect(handle.frames.closed).toBe(true);
    expect(handle.trySend(7, { t: 'input', seq: 0, x: 1, y: 1, mode: 'attract' })).toBe('closed');
    expect(clock.pending).toBe(0);
  });

  it('applies inputs at the next tick and acknowledges their seq', () => {
    const { handle, frames, ticks } = spawnLobby();
    handle.join(3);
    expect(handle.trySend(3, { t: 'input', seq: 10, x: 500, y: 500, mode: 'attract' })).toBe('ok');
    expect(handle.trySend(3, { t: 'spawn', seq: 11, x: 100, y: 100, count: 50 })).toBe('ok');
    expect(handle.lastAck(3)).toBe(-1);
    ticks(1);
    expect(frames.at(-1)!.acks).toEqual([3, 10, 3, 11]);
    expect(frames.at(-1)!.count).toBe(550);
    expect(handle.lastAck(3)).toBe(11);
    expect(handle.status.get().particles).toBe(550);
  });

  it('refuses sends beyond the inbox capacity and accepts again after a tick', () => {
    const { handle, frames, ticks } = spawnLobby({ inboxCapacity: 3 });
    handle.join(1);
    const results = [0, 1, 2, 3, 4].map((seq) =>
      handle.trySend(1, { t: 'input', seq, x: 1, y: 1, mode: 'repel' }),
    );
    expect(results).toEqual(['ok', 'ok', 'ok', 'full', 'full']);
    ticks(1);
    // Every accepted input was applied: nothing accepted is lost.
    expect(frames.at(-1)!.acks).toEqual([1, 0, 1, 1, 1, 2]);
    expect(handle.trySend(1, { t: 'input', seq: 5, x: 1, y: 1, mode: 'none' })).toBe('ok');
  });

  it('rejects a spawn beyond the particle cap with a notice, spawning nothing', () => {
    const { handle, frames, notices, ticks } = spawnLobby({ particles: 900, maxParticles: 1000 });
    handle.join(2);
    handle.trySend(2, { t: 'spawn', seq: 1, x: 10, y: 10, count: 101 });
    ticks(1);
    expect(frames.at(-1)!.count).toBe(900);
    expect(notices).toContainEqual(
      expect.objectContaining({ type: 'rejected', clientId: 2, seq: 1, code: 'particle_cap' }),
    );
  });

  it('same seed and same inputs give bit-identical frames', () => {
    const run = (seed: number) => {
      const { handle, frames, ticks } = spawnLobby({ seed });
      handle.join(1);
      handle.join(2);
      for (let t = 0; t < 120; t++) {
        if (t === 5) handle.trySend(1, { t: 'input', seq: 0, x: 300, y: 700, mode: 'attract' });
        if (t === 40) handle.trySend(2, { t: 'spawn', seq: 0, x: 999, y: 0, count: 100 });
        if (t === 60) handle.trySend(2, { t: 'input', seq: 1, x: 10, y: 10, mode: 'repel' });
        if (t === 90) handle.leave(1);
        ticks(1);
      }
      return frames;
    };
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(a.length).toBe(120);
    for (let i = 0; i < a.length; i++) {
      expect(b[i].tick).toBe(a[i].tick);
      expect(Buffer.from(b[i].positions.buffer).equals(Buffer.from(a[i].positions.buffer))).toBe(
        true,
      );
    }
    expect(
      Buffer.from(c.at(-1)!.positions.buffer).equals(Buffer.from(a.at(-1)!.positions.buffer)),
    ).toBe(false);
  });

  it('steps its world with the steering budget its settings give', () => {
    // 500 particles on a budget of 100 steerings a step: each steers every
    // 4th step (the cap) instead of every 2nd.
    const framesOf = (steerBudget?: number) => {
      const { handle, frames, ticks } = spawnLobby({ steerBudget });
      handle.join(1);
      ticks(20);
      return frames.at(-1)!;
    };
    const expected = (steerBudget?: number) => {
      const world = new World({
        seed: 42,
        particles: 500,
        maxParticles: 1000,
        params: steerBudget === undefined ? {} : { steerBudget },
      });
      for (let i = 0; i < 20; i++) world.step(1 / 60);
      const positions = new Uint16Array(2 * world.count);
      quantizePositions(world.x, world.y, world.count, world.size, quantBitsFor(1000), positions);
      return Buffer.from(positions.buffer);
    };
    const budgeted = framesOf(100);
    expect(Buffer.from(budgeted.positions.buffer).equals(expected(100))).toBe(true);
    expect(Buffer.from(budgeted.positions.buffer).equals(expected(undefined))).toBe(false);
    expect(Buffer.from(framesOf(0).positions.buffer).equals(expected(0))).toBe(true);
    expect(lobbySteerIntervals({ steerBudget: 100 })(500)).toBe(4);
    expect(lobbySteerIntervals({ steerBudget: 0 })(100_000)).toBe(2);
    expect(lobbySteerIntervals({})(100_000)).toBe(4);
    expect(lobbySteerIntervals({ steerBudget: 20_000 })(50_000)).toBe(3);
  });

  it('caps catch-up after a stall and reports the dropped steps', () => {
    const { clock, handle, frames, notices } = spawnLobby({ maxCatchUpSteps: 4 });
    handle.join(1);
    clock.advance(STEP_MS + 1);
    expect(frames.length).toBe(1);
    // One timer wake that finds 10 steps owed: runs 4, drops the rest.
    const wakeAt = clock.now();
    clock.advance(STEP_MS * 10 - (clock.now() - wakeAt));
    const dropped = notices
      .filter((n) => n.type === 'ticksDropped')
      .reduce((sum, n) => sum + (n.type === 'ticksDropped' ? n.steps : 0), 0);
    expect(frames.length + dropped).toBeGreaterThanOrEqual(10);
  });

  it('fails alone when a tick throws, reporting the error', () => {
    const { clock, handle, notices } = spawnLobby();
    handle.join(1);
    // A NaN coordinate cannot come from a validated client; forcing one
    // through the handle stands in for a bug inside the world.
    handle.trySend(1, { t: 'spawn', seq: 0, x: 1, y: 1, count: Number.NaN });
    clock.advance(STEP_MS * 3);
    const failed = notices.find((n) => n.type === 'failed');
    expect(failed).toMatchObject({ type: 'failed', error: expect.stringContaining('RangeError') });
    expect(handle.status.get().phase).toBe('failed');
    expect(handle.ended).toBe(true);
    // The loop stopped with it: no timers left behind.
    expect(clock.pending).toBe(0);
  });

  it('drains: tells clients, closes once they leave', () => {
    const { clock, handle } = spawnLobby();
    handle.join(1);
    handle.drain();
    expect(handle.status.get().phase).toBe('draining');
    clock.advance(STEP_MS * 2);
    handle.leave(1);
    expect(handle.status.get().phase).toBe('closed');
  });

  it('closes after the grace period even if clients stay', () => {
    const { clock, handle } = spawnLobby({ closeGraceMs: 500 });
    handle.join(1);
    handle.close('test');
    expect(handle.status.get().phase).toBe('closing');
    clock.advance(499);
    expect(handle.status.get().phase).toBe('closing');
    clock.advance(2);
    expect(handle.status.get().phase).toBe('closed');
  });
});
