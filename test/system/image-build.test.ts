/**
 * The Dockerfile, checked and built without Docker (test/system/dockerfile.ts):
 * its choices (Node 24 LTS, non-root, a HEALTHCHECK on liveness, node as
 * PID 1), then its stages rebuilt from exactly what its COPY lines copy,
 * `npm ci` and the build run as its RUN lines say, and the result started
 * as its CMD with its ENV: it must answer /healthz, pass its own
 * HEALTHCHECK, send a player frames, and on SIGTERM drain (readiness 503
 * while the health check still passes, the player closed with 4005) and
 * exit 0. Deleting a COPY line the build or the server needs fails here.
 *
 * `npm ci` runs with `--prefer-offline` (npm_config_prefer_offline), from
 * the machine's npm cache, which the repository's own `npm ci` filled.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/index.js';
import { LobbyClient, type SocketLike } from '../../protocol/lobby-client.js';
import { within } from '../support/server-process.js';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';
import { waitFor } from '../support/server.js';
import { buildStages, execForm, parseDockerfile, type Stage } from './dockerfile.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const NODE_LTS_IMAGE = /^node:24-bookworm-slim$/;
/** `nobody`: CMD runs unprivileged, as USER node does in the image, when the test is root. */
const UNPRIVILEGED = 65534;
/** The drain's pause for the balancer: long enough to probe /readyz and the health check in it. */
const DRAIN_DELAY_MS = 1500;

const stages: Stage[] = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const last = stages.at(-1) as Stage;
const lastArgs = (keyword: string) =>
  last.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;

/** The machine's PATH with this Node first and no project's node_modules/.bin on it. */
function cleanPath(): string {
  const entries = (process.env.PATH ?? '').split(delimiter).filter((p) => !/node_modules/.test(p));
  return [dirname(process.execPath), ...entries].join(delimiter);
}

/** What a RUN sees besides the image's ENV: no HOST, PORT, SWARMHOST_*, NODE_ENV or npm_* of ours. */
function buildEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: cleanPath(),
    npm_config_prefer_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  for (const key of ['HOME', 'LANG', 'TMPDIR', 'npm_config_registry', 'npm_config_cache']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs argv to its end; resolves with its exit code. */
function exitCode(
  argv: string[],
  options: { cwd: string; env: Record<string, string>; uid?: number; gid?: number },
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { ...options, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

describe('the Dockerfile', () => {
  it('builds on Node 24 LTS and runs node as PID 1, non-root, with a health check on liveness', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.base).toMatch(NODE_LTS_IMAGE);
    const user = lastArgs('USER');
    expect(user, 'the runtime stage names a USER').toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    // Exec form, node itself: no shell or npm between SIGTERM and the server.
    expect(execForm(lastArgs('CMD') ?? '')).toEqual([
      'node',
      ...SERVER_NODE_FLAGS,
      'dist/src/main.js',
    ]);
    expect(lastArgs('STOPSIGNAL') ?? 'SIGTERM').toBe('SIGTERM');
    const healthcheck = lastArgs('HEALTHCHECK');
    expect(healthcheck, 'the runtime stage has a HEALTHCHECK').toBeDefined();
    // Liveness: /readyz turns 503 in a drain, and an orchestrator acting
    // on an unhealthy container would kill it mid-drain.
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).not.toMatch(/\bcurl\b|\bwget\b/);
    // The build installs from the lock, and the runtime gets no dev dependencies.
    const runs = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));
    expect(runs.map((r) => r.args).join('\n')).toMatch(/npm ci\b/);
    expect(runs.map((r) => r.args).join('\n')).toMatch(/--omit=dev/);
    expect(lastArgs('ENV')).toMatch(/NODE_ENV=production/);
  });

  describe('rebuilt without Docker', () => {
    const workDir = mkdtempSync(join(tmpdir(), 'swarmhost-image-'));
    let server: ChildProcess | undefined;
    afterAll(async () => {
      if (server && server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await new Promise((resolve) => server?.once('exit', resolve));
      }
      rmSync(workDir, { recursive: true, force: true });
    });

    it('builds from exactly what it copies, serves, passes its HEALTHCHECK and drains on SIGTERM', async () => {
      // Nothing above the stages may lend the build a package.json or node_modules.
      for (let dir = workDir; dir !== dirname(dir); dir = dirname(dir)) {
        expect(existsSync(join(dirname(dir), 'node_modules')), dirname(dir)).toBe(false);
        expect(existsSync(join(dirname(dir), 'package.json')), dirname(dir)).toBe(false);
      }
      const log: string[] = [];
      const image = await buildStages(stages, {
        context: repoRoot,
        workDir,
        env: buildEnv(),
        log: (line) => log.push(line),
      });
      console.log(
        `image stages built: ${image.runs.map((r) => `${r.command} (${(r.ms / 1000).toFixed(1)} s)`).join('; ')}`,
      );

      // As USER node in the image: an unprivileged user that owns none of /app.
      const asRoot = process.getuid?.() === 0;
      if (asRoot) chmodSync(workDir, 0o755);
      const ids = asRoot ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : {};
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: cleanPath(),
        ...image.env,
        // Loopback only, on a free port; a small lobby; a drain with a pause to look into.
        HOST: '127.0.0.1',
        PORT: String(port),
        SWARMHOST_DEFAULT_PARTICLES: '300',
        SWARMHOST_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
      };
      expect(image.env.NODE_ENV).toBe('production');
      const cwd = join(image.root, image.workdir);
      const [command, ...args] = image.cmd;
      // `node` in the image is its Node; here, the Node running this test.
      server = spawn(command === 'node' ? process.execPath : command, args, {
        cwd,
        env,
        ...ids,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      server.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      server.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) =>
        server?.once('exit', (code) => resolve(code)),
      );
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 15_000;
      let health: Response | undefined;
      while (!health?.ok) {
        if (server.exitCode !== null) throw new Error(`the image's CMD exited: ${output}`);
        if (Date.now() > deadline) throw new Error(`no /healthz after 15 s: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        health = await fetch(`${base}/healthz`).catch(() => undefined);
      }
      expect(await health.json()).toMatchObject({ status: 'ok' });

      // The image's own HEALTHCHECK command, with the container's environment.
      const check = image.healthcheck?.command ?? [];
      const checkArgv = check[0] === 'node' ? [process.execPath, ...check.slice(1)] : check;
      const healthcheck = () => exitCode(checkArgv, { cwd, env, ...ids });
      expect(await healthcheck()).toBe(0);

      // The built client is there, and a player gets frames.
      expect((await fetch(`${base}/lobby/image`)).status).toBe(200);
      expect((await fetch(`${base}/assets/lobby.js`)).status).toBe(200);
      const socket = new WebSocket(`ws://127.0.0.1:${port}/lobby/image/ws`);
      const player = new LobbyClient(socket as unknown as SocketLike);
      await waitFor(() => player.frames > 0 || player.closeCode !== undefined, 10_000, 'a frame');
      expect(player.closeCode).toBeUndefined();
      expect(player.keyframes).toBeGreaterThan(0);

      // SIGTERM, as `docker stop` sends it to PID 1: a drain, not a death.
      server.kill('SIGTERM');
      let ready = await fetch(`${base}/readyz`);
      for (let i = 0; i < 20 && ready.status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        ready = await fetch(`${base}/readyz`);
      }
      expect(ready.status).toBe(503);
      expect(await healthcheck(), 'the health check passes while the instance drains').toBe(0);
      await waitFor(() => player.closeCode !== undefined, DRAIN_DELAY_MS + 8000, 'the 4005 close');
      expect(player.closeCode).toBe(CloseCode.draining);
      expect(await within(exited, 15_000, 'the server exiting after SIGTERM')).toBe(0);
      expect(output).toMatch(/"msg":"draining"/);
    }, 300_000);
  });
});
