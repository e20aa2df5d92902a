/**
 * SWARMHOST_KERNEL end to end: the server steps its lobbies on the kernel
 * it names, inline and on a worker thread (where the compiled module
 * arrives through workerData); a wasm kernel that cannot be loaded means
 * the JS kernel, and one warning in the log saying why. /status and
 * /metrics say which runs. SWARMHOST_STEER_BUDGET reaches each lobby.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LobbyNotice } from '../../lobbies/lobby-handle.js';
import { NO_RESTARTS } from '../../lobbies/lobby-host.js';
import type { LobbySettings } from '../../lobbies/lobby-messages.js';
import { WorkerLobbyHost } from '../../lobbies/worker-pool.js';
import { type Config, JS_KERNEL_PARTICLE_BUDGET, SETTINGS } from '../../src/config.js';
import type { AppOptions } from '../../src/app.js';
import { metricValue } from '../support/metrics.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface LogLine {
  level: number;
  msg: string;
}

/** Starts a server logging into an array; returns it with the lines. */
async function serverWithLog(
  overrides: Partial<Config>,
  options: AppOptions = {},
): Promise<{ server: TestServer; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n'))
        if (line.startsWith('{')) lines.push(JSON.parse(line));
      done();
    },
  });
  const started = await startServer(
    { defaultParticles: 2000, logLevel: 'info', ...overrides },
    { logger: true, logStream, ...options },
  );
  return { server: started, lines };
}

/** Joins a lobby and waits until it has stepped a second's worth of ticks. */
async function expectLobbySteps(s: TestServer, lobbyId: string): Promise<void> {
  const client = await joinLobby(s, lobbyId);
  const handle = s.app.directory.get(lobbyId)!.handle;
  let frames = 0;
  const stop = handle.frames.onSend(() => frames++);
  await waitFor(() => frames > 60 && client.frames > 10, 10_000, `${lobbyId} frames`);
  stop();
  client.close();
}

/** /status and /metrics say which kernel runs, and why when it is not the one asked for. */
async function expectKernelShown(
  s: TestServer,
  world: { kernel: string; kernelRequested: string; kernelFallback: string | null },
): Promise<void> {
  const status = await (await fetch(`${s.http}/status`)).json();
  expect(status.world).toEqual({ ...world, steerBudget: 10_000 });
  const other = world.kernel === 'wasm' ? 'js' : 'wasm';
  expect(await metricValue(s, 'swarmhost_world_kernel', { kernel: world.kernel })).toBe(1);
  expect(await metricValue(s, 'swarmhost_world_kernel', { kernel: other })).toBe(0);
}

/** The particle budget per worker, left at its default: the running kernel's (config.ts). */
async function expectDefaultBudget(s: TestServer, kernel: 'wasm' | 'js'): Promise<void> {
  const budget = kernel === 'wasm' ? SETTINGS.particleBudget.default : JS_KERNEL_PARTICLE_BUDGET;
  expect(s.app.config.particleBudget).toBe(budget);
  const status = await (await fetch(`${s.http}/status`)).json();
  expect(status.capacity.workers.map((w: { budget: number }) => w.budget)).toEqual(
    status.capacity.workers.map(() => budget),
  );
  expect(status.capacity.workers.length).toBeGreaterThan(0);
}

const kernelWarnings = (lines: LogLine[]) =>
  lines.filter((line) => /wasm world kernel could not be loaded/.test(line.msg));

describe('SWARMHOST_KERNEL', () => {
  it.each([
    ['js', 0],
    ['wasm', 0],
    ['js', 1],
    ['wasm', 1],
  ] as const)(
    '%s with %i workers: lobbies step on it, and nothing is said',
    async (kernel, workers) => {
      const started = await serverWithLog({ kernel, workers });
      server = started.server;
      expect(server.app.worldKernel).toBe(kernel);
      await expectLobbySteps(server, `kernel-${kernel}-${workers}`);
      expect(kernelWarnings(started.lines)).toEqual([]);
      await expectKernelShown(server, { kernel, kernelRequested: kernel, kernelFallback: null });
      await expectDefaultBudget(server, kernel);
    },
  );

  it.each([0, 1])(
    'a wasm kernel that cannot load: the JS kernel runs, and one warning says why (%i workers)',
    async (workers) => {
      const started = await serverWithLog(
        { kernel: 'wasm', workers },
        { worldKernelWasm: '/nonexistent/boids-kernel.wasm' },
      );
      server = started.server;
      expect(server.app.worldKernel).toBe('js');
      await expectLobbySteps(server, 'fallback-a');
      await expectLobbySteps(server, 'fallback-b');
      const warnings = kernelWarnings(started.lines);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].level).toBe(40);
      expect(warnings[0].msg).toMatch(
        /\/nonexistent\/boids-kernel\.wasm.*lobbies run the JS kernel/,
      );
      await expectKernelShown(server, {
        kernel: 'js',
        kernelRequested: 'wasm',
        kernelFallback: warnings[0].msg,
      });
      // The budget left at the wasm kernel's default is the JS kernel's, and the log says so.
      await expectDefaultBudget(server, 'js');
      expect(
        started.lines.some((line) => /particle budget per worker lowered/.test(line.msg)),
      ).toBe(true);
    },
  );
});

describe('SWARMHOST_STEER_BUDGET', () => {
  it.each([
    [undefined, 2],
    [500, 4],
    [0, 2],
  ] as const)(
    'budget %s: each lobby steps on it, and /status says how often each particle steers (%i)',
    async (steerBudget, interval) => {
      const started = await serverWithLog({
        workers: 1,
        ...(steerBudget === undefined ? {} : { steerBudget }),
      });
      server = started.server;
      await expectLobbySteps(server, 'budget');
      expect(server.app.directory.get('budget')!.handle.settings.steerBudget).toBe(
        steerBudget ?? 10_000,
      );
      const status = await (await fetch(`${server.http}/status`)).json();
      expect(status.world.steerBudget).toBe(steerBudget ?? 10_000);
      expect(status.lobbies).toMatchObject([
        { id: 'budget', particles: 2000, steerInterval: interval },
      ]);
    },
  );
});

describe('the kernel on a worker thread', () => {
  const settings: LobbySettings = {
    id: 'on-worker',
    seed: 7,
    particles: 500,
    maxParticles: 1000,
    worldSize: 1000,
    tickRate: 60,
    maxCatchUpSteps: 4,
    idleTimeoutMs: 60_000,
    inboxCapacity: 16,
    closeGraceMs: 100,
  };

  it('is the one the host was given: a module that is no kernel fails the lobby there', async () => {
    // Valid wasm with no exports: it crosses to the worker in workerData,
    // and only a world built on it there can fail to step.
    const module = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const host = new WorkerLobbyHost({
      size: 1,
      frameRing: 4,
      restartPolicy: NO_RESTARTS,
      kernel: { kind: 'wasm', module },
    });
    try {
      const spawned = host.spawn(settings);
      if (!spawned.ok) throw new Error(spawned.message);
      const notices: LobbyNotice[] = [];
      spawned.handle.onNotice((notice) => notices.push(notice));
      await waitFor(() => spawned.handle.ended, 10_000, 'the lobby to fail');
      expect(spawned.handle.status.get().phase).toBe('failed');
      expect(JSON.stringify(notices)).toMatch(
        /not the boids kernel: the wasm module exports no configureLayout/,
      );
    } finally {
      await host.shutdown();
    }
  });
});
