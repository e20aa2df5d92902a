/**
 * The operator's endpoints: `GET /status` (this instance at a glance: every
 * lobby's watch status with its recent tick p99, and totals), `GET /config`
 * (the effective configuration, secrets redacted) and `PATCH /config` (change
 * the runtime-tunable settings; an admin route: needs `Authorization: Bearer
 * <SWARMHOST_ADMIN_TOKEN>`, checked by admin-auth.ts, and is refused with 403
 * `admin_disabled` when no token is configured). docs/OPERATIONS.md
 * describes the answers.
 *
 * The tick p99 is read from the lobby tick-duration histogram that the
 * directory already feeds (O(1) per tick), so /status adds nothing to the
 * tick: a timer copies the histogram's bucket counts every few seconds and a
 * request compares the live counts with a copy about TICK_WINDOW_MS old,
 * estimating the quantile the way Prometheus's histogram_quantile does.
 * Tick lateness p99 comes from the lateness histogram the same way; the
 * particle budget use per worker from the lobby host. Each lobby's
 * `players` (and the instance's, in totals) summarise its players' latest
 * stats reports (player-experience.ts), computed per request.
 */
import { lobbySteerIntervals } from '../../lobbies/index.js';
import { PROTOCOL_VERSION } from '../../protocol/index.js';
import type { App } from '../app.js';
import { sendError } from '../http-errors.js';
import { histogramQuantile } from '../histogram-quantile.js';
import { redactConfig, SECRET_NAMES } from '../config-redaction.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Metrics } from '../metrics.js';
import { TUNABLE_NAMES } from '../runtime-settings.js';
import { SERVER_VERSION } from '../version.js';

/** How often the tick histogram is copied for the /status window. */
const SNAPSHOT_INTERVAL_MS = 5_000;
/** The window /status reports tick p99 over (at least this once the server has run that long). */
const TICK_WINDOW_MS = 10_000;
/** Copies kept: enough to always hold one at least TICK_WINDOW_MS old. */
const SNAPSHOTS_KEPT = Math.ceil(TICK_WINDOW_MS / SNAPSHOT_INTERVAL_MS) + 1;
/** PATCH /config bodies are a few settings: anything large is not ours. */
const PATCH_BODY_LIMIT = 4096;

export function registerStatusRoutes(app: App): void {
  const { fastify, directory, config, metrics } = app;
  const startedAt = Date.now();
  const startedMono = performance.now();
  const ticks = new TickWindow(metrics, 'tickDuration');
  const lateness = new TickWindow(metrics, 'tickLateness');
  for (const window of [ticks, lateness]) {
    window.start();
    fastify.addHook('onClose', async () => window.stop());
  }
  // The steering budget is a start-up setting (not tunable): resolve its params once.
  const steerInterval = lobbySteerIntervals(config);

  fastify.get('/status', async () => {
    const [window, late] = await Promise.all([ticks.window(), lateness.window()]);
    const p99Ms = (q: TickQuantiles, lobby: string) => {
      const p99 = q.quantile(lobby, 0.99);
      return p99 === undefined ? null : round(p99 * 1000, 3);
    };
    // A paused (idle) lobby has no ticks in the window: its p99s are null.
    const lobbies = directory.list().map((status) => ({
      ...status,
      tickP99Ms: p99Ms(window, status.id),
      tickLatenessP99Ms: p99Ms(late, status.id),
      // Every how many steps each particle steers (the steering budget's effect).
      steerInterval: steerInterval(status.particles),
      // Threads its world is split over (SWARMHOST_MAX_PARTITIONS), as admitted.
      partitions: directory.get(status.id)?.handle.settings.partitions ?? 1,
      players: app.players.lobby(status.id),
    }));
    // How full the instance is: particles held against each thread's budget.
    const workers = app.host.capacity();
    const capacity = {
      particles: workers.reduce((sum, w) => sum + w.particles, 0),
      budget: workers.reduce((sum, w) => sum + w.budget, 0),
      workers,
    };
    const phases: Record<string, number> = {};
    let clients = 0;
    let particles = 0;
    for (const lobby of lobbies) {
      phases[lobby.phase] = (phases[lobby.phase] ?? 0) + 1;
      clients += lobby.clients;
      particles += lobby.particles;
    }
    return {
      instanceId: config.instanceId,
      version: SERVER_VERSION,
      protocolVersion: PROTOCOL_VERSION,
      ready: app.ready,
      startedAt: new Date(startedAt).toISOString(),
      uptimeSeconds: round((performance.now() - startedMono) / 1000, 3),
      tickWindowSeconds: round(window.seconds, 3),
      capacity,
      world: {
        kernel: app.worldKernel ?? null,
        kernelRequested: config.kernel,
        kernelFallback: app.worldKernelFallback ?? null,
        steerBudget: config.steerBudget,
      },
      lobbies,
      totals: {
        lobbies: lobbies.length,
        clients,
        particles,
        phases,
        framesSent: await counterTotal(metrics.framesSent),
        framesSkipped: await counterTotal(metrics.framesSkipped),
        bytesSent: await counterTotal(metrics.bytesSent),
        players: app.players.all(),
      },
      ...(app.fleet ? { fleet: await fleetView(app.fleet) } : {}),
    };
  });

  fastify.get('/config', async () => ({
    config: redactConfig(app.settings.effective()),
    tunable: TUNABLE_NAMES,
    secret: SECRET_NAMES,
    patchEnabled: config.adminToken !== '',
  }));

  fastify.patch(
    '/config',
    // Authorise before the body is even parsed.
    {
      bodyLimit: PATCH_BODY_LIMIT,
      onRequest: app.adminAuth.onRequest,
    },
    async (request, reply) => {
      const result = app.settings.patch(request.body);
      if (!result.ok) return sendError(reply, 'invalid_setting', result.reason);
      request.log.info(
        { changed: Object.keys(request.body as object), tunables: result.value },
        'runtime settings changed',
      );
      return { tunables: result.value };
    },
  );
}

async function counterTotal(counter: {
  get(): Promise<{ values: { value: number }[] }>;
}): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}

const round = (value: number, digits: number) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

// ── tick p99 over a recent window ─────────────────────────────────────────

interface Snapshot {
  at: number;
  /** Bucket upper bounds, ascending, +Inf last. */
  bounds: number[];
  /** Cumulative bucket counts per lobby, in `bounds` order. */
  counts: Map<string, number[]>;
}

interface TickQuantiles {
  /** Seconds the window covers (since start, until a snapshot is old enough). */
  seconds: number;
  /** The q-quantile of tick durations in the window, seconds; undefined without ticks. */
  quantile(lobby: string, q: number): number | undefined;
}

/** A lobby-labelled histogram of Metrics that a TickWindow can read. */
type LobbyHistogram = 'tickDuration' | 'tickLateness';

class TickWindow {
  #metrics: Metrics;
  #histogram: LobbyHistogram;
  #snapshots: Snapshot[] = [];
  #timer: NodeJS.Timeout | undefined;
  #startedAt = performance.now();

  constructor(metrics: Metrics, histogram: LobbyHistogram) {
    this.#metrics = metrics;
    this.#histogram = histogram;
  }

  start(): void {
    this.#timer = setInterval(() => {
      void this.#take().then((snapshot) => {
        this.#snapshots.push(snapshot);
        if (this.#snapshots.length > SNAPSHOTS_KEPT) this.#snapshots.shift();
      });
    }, SNAPSHOT_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async window(): Promise<TickQuantiles> {
    const now = await this.#take();
    // The newest copy at least a window old; else the oldest; else since start.
    let base: Snapshot | undefined;
    for (const snapshot of this.#snapshots) {
      if (now.at - snapshot.at >= TICK_WINDOW_MS || base === undefined) base = snapshot;
    }
    return {
      seconds: (now.at - (base?.at ?? this.#startedAt)) / 1000,
      quantile: (lobby, q) => {
        const current = now.counts.get(lobby);
        if (!current) return undefined;
        const before = base?.counts.get(lobby);
        // A lobby id closed and created again restarts its counts: use them whole.
        const reset = before === undefined || before.some((count, i) => count > current[i]);
        const delta = reset ? current : current.map((count, i) => count - before[i]);
        return histogramQuantile(q, now.bounds, delta);
      },
    };
  }

  async #take(): Promise<Snapshot> {
    const { name, values } = await this.#metrics[this.#histogram].get();
    const byLobby = new Map<string, Array<[number, number]>>();
    for (const sample of values) {
      if (sample.metricName !== `${name}_bucket`) continue;
      // Bucket samples carry `le` besides the declared labels.
      const labels = sample.labels as Record<string, string | number | undefined>;
      const lobby = String(labels.lobby);
      const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
      let buckets = byLobby.get(lobby);
      if (!buckets) byLobby.set(lobby, (buckets = []));
      buckets.push([le, sample.value]);
    }
    let bounds: number[] = [];
    const counts = new Map<string, number[]>();
    for (const [lobby, buckets] of byLobby) {
      buckets.sort((a, b) => a[0] - b[0]);
      bounds = buckets.map(([le]) => le);
      counts.set(
        lobby,
        buckets.map(([, count]) => count),
      );
    }
    return { at: performance.now(), bounds, counts };
  }
}

/**
 * Fleet mode: this process in the fleet and the fleet as its directory
 * sees it: every live instance, and every lobby with its owner.
 */
async function fleetView(fleet: Fleet) {
  const { instances, lobbies, complete } = await fleet.list();
  return {
    holder: fleet.holder,
    redis: fleet.redisReady ? 'up' : 'down',
    owned: fleet.ownedCount,
    complete,
    instances,
    lobbies,
  };
}
