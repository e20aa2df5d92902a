/**
 * A lobby bigger than one worker's particle budget, split over two threads
 * (SWARMHOST_MAX_PARTITIONS) on a real server with two lobby workers:
 * admitted with its share charged to both workers, played over real
 * sockets, restarted whole when one of its partition threads dies, and its
 * room given back on every worker when it ends; and never split on the JS
 * kernel. That a split world steps
 * to the same bits as an unsplit one is world-partitions.test.ts's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

const WORKER_NICE = -7;
/** Only root may lower a nice value (CI runs as root): the thread counts need it. */
const ROOT = process.getuid?.() === 0;
/** Threads at WORKER_NICE: the lobby workers', then those one split lobby adds. */
let workerThreads = 0;
let splitThreads = 0;

/** Threads of this process (the server runs in it) at nice value `nice` (/proc stat field 19). */
function threadsAtNice(nice: number): number {
  let count = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[16]) === nice) count++;
    } catch {
      // The thread ended meanwhile.
    }
  }
  return count;
}

const post = (server: TestServer, path: string, body: unknown) =>
  fetch(`${server.http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.adminHeaders },
    body: JSON.stringify(body),
  });

interface Status {
  capacity: { workers: Array<{ worker: string; particles: number; budget: number }> };
  lobbies: Array<{ id: string; particles: number; partitions: number }>;
}

const status = async (server: TestServer): Promise<Status> =>
  (await fetch(`${server.http}/status`)).json() as Promise<Status>;

const reserved = async (server: TestServer) =>
  (await status(server)).capacity.workers.map((w) => w.particles).sort((a, b) => a - b);

/** Two workers of 1000 particles each, splits of up to 2, on `kernel`; more settings in `extra`. */
const splitServer = (
  kernel: 'wasm' | 'js',
  extra: Partial<Parameters<typeof startServer>[0]> = {},
): Promise<TestServer> =>
  startServer({
    workers: 2,
    kernel,
    particleBudget: 1000,
    maxPartitions: 2,
    defaultParticles: 100,
    ...extra,
  });

describe('a lobby split over two workers (budget 1000 per worker)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await splitServer('wasm', {
      faultInjection: true,
      maxRestarts: 2,
      restartWindowMs: 60_000,
      restartBackoffMs: 100,
      // A nice value nothing else here has: the threads that took it are ours.
      workerNice: WORKER_NICE,
    });
    if (ROOT) {
      await waitFor(() => threadsAtNice(WORKER_NICE) >= 2, 10_000, 'both workers started');
      workerThreads = threadsAtNice(WORKER_NICE);
    }
  });
  afterAll(async () => server.close());

  it('is admitted with half its particles charged to each worker; what fits nowhere is refused', async () => {
    expect((await post(server, '/lobbies', { id: 'big', particles: 1500 })).status).toBe(201);
    expect(await reserved(server)).toEqual([750, 750]);
    expect((await status(server)).lobbies).toMatchObject([
      { id: 'big', particles: 1500, partitions: 2 },
    ]);
    // 250 free on each worker: 600 fits on neither, whole or split.
    const refused = await post(server, '/lobbies', { id: 'too-big', particles: 600 });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'instance_full' });
    expect((await post(server, '/lobbies', { id: 'small', particles: 200 })).status).toBe(201);
    expect(await reserved(server)).toEqual([750, 950]);
    // More than two workers' budget: beyond SWARMHOST_MAX_PARTITIONS.
    expect((await post(server, '/lobbies', { id: 'huge', particles: 2500 })).status).toBe(503);
  });

  it('plays over real sockets: every particle arrives, spawns within its share land', async () => {
    const player = await joinLobby(server, 'big');
    await waitFor(() => player.frames > 30, 10_000, 'frames of the split lobby');
    expect(player.decoder!.count).toBe(1500);
    const granted = player.spawn(500, 500, 100);
    await waitFor(() => player.ack >= granted, 5000, 'spawn applied');
    expect(player.errors).toEqual([]);
    await waitFor(() => player.decoder!.count === 1600, 5000, 'spawned particles in frames');
    // Its partition thread was started by its lobby worker, whose priority
    // it inherits (Linux, at thread creation): more threads at the worker's nice.
    if (ROOT) {
      splitThreads = threadsAtNice(WORKER_NICE) - workerThreads;
      expect(splitThreads).toBeGreaterThan(0);
    }
    player.close();
  });

  it('restarts whole when one of its partition threads dies; a lobby beside it carries on', async () => {
    const player = await joinLobby(server, 'big');
    const bystander = await joinLobby(server, 'small');
    await waitFor(() => player.frames > 10 && bystander.frames > 10, 10_000, 'both streaming');
    const handle = server.app.directory.get('big')!.handle;
    const crashes: string[] = [];
    handle.onNotice((notice) => {
      if (notice.type === 'crashed') crashes.push(notice.error);
    });
    const keyframes = player.keyframes;
    const tickBefore = player.decoder!.tick;
    expect((await post(server, '/lobbies/big/fault', { kind: 'partition' })).status).toBe(202);
    await waitFor(() => crashes.length > 0, 10_000, 'the crash noticed');
    expect(crashes).toEqual([expect.stringMatching(/world partition 1 (stopped|did not finish)/)]);
    await waitFor(() => player.keyframes > keyframes, 15_000, 'a keyframe after the restart');
    await waitFor(
      () => player.decoder!.tick > tickBefore + 30,
      10_000,
      'the restarted lobby streaming',
    );
    expect(player.closeCode).toBeUndefined();
    expect(bystander.closeCode).toBeUndefined();
    const bystanderTick = bystander.decoder!.tick;
    await waitFor(() => bystander.decoder!.tick > bystanderTick + 30, 5000, 'bystander ticking');
    // Still split (only a split world has a partition thread to lose), still charged to both workers.
    expect((await status(server)).lobbies.find((l) => l.id === 'big')?.partitions).toBe(2);
    // No checkpoint (no fleet): it restarted from its seed, at its initial 1500.
    expect(player.decoder!.count).toBe(1500);
    expect(await reserved(server)).toEqual([750, 950]);
    expect((await post(server, '/lobbies/big/fault', { kind: 'partition' })).status).toBe(202);
    await waitFor(() => crashes.length > 1, 10_000, 'the second crash noticed');
    expect(crashes[1]).toMatch(/world partition 1 (stopped|did not finish)/);
    const tickAgain = player.decoder!.tick;
    await waitFor(() => player.decoder!.tick > tickAgain + 30, 15_000, 'streaming again');
    // The dead incarnations' threads are gone; the running one's are there.
    if (ROOT)
      await waitFor(
        () => threadsAtNice(WORKER_NICE) === workerThreads + splitThreads,
        5000,
        'one split incarnation of threads',
      );
    player.close();
    bystander.close();
  });

  it('gives its room back on both workers when it ends', async () => {
    const before = await reserved(server);
    expect((await server.adminFetch('/lobbies/big', { method: 'DELETE' })).status).toBe(202);
    await waitFor(() => server.app.directory.get('big') === undefined, 5000, 'big removed');
    const deadline = Date.now() + 5000;
    while ((await reserved(server)).join() !== '0,200' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await reserved(server), `room back (was ${before.join(', ')})`).toEqual([0, 200]);
    // Its partition threads stopped with it.
    if (ROOT)
      await waitFor(() => threadsAtNice(WORKER_NICE) === workerThreads, 5000, 'threads stopped');
    expect((await post(server, '/lobbies', { id: 'next', particles: 800 })).status).toBe(201);
  });
});

describe('on the JS kernel (SWARMHOST_KERNEL=js)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await splitServer('js');
  });
  afterAll(async () => server.close());

  it('nothing is split: a lobby beyond one worker is refused as instance full', async () => {
    const refused = await post(server, '/lobbies', { id: 'big', particles: 1500 });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: 'instance_full' });
    expect((await post(server, '/lobbies', { id: 'fits', particles: 1000 })).status).toBe(201);
    expect((await status(server)).lobbies).toMatchObject([{ id: 'fits', partitions: 1 }]);
  });
});
