/**
 * The lifecycle's pause: a lobby with nobody in it runs no tick loop (no
 * ticks, no frames, no timers but its idle timeout), resumes when someone
 * joins with its tick count carrying on, and still closes when idle too long.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lobbies/fake-clock.js';
import { InlineLobbyHost } from '../../../lobbies/lobby-host.js';
import type { FrameEvent } from '../../../lobbies/lobby-messages.js';

const STEP_MS = 1000 / 60;

function spawnLobby(idleTimeoutMs = 10_000) {
  const clock = new FakeClock();
  const host = new InlineLobbyHost({ clock, frameRing: 8 });
  const spawned = host.spawn({
    id: 'paused',
    seed: 3,
    particles: 200,
    maxParticles: 1000,
    worldSize: 1000,
    tickRate: 60,
    maxCatchUpSteps: 4,
    idleTimeoutMs,
    inboxCapacity: 16,
    closeGraceMs: 1000,
  });
  if (!spawned.ok) throw new Error(spawned.message);
  const { handle } = spawned;
  const frames: FrameEvent[] = [];
  handle.frames.onSend((_seq, frame) => frames.push(frame));
  return { clock, handle, frames };
}

describe('an empty lobby is paused', () => {
  it('makes no ticks and no frames, and waits on nothing but its idle timeout', () => {
    const { clock, handle, frames } = spawnLobby();
    clock.advance(5000);
    expect(handle.status.get()).toMatchObject({ phase: 'idle', tick: 0, clients: 0 });
    expect(frames).toHaveLength(0);
    expect(clock.pending).toBe(1);
  });

  it('resumes when someone joins and pauses when the last one leaves; ticks carry on', () => {
    const { clock, handle, frames } = spawnLobby();
    clock.advance(1000);
    handle.join(1);
    expect(handle.status.get().phase).toBe('running');
    clock.advance(STEP_MS * 10 + 1);
    expect(frames.map((f) => f.tick)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    handle.leave(1);
    expect(handle.status.get().phase).toBe('idle');
    clock.advance(5000);
    expect(frames).toHaveLength(10);
    expect(handle.tick).toBe(10);
    // The newest frame stays in the ring for whoever joins next.
    expect(handle.frames.get(handle.frames.newestSeq)?.tick).toBe(10);

    handle.join(2);
    clock.advance(STEP_MS * 3 + 1);
    expect(frames.slice(10).map((f) => f.tick)).toEqual([11, 12, 13]);
  });

  it('still closes after the idle timeout', () => {
    const { clock, handle, frames } = spawnLobby(2000);
    handle.join(1);
    clock.advance(STEP_MS * 2 + 1);
    handle.leave(1);
    const ticks = frames.length;
    clock.advance(1999);
    expect(handle.status.get().phase).toBe('idle');
    clock.advance(2);
    expect(handle.status.get().phase).toBe('closed');
    expect(frames).toHaveLength(ticks);
    expect(clock.pending).toBe(0);
  });

  it('a draining lobby ticks for the clients it still has', () => {
    const { clock, handle, frames } = spawnLobby();
    handle.join(1);
    handle.drain();
    expect(handle.status.get().phase).toBe('draining');
    clock.advance(STEP_MS * 2 + 1);
    expect(frames).toHaveLength(2);
    handle.leave(1);
    expect(handle.status.get().phase).toBe('closed');
  });
});
