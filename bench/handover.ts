/**
 * `npm run bench:handover`: how long a lobby takes to move between two fleet
 * instances when a join reaches the one that does not own it (issue 11's
 * target: hand-over p99 <= 500 ms for a 10k lobby on loopback), and how long
 * its players go without frames meanwhile.
 *
 * It owns the run, its moves and their checks, and the teardown: a real
 * redis-server (redis-server.ts), two instances A and B in fleet mode
 * (handover-fleet.ts), the lobby's players (handover-player.ts: the shared
 * ReconnectingLobbyClient, whose createSocket here plays the load balancer:
 * a variable says which instance new sockets go to, so no router process
 * sits in the measured path), then the report (handover-report.ts).
 * Everything listens on and dials 127.0.0.1 only, and a watchdog ends the run.
 */
import WebSocket from 'ws';
import {
  CloseCode,
  LOBBY_PHASE_RULES,
  type LobbyStatus,
  type SocketLike,
} from '../protocol/index.js';
import { intOption, parseOptions, runMain } from './cli-options.js';
import {
  describeWhere,
  get,
  INSTANCES,
  type Instance,
  type InstanceName,
  LOBBY,
  printLogs,
  scrapeAll,
  startInstance,
  watchLease,
  whereIsLobby,
} from './handover-fleet.js';
import { BenchPlayer, describePlayers } from './handover-player.js';
import { type MoveResult, report } from './handover-report.js';
import { startRedis, stopAllRedis } from './redis-server.js';
import { ms } from './stats.js';

/** A move whose players are not all on the new owner by then is a failure (the server waits 2 s at most for a hand-over). */
const MOVE_TIMEOUT_MS = 10_000;
/** How long /status may take to show the move (one owner, P+1 clients) or the newcomer gone. */
const SETTLE_TIMEOUT_MS = 5000;
/** Starting redis and two instances from source (tsx compiles on start). */
const START_TIMEOUT_MS = 60_000;
/** The first players' wait for the lobby to be created from its seed and send frames. */
const FIRST_FRAMES_TIMEOUT_MS = 20_000;
/** Lets the first lobby's worker warm up (its JIT) before the first move. */
const WARM_UP_MS = 2000;
/** How often the bench polls a condition. */
const POLL_MS = 5;

const USAGE = `Usage: npm run bench:handover -- [--particles N] [--players P] [--moves M] [--pause-ms MS]

Two swarmhost instances A and B (processes from source, fleet mode, one real
redis-server on 127.0.0.1, 1 worker each, hand-over damping off) and one lobby
of N particles with P players (the shared ReconnectingLobbyClient). The bench
plays the load balancer: each move points new sockets at the other instance
and opens one new player's socket there (a join elsewhere). The owner
checkpoints the lobby into Redis and closes its players with 4007; they
reconnect to the new owner, which resumes the lobby from the checkpoint.

Measured per move:
  hand-over time  from the newcomer's socket being opened to the moment every
                  player (the P moved ones and the newcomer) has its first
                  frame from the new owner (welcome.instanceId says which)
  reconnect gap   each moved player's last frame from the old owner to its
                  first from the new one
Checked per move: exactly one instance lists the lobby in /status (the new
owner, with P+1 clients), no player ever saw a tick go back, the particle
count is kept. The newcomer then leaves, so the lobby keeps P players.

  --particles N   particles in the lobby (default 10000; 1..1000000)
  --players P     players that stay in the lobby and move with it (default 4; 1..50)
  --moves M       hand-overs measured (default 20; 1..1000)
  --pause-ms MS   how long the lobby runs on its new owner between moves
                  (default 1000; 0..60000)
  -h, --help      this text

SWARMHOST_PARTICLE_BUDGET and SWARMHOST_MAX_PARTICLES are raised to fit N.
Exits 0 when every check held (whether or not the target was met), 1 when a
check failed or a move did not complete in ${MOVE_TIMEOUT_MS / 1000} s, 2 on a bad
option.`;

interface Options {
  particles: number;
  players: number;
  moves: number;
  pauseMs: number;
}

class MoveTimeout extends Error {}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string | Promise<string>,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline)
      throw new MoveTimeout(`not within ${timeoutMs} ms: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function main(): Promise<number> {
  const values = parseOptions(process.argv.slice(2), {
    particles: { type: 'string' },
    players: { type: 'string' },
    moves: { type: 'string' },
    'pause-ms': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const options: Options = {
    particles: intOption(values, 'particles', 10_000, 1, 1_000_000),
    // The newcomer makes P+1, within the server's default 100 clients per lobby.
    players: intOption(values, 'players', 4, 1, 50),
    moves: intOption(values, 'moves', 20, 1, 1000),
    pauseMs: intOption(values, 'pause-ms', 1000, 0, 60_000),
  };

  const instances: Instance[] = [];
  const players: BenchPlayer[] = [];
  let moveStartedAt = 0;
  let firstFailureAt: number | undefined;
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const player of players) player.stop();
    // The Redis goes with the run: no drain needed, nothing to keep.
    await Promise.all(
      instances.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await stopAllRedis();
  };
  const bailOut = (why: string, code: number) => {
    console.error(`bench:handover: ${why}`);
    void cleanUp().finally(() => process.exit(code));
  };
  const budgetMs =
    START_TIMEOUT_MS +
    FIRST_FRAMES_TIMEOUT_MS +
    WARM_UP_MS +
    options.moves * (MOVE_TIMEOUT_MS + 2 * SETTLE_TIMEOUT_MS + options.pauseMs) +
    30_000;
  setTimeout(
    () => bailOut(`did not finish in ${budgetMs / 1000} s, giving up`, 1),
    budgetMs,
  ).unref();
  process.once('SIGINT', () => bailOut('interrupted', 130));
  process.once('SIGTERM', () => bailOut('terminated', 143));

  try {
    const redis = await startRedis();
    instances.push(
      ...(await Promise.all(
        INSTANCES.map((name) => startInstance(name, redis.url, options.particles)),
      )),
    );
    const byName = (name: InstanceName) => instances.find((i) => i.name === name)!;
    // Where the lease lives and how long it lasts: the instances' own settings.
    const { config } = (await (await get(`${byName('A').base}/config`)).json()) as {
      config: { redisPrefix: string; leaseMs: number };
    };
    const leaseWatch = watchLease(redis, `${config.redisPrefix}:lease:${LOBBY}`);
    // The load balancer: where a new socket goes.
    let target: InstanceName = 'A';
    const url = `ws://127.0.0.1/lobby/${LOBBY}/ws`;
    const createSocket = (): SocketLike => {
      const socket = new WebSocket(
        `${byName(target).base.replace('http', 'ws')}/lobby/${LOBBY}/ws`,
      );
      return socket as unknown as SocketLike;
    };
    const join = () => new BenchPlayer(url, createSocket);

    for (let i = 0; i < options.players; i++) players.push(join());
    await until(
      () => players.every((p) => p.on === 'A' && p.frames > 0),
      FIRST_FRAMES_TIMEOUT_MS,
      () => `the first players in on A: ${describePlayers(players)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS));

    console.log(
      `# bench:handover  node ${process.version}, instances A and B (1 worker each, damping 0), lobby of ${options.particles} particles, ${options.players} players, ${options.moves} moves, ${options.pauseMs} ms between`,
    );
    const results: MoveResult[] = [];
    for (let m = 1; m <= options.moves; m++) {
      moveStartedAt = performance.now();
      const from = target;
      const to: InstanceName = from === 'A' ? 'B' : 'A';
      const result = await move(options, instances, players, from, to, () => {
        target = to;
        return join();
      });
      results.push(result);
      if (result.failures.length > 0) firstFailureAt ??= moveStartedAt;
      console.log(
        `move ${m} ${from}→${to}: hand-over ${ms(result.handoverMs)} ms (newcomer welcomed ${ms(result.newcomerWelcomeMs)}, first frame ${ms(result.newcomerMs)}), ` +
          `gap max ${ms(Math.max(...result.gapsMs))} ms, 4007 closes ${result.movedCloses}/${options.players}, ` +
          `sockets per moved player max ${Math.max(...result.socketsPerPlayer)}` +
          (result.failures.length ? `; FAILED: ${result.failures.join('; ')}` : '; checks ok'),
      );
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
    leaseWatch.stop();
    const code = report(options.particles, options.players, results, await scrapeAll(instances));
    console.log(
      `lease headroom: lowest TTL seen ${leaseWatch.lowestTtlMs()} ms of ${config.leaseMs} (renewed every third); ` +
        `server logs: leases retaken after lapsing: ${instances.map((i) => `${i.name} ${i.leasesRetaken}`).join(', ')}`,
    );
    if (firstFailureAt !== undefined) printLogs(instances, firstFailureAt);
    return code;
  } catch (error) {
    if (error instanceof MoveTimeout) {
      console.error(`bench:handover: FAILED: ${error.message}`);
      printLogs(instances, firstFailureAt ?? moveStartedAt);
      return 1;
    }
    throw error;
  } finally {
    await cleanUp();
  }
}

/** One move: the newcomer joins `to`, the lobby follows; measured, then checked. */
async function move(
  options: Options,
  instances: readonly Instance[],
  players: readonly BenchPlayer[],
  from: InstanceName,
  to: InstanceName,
  joinElsewhere: () => BenchPlayer,
): Promise<MoveResult> {
  const watches = players.map((p) => p.watch(to));
  const socketsBefore = players.map((p) => p.client.connections.length);
  const wentBackBefore = [...players.map((p) => p.tickWentBack.length), 0];
  const openedAt = performance.now();
  const newcomer = joinElsewhere();
  const newcomerWatch = newcomer.watch(to);
  const everyone = [...players, newcomer];
  try {
    await until(
      () => [...watches, newcomerWatch].every((w) => w.firstNewAt !== undefined),
      MOVE_TIMEOUT_MS,
      async () =>
        `move ${from}→${to}: every player on ${to}: ${describePlayers(everyone)}; ${describeWhere(await whereIsLobby(instances).catch(() => new Map()))}`,
    );
    const firstNew = [...watches, newcomerWatch].map((w) => w.firstNewAt!);
    const failures: string[] = [];

    // One owner, the new one, with every player; the old one lists it no more.
    let where = new Map<InstanceName, LobbyStatus | undefined>();
    const settled = () =>
      where.get(from) === undefined &&
      where.get(to) !== undefined &&
      !LOBBY_PHASE_RULES[where.get(to)!.phase].ended &&
      where.get(to)!.clients === everyone.length;
    // A busy instance may not answer one /status in time: that is asked again, not a failure.
    let unanswered = '';
    try {
      await until(
        async () => {
          try {
            where = await whereIsLobby(instances);
          } catch (error) {
            unanswered = ` (last /status: ${(error as Error).message})`;
            return false;
          }
          return settled();
        },
        SETTLE_TIMEOUT_MS,
        () => describeWhere(where),
      );
    } catch (error) {
      if (!(error instanceof MoveTimeout)) throw error;
      failures.push(
        where.size > 0
          ? `/status: ${describeWhere(where)}${unanswered}`
          : `/status never answered in ${SETTLE_TIMEOUT_MS} ms${unanswered}`,
      );
    }
    const particles = where.get(to)?.particles;
    if (where.size > 0 && particles !== options.particles)
      failures.push(`${to} lists ${particles} particles, not ${options.particles}`);
    const counts = [...watches, newcomerWatch].map((w) => w.firstNewCount);
    if (counts.some((n) => n !== options.particles))
      failures.push(`first frames on ${to} carry ${counts.join(',')} particles`);
    for (const [i, p] of everyone.entries()) {
      const back = p.tickWentBack.slice(wentBackBefore[i]);
      if (back.length > 0)
        failures.push(
          `${i === players.length ? 'the newcomer' : `player ${i}`} saw ticks go back ${back.length} times, first [highest seen, tick] ${JSON.stringify(back.slice(0, 2))}`,
        );
    }

    return {
      from,
      to,
      handoverMs: Math.max(...firstNew) - openedAt,
      newcomerMs: newcomerWatch.firstNewAt! - openedAt,
      newcomerWelcomeMs: (newcomer.firstWelcomeAt ?? Number.NaN) - openedAt,
      gapsMs: watches.map((w) => w.firstNewAt! - w.lastOldAt),
      jitterMs: watches.map((w) => w.reconnectDelayMs),
      socketsPerPlayer: players.map((p, i) => p.client.connections.length - socketsBefore[i]),
      movedCloses: watches.filter((w) => w.closes.includes(CloseCode.moved)).length,
      failures,
    };
  } finally {
    // The lobby keeps its P players: the newcomer leaves, and is seen gone.
    newcomer.stop();
    await until(
      async () =>
        (await whereIsLobby(instances).catch(() => undefined))?.get(to)?.clients === players.length,
      SETTLE_TIMEOUT_MS,
      () => `the newcomer's leave seen on ${to}`,
    ).catch(() => {});
  }
}

runMain('bench:handover', main);
