/**
 * A fleet for load-balancer tests: swarmhost instances as real processes
 * (through fleet.ts, one single-instance fleet each) sharing one Redis, each
 * on a port of its own that it keeps across restarts, as a compose service
 * keeps its name: so a balancer's config names every instance once, and an
 * instance that comes back is found where it was, without a reload.
 *
 * It owns those instances (`closeAll()` kills them) and the placement view
 * the tests judge: which running instances run which lobby, sampled from
 * every instance's /status, and a watch that reports split lobbies (one id
 * running on two instances) while a scenario plays.
 */
import { LOBBY_PHASE_RULES } from '../../protocol/index.js';
import { parseSamples, sum } from '../../bench/prometheus-text.js';
import { freePort, type Upstream } from '../../bench/balancer.js';
import { type Fleet, type LobbySummary, startFleet } from './fleet.js';
import type { Exit } from './server-process.js';
import { TEST_ADMIN_TOKEN } from './server.js';

/** How often the split watch samples the placement (a real split lasts until a lease renewal, a third of the lease). */
const WATCH_INTERVAL_MS = 250;
/** How long one /status or /metrics request may take. */
const FETCH_TIMEOUT_MS = 3000;

export interface BalancedFleetOptions {
  /** Every instance the scenario may run, in the balancer's order (`swarmhost-1`, ...). */
  names: readonly string[];
  /** The ones started at once. */
  initial: readonly string[];
  redisUrl: string;
  env: Record<string, string>;
}

/** Lobby id → names of the running instances that run it (not ended, not frozen for a hand-over). */
export type Placement = Map<string, string[]>;

export interface BalancedFleet {
  /** The first `count` instances as the balancer's servers (running or not). */
  upstreams(count: number): Upstream[];
  /** Names of the running instances. */
  running(): string[];
  /** Starts the instance on its port (again, after a stop or a kill). */
  start(name: string): Promise<void>;
  /** SIGTERM (a drain), and the exit. */
  stop(name: string): Promise<Exit>;
  /** SIGKILL (a crash), and the exit. */
  kill(name: string): Promise<Exit>;
  lobbiesOn(name: string): Promise<LobbySummary[]>;
  /** The instance's log lines (of its current process) whose message matches `pattern`. */
  logLines(name: string, pattern: RegExp): string[];
  placement(): Promise<Placement>;
  /**
   * A metric summed over `instances` (running ones: a stopped instance takes
   * its counters with it, so compare sums over the same instances).
   */
  metric(
    name: string,
    labels: Record<string, string>,
    instances: readonly string[],
  ): Promise<number>;
  /** Samples the placement until stopped; resolves with the splits seen (confirmed by a second sample). */
  watchSplits(): { stop(): Promise<string[]> };
  closeAll(): Promise<void>;
}

export async function startBalancedFleet(options: BalancedFleetOptions): Promise<BalancedFleet> {
  const ports = new Map<string, number>();
  for (const name of options.names) ports.set(name, await freePort());
  const fleets = new Map<string, Fleet>();

  const isRunning = (name: string) => fleets.get(name)?.names().includes(name) ?? false;
  const fleetOf = (name: string) => {
    const fleet = fleets.get(name);
    if (!fleet) throw new Error(`instance ${name} was never started`);
    return fleet;
  };

  const placement = async (): Promise<Placement> => {
    const names = options.names.filter(isRunning);
    const lists = await Promise.all(
      names.map((name) =>
        fleetOf(name)
          .lobbiesOn(name)
          .catch(() => []),
      ),
    );
    const where: Placement = new Map();
    names.forEach((name, i) => {
      for (const lobby of lists[i]) {
        if (LOBBY_PHASE_RULES[lobby.phase].ended || lobby.phase === 'handingOver') continue;
        where.set(lobby.id, [...(where.get(lobby.id) ?? []), name]);
      }
    });
    return where;
  };

  const fleet: BalancedFleet = {
    upstreams: (count) =>
      options.names.slice(0, count).map((name) => ({ name, port: ports.get(name) ?? 0 })),
    running: () => options.names.filter(isRunning),
    start: async (name) => {
      const existing = fleets.get(name);
      if (existing) {
        await existing.restart(name);
        return;
      }
      // fleet.ts gives every instance port 0; this one keeps its own.
      const env = { ...options.env, PORT: String(ports.get(name)) };
      fleets.set(name, await startFleet({ names: [name], redisUrl: options.redisUrl, env }));
    },
    stop: (name) => fleetOf(name).stop(name),
    kill: (name) => fleetOf(name).kill(name),
    lobbiesOn: (name) => fleetOf(name).lobbiesOn(name),
    logLines: (name, pattern) =>
      fleetOf(name)
        .instance(name)
        .child.stdout()
        .split('\n')
        .filter((line) => pattern.test(line)),
    placement,
    metric: async (metric, labels, instances) => {
      const totals = await Promise.all(
        instances.map(async (name) => {
          const response = await fetch(`${fleetOf(name).instance(name).url}/metrics`, {
            headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
            signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
          });
          return sum(parseSamples(await response.text()), metric, labels);
        }),
      );
      return totals.reduce((a, b) => a + b, 0);
    },
    watchSplits: () => {
      const splits: string[] = [];
      let stopped = false;
      const split = (where: Placement) =>
        [...where].filter(([, names]) => names.length > 1).map(([id]) => id);
      const loop = (async () => {
        while (!stopped) {
          const suspects = split(await placement());
          if (suspects.length > 0) {
            // The instances are sampled a few ms apart: a lobby that moved in
            // between shows on both. A real split lasts until a lease renewal.
            const again = await placement();
            for (const id of suspects) {
              if ((again.get(id) ?? []).length > 1) splits.push(`${id} on ${again.get(id)}`);
            }
          }
          await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
        }
      })();
      return {
        stop: async () => {
          stopped = true;
          await loop;
          return splits;
        },
      };
    },
    closeAll: async () => {
      await Promise.all([...fleets.values()].map((f) => f.closeAll()));
      fleets.clear();
    },
  };

  try {
    await Promise.all(options.initial.map((name) => fleet.start(name)));
  } catch (error) {
    await fleet.closeAll();
    throw error;
  }
  return fleet;
}
