import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameEvent } from '../../lobbies/lobby-messages.js';
import type { PriorityRequest, ThreadPriority } from '../../lobbies/thread-priority.js';
import { NO_RESTARTS } from '../../lobbies/lobby-host.js';
import { WorkerLobbyHost } from '../../lobbies/worker-pool.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const digest = (positions: Uint16Array) =>
  createHash('sha1')
    .update(new Uint8Array(positions.buffer, positions.byteOffset, positions.byteLength))
    .digest('hex');

describe('worker pool: recycled frame buffers', () => {
  const RING = 4;
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ workers: 1, frameRing: RING, defaultParticles: 2000 });
  });
  afterAll(async () => server.close());

  it('sends each positions buffer back when its frame leaves the ring, and reuses it', async () => {
    const client = await joinLobby(server, 'recycle');
    const handle = server.app.directory.get('recycle')!.handle;
    const seen: FrameEvent[] = [];
    let compared = 0;
    let mismatches = 0;
    const stop = handle.frames.onSend((_seq, frame) => seen.push(frame));
    // Compare what the client reconstructed with the frame it came from,
    // while the buffers under the ring are being reused.
    const socket = client.socket as unknown as { addEventListener(t: string, l: () => void): void };
    socket.addEventListener('message', () => {
      const frames = handle.frames;
      for (let seq = frames.newestSeq; seq >= frames.oldestSeq && seq >= 0; seq--) {
        const frame = frames.get(seq)!;
        if (frame.tick !== client.decoder?.tick) continue;
        if (digest(frame.positions) !== digest(client.decoder.positions)) mismatches++;
        compared++;
        return;
      }
    });
    await waitFor(() => seen.length > 120 && compared > 60, 10_000, '120 frames');
    stop();

    expect(mismatches).toBe(0);
    // Frames that left the ring gave their buffer away: detached here.
    const gone = seen.slice(0, -2 * RING);
    expect(gone.every((frame) => frame.positions.length === 0)).toBe(true);
    // Once buffers come back the worker allocates only when the main thread
    // lags and more frames than usual are in flight: not one per tick.
    const from = seen[60];
    const last = seen.at(-1)!;
    expect(last.tick - from.tick).toBeGreaterThan(50);
    expect(last.stats.buffersAllocated - from.stats.buffersAllocated).toBeLessThan(
      (last.tick - from.tick) / 4,
    );
    client.close();
  });
});

/** The calling process has CAP_SYS_NICE in its effective set (bit 23). */
function hasCapSysNice(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line !== undefined && (BigInt(`0x${line.split(/\s+/)[1]}`) & (1n << 23n)) !== 0n;
}

describe.skipIf(process.platform !== 'linux')('worker pool: thread priority', () => {
  const privileged = hasCapSysNice();
  const ownNice = getPriority();

  async function startedWith(priority?: PriorityRequest): Promise<ThreadPriority> {
    const started: ThreadPriority[] = [];
    const host = new WorkerLobbyHost({
      size: 1,
      frameRing: 4,
      restartPolicy: NO_RESTARTS,
      priority,
      onWorkerStarted: (_id, p) => started.push(p),
    });
    try {
      await waitFor(() => started.length === 1, 10_000, 'worker started');
      // Read back while the thread still exists.
      if (started[0].realtime !== null) {
        const policy = execFileSync('chrt', ['--pid', String(started[0].tid)]).toString();
        expect(policy).toMatch(/SCHED_RR/);
        expect(policy).toMatch(new RegExp(`priority: ${started[0].realtime}`));
      }
      return started[0];
    } finally {
      await host.shutdown();
    }
  }

  it('a worker sets the nice value and realtime policy it is given on its own thread only', async () => {
    const priority = await startedWith({ nice: -3, realtime: 2 });
    expect(priority.tid).not.toBe(process.pid);
    if (privileged) {
      // CI runs as root with CAP_SYS_NICE: the thread gets both.
      expect(priority).toMatchObject({ nice: -3, realtime: 2, refused: [] });
    } else {
      expect(priority.realtime).toBeNull();
      expect(priority.refused.join('\n')).toMatch(/not permitted/);
    }
    // The main thread keeps its own priority and scheduler.
    expect(getPriority()).toBe(ownNice);
    expect(execFileSync('chrt', ['--pid', String(process.pid)]).toString()).toMatch(/SCHED_OTHER/);
  });

  it('a worker asked for nothing leaves its priority alone', async () => {
    const priority = await startedWith();
    expect(priority).toMatchObject({ nice: ownNice, realtime: null, refused: [] });
  });
});
