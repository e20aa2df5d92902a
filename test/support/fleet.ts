/**
 * A fleet for tests: swarmhost instances as real processes (server-process.ts)
 * sharing one Redis, each registered under its name with a table router
 * (table-router.ts) that stands in for the load balancer.
 *
 * It owns those processes and their registrations: an instance's port is
 * registered once it listens and removed once it has exited, so the router
 * never dials a dead instance's port (a new process may own it by then).
 * Which lobby goes where is the test's business: `fleet.router.route(id, name)`.
 * Short drain, checkpoint and lease times keep scenario tests within seconds.
 */
import { LOBBY_PHASE_RULES, type LobbyStatus } from '../../protocol/index.js';
import { TEST_ADMIN_TOKEN } from './server.js';
import {
  type Child,
  type Exit,
  listeningPort,
  startServerProcess,
  within,
} from './server-process.js';
import { startTableRouter, type TableRouter } from './table-router.js';

/** How long an instance may take to listen (tsx compiles the server on start). */
const START_TIMEOUT_MS = 15_000;
/** How long stop() waits for a drain to end in exit. */
const STOP_TIMEOUT_MS = 15_000;
/** How long one GET /lobbies may take. */
const FETCH_TIMEOUT_MS = 3000;

export interface FleetOptions {
  names: readonly string[];
  redisUrl: string;
  /** Extra or overriding environment for every instance. */
  env?: Record<string, string>;
  /** A router to register with; else one is started (default target: the first name). */
  router?: TableRouter;
}

export interface FleetInstance {
  name: string;
  port: number;
  child: Child;
  /** http://127.0.0.1:port, straight to this instance (around the router). */
  url: string;
}

export type LobbySummary = Pick<LobbyStatus, 'id' | 'clients' | 'tick' | 'particles' | 'phase'>;

export interface Fleet {
  router: TableRouter;
  /** Names of the instances started and not stopped. */
  names(): string[];
  instance(name: string): FleetInstance;
  /** SIGTERM (a drain), and the exit. */
  stop(name: string): Promise<Exit>;
  /** SIGKILL (a crash), and the exit. */
  kill(name: string): Promise<Exit>;
  /** Stops it if it runs, starts it again under the same name, registers the new port. */
  restart(name: string): Promise<FleetInstance>;
  add(name: string): Promise<FleetInstance>;
  /** Kills every instance, and closes the router if the fleet started it. */
  closeAll(): Promise<void>;
  /** The lobbies that run on that instance (its /status). */
  lobbiesOn(name: string): Promise<LobbySummary[]>;
  /** Names of the running instances that run lobby `id` (listed, not ended, not frozen for a hand-over). */
  whereIs(id: string): Promise<string[]>;
}

/** The environment of instance `name` before the test's overrides. */
export function fleetEnv(name: string, redisUrl: string): Record<string, string> {
  return {
    SWARMHOST_REDIS_URL: redisUrl,
    SWARMHOST_INSTANCE_ID: name,
    // What src/config.ts reads for the listener: port 0, and the address
    // listeningPort() looks for in the log.
    PORT: '0',
    HOST: '127.0.0.1',
    SWARMHOST_WORKERS: '1',
    SWARMHOST_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    SWARMHOST_DRAIN_DELAY_MS: '300',
    SWARMHOST_CHECKPOINT_INTERVAL_MS: '500',
    SWARMHOST_LEASE_MS: '1500',
    // At most a third of the lease (config.ts checks it).
    SWARMHOST_REDIS_TIMEOUT_MS: '400',
    NODE_ENV: 'test',
  };
}

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const router = options.router ?? (await startTableRouter({ defaultTarget: options.names[0] }));
  const instances = new Map<string, FleetInstance>();

  const running = (name: string) => {
    const child = instances.get(name)?.child.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };

  const start = async (name: string): Promise<FleetInstance> => {
    const child = startServerProcess({ ...fleetEnv(name, options.redisUrl), ...options.env });
    let port: number;
    try {
      port = await within(listeningPort(child), START_TIMEOUT_MS, `instance ${name} listens`);
    } catch (error) {
      child.process.kill('SIGKILL');
      throw error;
    }
    const instance = { name, port, child, url: `http://127.0.0.1:${port}` };
    instances.set(name, instance);
    router.setInstance(name, port);
    // Deregistered only if this is still the instance under that name.
    child.exited.then(() => {
      if (instances.get(name) === instance) router.removeInstance(name);
    });
    return instance;
  };

  const end = async (name: string, signal: NodeJS.Signals): Promise<Exit> => {
    const { child } = fleet.instance(name);
    if (running(name)) child.process.kill(signal);
    const exit = await within(child.exited, STOP_TIMEOUT_MS, `instance ${name} exits (${signal})`);
    router.removeInstance(name);
    return exit;
  };

  const fleet: Fleet = {
    router,
    names: () => [...instances.keys()].filter(running),
    instance: (name) => {
      const instance = instances.get(name);
      if (!instance) throw new Error(`no instance '${name}' in this fleet`);
      return instance;
    },
    stop: (name) => end(name, 'SIGTERM'),
    kill: (name) => end(name, 'SIGKILL'),
    restart: async (name) => {
      if (running(name)) await end(name, 'SIGTERM');
      return start(name);
    },
    add: async (name) => {
      if (instances.has(name)) throw new Error(`instance '${name}' exists: restart it`);
      return start(name);
    },
    closeAll: async () => {
      await Promise.all([...instances.keys()].map((name) => end(name, 'SIGKILL')));
      if (!options.router) await router.close();
    },
    lobbiesOn: async (name) => {
      // /status lists the lobbies that run on this instance; in fleet mode
      // GET /lobbies lists the whole fleet's (from the fleet directory).
      const response = await fetch(`${fleet.instance(name).url}/status`, {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`GET /status on ${name}: ${response.status}`);
      const { lobbies } = (await response.json()) as { lobbies: LobbyStatus[] };
      return lobbies.map(({ id, clients, tick, particles, phase }) => ({
        id,
        clients,
        tick,
        particles,
        phase,
      }));
    },
    whereIs: async (id) => {
      const names = fleet.names();
      const lists = await Promise.all(names.map((name) => fleet.lobbiesOn(name).catch(() => [])));
      return names.filter((_, i) =>
        // A lobby frozen for a hand-over runs nowhere: its state is on its way.
        lists[i].some(
          (lobby) =>
            lobby.id === id &&
            !LOBBY_PHASE_RULES[lobby.phase].ended &&
            lobby.phase !== 'handingOver',
        ),
      );
    },
  };

  try {
    await Promise.all(options.names.map((name) => fleet.add(name)));
  } catch (error) {
    await fleet.closeAll();
    throw error;
  }
  return fleet;
}
