/**
 * Admission on the inline host: the main thread's particle budget, shared by
 * every lobby on it, decides which new lobbies run and which spawns grow
 * them; a lobby keeps its reservation while it restarts and gives it back
 * when it ends.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lobbies/fake-clock.js';
import type { LobbyHandle, LobbyNotice } from '../../../lobbies/lobby-handle.js';
import { InlineLobbyHost, NO_RESTARTS } from '../../../lobbies/lobby-host.js';
import type { LobbySettings } from '../../../lobbies/lobby-messages.js';
import type { RestartPolicy } from '../../../lobbies/supervisor.js';

const STEP_MS = 1000 / 60;

function settings(id: string, particles: number): LobbySettings {
  return {
    id,
    seed: 7,
    particles,
    maxParticles: 1000,
    worldSize: 1000,
    tickRate: 60,
    maxCatchUpSteps: 4,
    idleTimeoutMs: 60_000,
    inboxCapacity: 16,
    closeGraceMs: 100,
  };
}

function inlineHost(particleBudget: number, restartPolicy: RestartPolicy = NO_RESTARTS) {
  const clock = new FakeClock();
  const host = new InlineLobbyHost({ clock, frameRing: 8, particleBudget, restartPolicy });
  const spawn = (id: string, particles: number): LobbyHandle => {
    const spawned = host.spawn(settings(id, particles));
    if (!spawned.ok) throw new Error(spawned.message);
    return spawned.handle;
  };
  const used = () => host.capacity()[0].particles;
  return { clock, host, spawn, used };
}

function rejections(handle: LobbyHandle): LobbyNotice[] {
  const notices: LobbyNotice[] = [];
  handle.onNotice((notice) => {
    if (notice.type === 'rejected') notices.push(notice);
  });
  return notices;
}

describe('inline host admission', () => {
  it('admits lobbies while their particles fit the budget and refuses the next one', () => {
    const { host, spawn } = inlineHost(1000);
    spawn('a', 600);
    spawn('b', 400);
    const refused = host.spawn(settings('c', 1));
    expect(refused).toMatchObject({ ok: false, reason: 'instance_full' });
    expect(refused.ok ? '' : refused.message).toMatch(/^instance full: .*0 of its budget of 1000/);
    expect(host.spawn(settings('d', 0)).ok).toBe(true);
    expect(host.capacity()).toEqual([
      { worker: 'main', particles: 1000, budget: 1000, lobbies: 3 },
    ]);
  });

  it('refuses a spawn past the budget of the thread with particle_cap, though the lobby cap allows it', () => {
    const { clock, spawn, used } = inlineHost(1000);
    const a = spawn('a', 500);
    spawn('b', 400);
    const refused = rejections(a);
    a.join(1);
    a.trySend(1, { t: 'spawn', seq: 0, x: 10, y: 10, count: 200 });
    clock.advance(STEP_MS + 1);
    expect(refused).toEqual([
      expect.objectContaining({
        clientId: 1,
        seq: 0,
        code: 'particle_cap',
        message: expect.stringMatching(/particle budget.*instance is full/),
      }),
    ]);
    expect(a.status.get().particles).toBe(500);
    // What still fits is granted.
    a.trySend(1, { t: 'spawn', seq: 1, x: 10, y: 10, count: 100 });
    clock.advance(STEP_MS);
    expect(a.status.get().particles).toBe(600);
    expect(refused).toHaveLength(1);
    expect(used()).toBe(1000);
  });

  it('gives the particles back when a lobby closes', () => {
    const { clock, host, spawn, used } = inlineHost(1000);
    const a = spawn('a', 1000);
    expect(host.spawn(settings('b', 1)).ok).toBe(false);
    a.close('test');
    clock.advance(1);
    expect(a.ended).toBe(true);
    expect(used()).toBe(0);
    expect(host.spawn(settings('b', 1000)).ok).toBe(true);
  });

  it('keeps a restarting lobby reservation, then holds its initial particles again', () => {
    const { clock, host, spawn, used } = inlineHost(1000, {
      maxRestarts: 1,
      windowMs: 60_000,
      backoffMs: 1000,
    });
    const a = spawn('a', 500);
    a.join(1);
    a.trySend(1, { t: 'spawn', seq: 0, x: 10, y: 10, count: 300 });
    clock.advance(STEP_MS + 1);
    expect(used()).toBe(800);
    a.injectFault('throw');
    clock.advance(STEP_MS);
    expect(a.status.get().phase).toBe('restarting');
    // Its room is still its own while it is down.
    expect(used()).toBe(800);
    expect(host.spawn(settings('sneaky', 300)).ok).toBe(false);
    clock.advance(1000);
    expect(a.status.get().phase).toBe('running');
    expect(used()).toBe(500);
    expect(host.spawn(settings('later', 300)).ok).toBe(true);
  });

  it('gives the particles back when it gives up on a lobby', () => {
    const { clock, spawn, used } = inlineHost(1000);
    const a = spawn('a', 700);
    a.join(1);
    a.injectFault('throw');
    clock.advance(STEP_MS + 1);
    expect(a.status.get().phase).toBe('failed');
    expect(used()).toBe(0);
  });
});
