/**
 * The server under test: the one --url names (a server or a load balancer
 * in front of a fleet), or, without --url, one this run starts on
 * 127.0.0.1 with every per-address cap lifted. It knows how to reach a
 * lobby, how to create one with N particles (POST /lobbies, admin token),
 * and how to set the send rate for the run and put it back afterwards.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stopChild } from '../child-processes.js';
import { UsageError } from '../cli-options.js';
import { LOOPBACK_CLIENT_CAPS, startServerProcess } from '../server-process.js';
import type { LoadtestOptions } from './options.js';

export interface Target {
  url: string;
  metricsUrls: string[];
  /** True when this run started the server. */
  local: boolean;
  lobbyUrl(id: string): string;
  /** Creates the lobby with --particles particles; without --particles a join creates it. */
  createLobby(id: string): Promise<void>;
  /** Undoes what the run changed, stops a local server. */
  close(): Promise<void>;
}

/**
 * A --url that answers nothing is a bad value, said at once: a run against
 * it would only measure its own failure to connect for the whole duration.
 * Any HTTP answer to /healthz will do (a balancer may answer it itself).
 */
async function expectReachable(base: string): Promise<void> {
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
  } catch (error) {
    throw new UsageError(`--url ${base} cannot be reached: ${describeFetchError(error)}`);
  }
}

/** Tries of a lobby creation that fails before an answer. */
const CREATE_ATTEMPTS = 3;

/** undici's "fetch failed" says nothing: its cause says what failed. */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.message
    ? `${message}: ${cause.message}${cause.code ? ` (${cause.code})` : ''}`
    : message;
}

export async function openTarget(options: LoadtestOptions): Promise<Target> {
  let child: ChildProcess | undefined;
  let url = options.url;
  let token = options.token;
  let metricsUrls = options.metricsUrls;
  if (url === undefined) {
    token = randomBytes(16).toString('hex');
    const particles = String(Math.max(options.particles ?? 0, 100_000));
    const started = await startServerProcess(
      {
        ...LOOPBACK_CLIENT_CAPS,
        SWARMHOST_ADMIN_TOKEN: token,
        SWARMHOST_ADMIN_PORT: '-1',
        SWARMHOST_MAX_LOBBIES: '10000',
        SWARMHOST_MAX_CLIENTS_PER_LOBBY: '10000',
        SWARMHOST_MAX_PARTICLES: particles,
        // A ramp of lobbies must reach the CPU's limit, not the admission budget's.
        SWARMHOST_PARTICLE_BUDGET: '10000000',
      },
      { logs: 'file' },
    );
    child = started.child;
    url = started.base;
    metricsUrls = [`${url}/metrics`];
  }
  const base = url;
  if (!child) await expectReachable(base);
  const auth = { authorization: `Bearer ${token}` };
  return {
    url: base,
    metricsUrls,
    local: child !== undefined,
    lobbyUrl: (id) => `${base.replace(/^http/, 'ws')}/lobby/${encodeURIComponent(id)}/ws`,
    async createLobby(id) {
      if (options.particles === undefined) return;
      // A connection a balancer closed while idle fails the request before
      // it is sent: try again. A 409 on a retry is our first try's lobby
      // (this run's ids are its own).
      for (let attempt = 1; ; attempt++) {
        let response: Response;
        try {
          response = await fetch(`${base}/lobbies`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...auth },
            body: JSON.stringify({ id, particles: options.particles }),
            signal: AbortSignal.timeout(10_000),
          });
        } catch (error) {
          if (attempt < CREATE_ATTEMPTS) continue;
          throw new Error(`POST /lobbies ${id}: ${describeFetchError(error)}`);
        }
        if (response.status === 201 || (response.status === 409 && attempt > 1)) return;
        throw new Error(`POST /lobbies ${id}: ${response.status} ${await response.text()}`);
      }
    },
    async close() {
      if (child) await stopChild(child);
    },
  };
}
