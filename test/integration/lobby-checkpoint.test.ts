/**
 * Checkpoints across real worker threads: a lobby checkpointed on one worker
 * host resumes on another with the same frames at the same ticks (its
 * pending spawn with it); a hand-over refuses inputs from the call on,
 * freezes the lobby and ends it as moved, which closes a real client's
 * socket with 4007 while a bystander lobby on the same worker plays on; a
 * checkpoint pending when the worker dies is rejected; a lobby whose worker
 * dies while it is frozen with its checkpoint out is held, not restarted
 * (that checkpoint may be running elsewhere already).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LobbyHandle, LobbyNotice } from '../../lobbies/lobby-handle.js';
import { NO_RESTARTS } from '../../lobbies/lobby-host.js';
import type { LobbySettings } from '../../lobbies/lobby-messages.js';
import { WorkerLobbyHost } from '../../lobbies/worker-pool.js';
import { CloseCode } from '../../protocol/close-codes.js';
import { lobbySettings } from '../unit/lobbies/driven-lobby.js';
import { joinBystander } from '../support/bystander.js';
import { joinLobby, startServer, waitFor } from '../support/server.js';

const workerHost = () => new WorkerLobbyHost({ size: 1, frameRing: 8, restartPolicy: NO_RESTARTS });

function spawnOn(host: WorkerLobbyHost, settings: LobbySettings): LobbyHandle {
  const spawned = host.spawn(settings);
  if (!spawned.ok) throw new Error(spawned.message);
  return spawned.handle;
}

/** Every frame's positions by tick, copied as they arrive (ring buffers go back to the worker). */
function recordFrames(handle: LobbyHandle): Map<number, Buffer> {
  const byTick = new Map<number, Buffer>();
  handle.frames.onSend((_seq, frame) => {
    const { buffer, byteOffset, byteLength } = frame.positions;
    byTick.set(frame.tick, Buffer.from(new Uint8Array(buffer, byteOffset, byteLength)));
  });
  return byTick;
}

describe('checkpoints between worker hosts', () => {
  let from: WorkerLobbyHost;
  let to: WorkerLobbyHost;
  beforeAll(() => {
    from = workerHost();
    to = workerHost();
  });
  afterAll(async () => {
    await Promise.all([from.shutdown(), to.shutdown()]);
  });

  it('a lobby resumed on another host makes the same frames at the same ticks', async () => {
    const settings = lobbySettings({ id: 'travelling', particles: 1500, maxParticles: 4000 });
    const original = spawnOn(from, settings);
    const originalFrames = recordFrames(original);
    original.join(1);
    await waitFor(() => original.tick >= 30, 10_000, '30 ticks');
    // In one turn, so in one batch: the spawn is in the inbox when the
    // checkpoint is taken, whatever the worker's tick timing.
    expect(original.trySend(1, { t: 'spawn', seq: 0, x: 250, y: 750, count: 200 })).toBe('ok');
    const checkpoint = await original.checkpoint();
    expect(checkpoint.pendingSpawns).toEqual([{ x: 250, y: 750, count: 200 }]);
    expect(checkpoint.world.count).toBe(1500);
    expect(checkpoint.world.x).toBeInstanceOf(Float32Array);
    expect(checkpoint.world.x.length).toBe(1500);

    const copy = spawnOn(to, { ...settings, particles: 1500, resume: checkpoint });
    const copyFrames = recordFrames(copy);
    copy.join(1);
    const upTo = checkpoint.tick + 40;
    await waitFor(
      () => copy.tick >= upTo && original.tick >= upTo,
      10_000,
      'both 40 ticks past the checkpoint',
    );
    for (const handle of [original, copy]) {
      handle.leave(1);
      handle.close('done');
    }
    await waitFor(() => original.ended && copy.ended, 5000, 'both closed');

    const ticks = [...copyFrames.keys()].filter((tick) => tick <= upTo);
    expect(ticks[0]).toBe(checkpoint.tick + 1);
    expect(ticks).toHaveLength(40);
    for (const tick of ticks) {
      expect(copyFrames.get(tick)!.length, `tick ${tick}`).toBe(1700 * 4);
      expect(copyFrames.get(tick)!.equals(originalFrames.get(tick)!), `tick ${tick}`).toBe(true);
    }
    // And the comparison can fail: the world before the checkpoint differs.
    expect(originalFrames.get(checkpoint.tick - 5)!.equals(copyFrames.get(ticks[0])!)).toBe(false);
  });

  it('a hand-over refuses inputs from the call on and freezes the lobby until it ends as moved', async () => {
    const handle = spawnOn(from, lobbySettings({ id: 'frozen', particles: 500 }));
    const frames = recordFrames(handle);
    handle.join(1);
    await waitFor(() => frames.size > 5, 10_000, 'frames');
    const answer = handle.handOver();
    // The worker has not heard yet; the handle refuses already.
    expect(handle.status.get().phase).toBe('running');
    expect(handle.trySend(1, { t: 'spawn', seq: 0, x: 1, y: 1, count: 5 })).toBe('closed');
    const checkpoint = await answer;
    expect(handle.status.get().phase).toBe('handingOver');
    const seen = frames.size;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(frames.size).toBe(seen);
    expect(Math.max(...frames.keys())).toBe(checkpoint.tick);

    handle.finishHandOver('moved');
    await waitFor(() => handle.ended, 5000, 'moved');
    expect(handle.status.get().phase).toBe('moved');
    // Stopped on its worker, and its room given back.
    expect(from.workers[0].lobbies).not.toContain('frozen');
    expect(from.capacity()[0]).toMatchObject({ lobbies: 0, particles: 0 });
  });

  it('a checkpoint pending when its worker dies is rejected, not left hanging', async () => {
    const doomed = workerHost();
    try {
      const handle = spawnOn(doomed, lobbySettings({ id: 'doomed', particles: 300 }));
      handle.join(1);
      await waitFor(() => handle.tick > 2, 10_000, 'ticks');
      handle.injectFault('exit');
      await expect(handle.checkpoint()).rejects.toThrow(/lobby doomed crashed.*worker \d+ died/);
      expect(handle.status.get().phase).toBe('failed');
    } finally {
      await doomed.shutdown();
    }
  });
});

describe('a lobby whose worker dies while it is frozen for a hand-over', () => {
  const policy = { maxRestarts: 5, windowMs: 60_000, backoffMs: 20 };
  let host: WorkerLobbyHost;
  beforeAll(() => {
    host = new WorkerLobbyHost({ size: 1, frameRing: 8, restartPolicy: policy });
  });
  afterAll(async () => host.shutdown());

  /** Frozen with its checkpoint out, then its worker killed: held, not restarted. */
  async function heldLobby(id: string) {
    const handle = spawnOn(host, lobbySettings({ id, particles: 300 }));
    const frames = recordFrames(handle);
    const notices: LobbyNotice[] = [];
    handle.onNotice((notice) => notices.push(notice));
    handle.join(1);
    await waitFor(() => frames.size > 3, 10_000, 'frames');
    const checkpoint = await handle.handOver();
    handle.injectFault('exit');
    await waitFor(() => notices.some((n) => n.type === 'crashed'), 10_000, 'crash');
    expect(notices).toContainEqual(expect.objectContaining({ type: 'crashed', restarting: false }));
    // Well past the restart backoff: still frozen on its checkpoint, no second copy running.
    await new Promise((resolve) => setTimeout(resolve, 10 * policy.backoffMs));
    expect(handle.status.get().phase).toBe('handingOver');
    expect(Math.max(...frames.keys())).toBe(checkpoint.tick);
    expect(handle.trySend(1, { t: 'spawn', seq: 0, x: 1, y: 1, count: 1 })).toBe('closed');
    return { handle, frames, notices, checkpoint };
  }

  it('is held: finishing the hand-over ends it as moved', async () => {
    const { handle } = await heldLobby('held-moved');
    handle.finishHandOver('moved');
    expect(handle.status.get().phase).toBe('moved');
    expect(handle.ended).toBe(true);
  });

  it('is held: abandoning the hand-over restarts it from the checkpoint', async () => {
    const { handle, frames, notices, checkpoint } = await heldLobby('held-resumed');
    handle.resumeAfterHandOver();
    expect(notices).toContainEqual({ type: 'restarted', epoch: 1, from: 'checkpoint' });
    await waitFor(() => frames.has(checkpoint.tick + 3), 10_000, 'ticks after the thaw');
    expect(handle.status.get()).toMatchObject({ phase: 'running', particles: 300 });
    expect(handle.trySend(1, { t: 'spawn', seq: 1, x: 1, y: 1, count: 1 })).toBe('ok');
  });
});

describe('a hand-over seen by a real client', () => {
  it('closes its socket with 4007 once moved; a bystander lobby on the same worker plays on', async () => {
    const server = await startServer({ workers: 1, defaultParticles: 2000 });
    try {
      const bystander = await joinBystander(server);
      const client = await joinLobby(server, 'handed');
      await waitFor(() => client.frames > 5, 5000, 'frames');
      const handle = server.app.directory.get('handed')!.handle;
      bystander.mark();
      const checkpoint = await handle.handOver();
      expect(checkpoint.world.count).toBe(2000);
      await waitFor(() => client.status?.phase === 'handingOver', 5000, 'handingOver status');
      expect(client.closeCode).toBeUndefined();
      handle.finishHandOver('moved');
      await waitFor(() => client.closeCode !== undefined, 5000, 'close');
      expect(client.closeCode).toBe(CloseCode.moved);
      expect(client.closeReason).toBe('lobby moved to another instance: reconnect now');
      await waitFor(() => server.app.directory.get('handed') === undefined, 5000, 'removed');
      await bystander.expectUndisturbed();
      bystander.close();
    } finally {
      await server.close();
    }
  });
});
