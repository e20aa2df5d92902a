/**
 * bench:handover's side of the fleet: its two instances (processes from
 * source in fleet mode against one Redis), what the bench asks them
 * (/status, /metrics) and reads of them (their log lines about the lobby,
 * the lease's TTL in Redis). Everything on 127.0.0.1.
 */
import type { ChildProcess } from 'node:child_process';
import type { LobbyStatus } from '../protocol/index.js';
import { parseSamples, type Sample } from './prometheus-text.js';
import type { RedisServer } from './redis-server.js';
import { LOOPBACK_CLIENT_CAPS, startServerProcess } from './server-process.js';

/** The one lobby the bench moves. */
export const LOBBY = 'handover-bench';
export const INSTANCES = ['A', 'B'] as const;
export type InstanceName = (typeof INSTANCES)[number];

/** No HTTP request to an instance waits longer than this. */
const REQUEST_TIMEOUT_MS = 3000;
/** The server's default caps on the wasm kernel, kept unless the lobby needs more (src/config.ts). */
const DEFAULT_PARTICLE_BUDGET = 60_000;
const DEFAULT_MAX_PARTICLES = 100_000;
/** How often the bench reads the lease's TTL. */
const LEASE_POLL_MS = 100;

export interface Instance {
  name: InstanceName;
  base: string;
  child: ChildProcess;
  /** Its log lines about the lobby (not per-request lines), or at warn and above, with when they came: printed when a move fails. */
  log: Array<{ at: number; line: string }>;
  /** Times it logged retaking a lease that had lapsed in Redis (its renewals did not get through in time). */
  leasesRetaken: number;
}

/** Log lines kept per instance for a failure report (a move logs about 6). */
const LOG_LINES_KEPT = 5000;
/** Lines printed per instance for a failed move: from a little before it began. */
const LOG_LINES_SHOWN = 60;
const LOG_LEAD_MS = 2000;

export const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

/** The lobby as each instance's /status lists it (undefined: not listed there). */
export async function whereIsLobby(
  instances: readonly Instance[],
): Promise<Map<InstanceName, LobbyStatus | undefined>> {
  const lists = await Promise.all(
    instances.map(async (instance) => {
      const response = await get(`${instance.base}/status`);
      if (!response.ok) throw new Error(`GET /status on ${instance.name}: ${response.status}`);
      const { lobbies } = (await response.json()) as { lobbies: LobbyStatus[] };
      return lobbies.find((lobby) => lobby.id === LOBBY);
    }),
  );
  return new Map(instances.map((instance, i) => [instance.name, lists[i]]));
}

export function describeWhere(where: Map<InstanceName, LobbyStatus | undefined>): string {
  return [...where]
    .map(([name, lobby]) =>
      lobby
        ? `${name}: ${lobby.phase}, ${lobby.clients} clients, ${lobby.particles} particles`
        : `${name}: not listed`,
    )
    .join('; ');
}

export function startInstance(
  name: InstanceName,
  redisUrl: string,
  particles: number,
): Promise<Instance> {
  return startServerProcess({
    ...LOOPBACK_CLIENT_CAPS,
    SWARMHOST_REDIS_URL: redisUrl,
    SWARMHOST_INSTANCE_ID: name,
    SWARMHOST_WORKERS: '1',
    // Every join elsewhere moves the lobby, however recently it moved.
    SWARMHOST_HANDOVER_DAMPING_MS: '0',
    SWARMHOST_DEFAULT_PARTICLES: String(particles),
    SWARMHOST_PARTICLE_BUDGET: String(Math.max(DEFAULT_PARTICLE_BUDGET, particles)),
    SWARMHOST_MAX_PARTICLES: String(Math.max(DEFAULT_MAX_PARTICLES, particles)),
  }).then(({ child, base }) => {
    const log: Instance['log'] = [];
    const instance: Instance = { name, base, child, log, leasesRetaken: 0 };
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        // pino levels: 40 warn, 50 error, 60 fatal.
        const warning = /"level":(4|5|6)0/.test(line);
        if (!warning && (!line.includes(LOBBY) || line.includes('"reqId"'))) continue;
        if (line.includes('lease taken again')) instance.leasesRetaken++;
        log.push({
          at: performance.now(),
          line: line.length > 400 ? `${line.slice(0, 400)}…` : line,
        });
        if (log.length > LOG_LINES_KEPT) log.shift();
      }
    });
    return instance;
  });
}

/** Each instance's log lines about the lobby (or at warn+) from a little before `since` (performance.now()). */
export function printLogs(instances: readonly Instance[], since: number): void {
  for (const { name, log } of instances) {
    const lines = log.filter((entry) => entry.at >= since - LOG_LEAD_MS).slice(0, LOG_LINES_SHOWN);
    console.error(
      `--- ${name}: ${lines.length} log lines about ${LOBBY} or at warn+, from the first failed move`,
    );
    for (const { line } of lines) console.error(line);
  }
}

/**
 * Polls the lobby's lease TTL in Redis: how close its owner came to losing
 * it (a lease that lapses lets a join elsewhere take the lobby without a
 * hand-over). Gaps between owners (no key) are normal during a move.
 */
export function watchLease(
  redis: RedisServer,
  key: string,
): { stop(): void; lowestTtlMs(): number } {
  let lowest = Number.POSITIVE_INFINITY;
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const ttl = await redis.command('PTTL', key).catch(() => -1);
      if (typeof ttl === 'number' && ttl >= 0) lowest = Math.min(lowest, ttl);
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  })();
  return {
    stop: () => {
      stopped = true;
    },
    lowestTtlMs: () => lowest,
  };
}

/** Sums of both instances' metrics, for the server's own view of the hand-overs. */
export async function scrapeAll(instances: readonly Instance[]): Promise<Sample[]> {
  const texts = await Promise.all(
    instances.map(async (i) => (await get(`${i.base}/metrics`)).text()),
  );
  return texts.flatMap(parseSamples);
}
