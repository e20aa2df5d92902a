/**
 * The Prometheus metrics of one server instance, on its own registry (so
 * several servers in one test process never collide). Names are prefixed
 * `swarmhost_`, in base units, counters end in `_total`. Lobby ids are a
 * label (their number is bounded by SWARMHOST_MAX_LOBBIES, and a closed
 * lobby's series are removed); client ids never are. Every update is O(1).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type FrameKind, LOBBY_PHASES, SEND_RATES } from '../protocol/index.js';
import { ADMIN_AUTH_FAILURES } from './admin-auth.js';
import { ClientMetrics } from './client-metrics.js';
import { FleetMetrics } from './fleet/fleet-metrics.js';
import { FRAME_SKIP_REASONS } from './lobby-feed.js';
import { TILE_ENCODE_KINDS } from './tile-encoder.js';
import { CLOSE_CODE_LABELS } from './ws-socket.js';
import type { ThreadCapacity } from '../lobbies/index.js';

/** Default prom-client metrics dropped because their names break Prometheus conventions. */
const LINT_FAILING_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** Why a new lobby was refused (POST /lobbies or a join by URL). */
const LOBBY_REFUSALS = ['instance_full', 'too_many_lobbies'] as const;
export type LobbyRefusal = (typeof LOBBY_REFUSALS)[number];

/**
 * The label values the server sets, so each series exists at 0 from the
 * start (a dashboard shows 0, not "No data"; an alert on a rate sees the
 * first one).
 */
const HANDSHAKE_REFUSALS = [
  'bad_lobby_id',
  'draining',
  'origin',
  'socket_cap',
  'ip_socket_cap',
  'version',
  'lobby_full',
  'lobby_closed',
  'too_many_lobbies',
  'instance_full',
  'fleet_unavailable',
  'lobby_moving',
] as const;
const INPUT_RESULTS = [
  'accepted',
  'inbox_full',
  'rate_limited',
  'invalid',
  'out_of_range',
  'lobby_closed',
  'particle_cap',
  'after_close',
] as const;
/** Every frame kind (the compiler fails here when protocol/ adds one). */
const FRAME_KINDS = Object.keys({ key: true, delta: true, view: true } satisfies Record<
  FrameKind,
  true
>);
/** Kinds of bytes sent: frames of each kind, and everything else (welcome, status, errors, pongs). */
const BYTE_KINDS = [...FRAME_KINDS, 'other'] as const;

export class Metrics {
  readonly registry = new Registry();
  /** Where the budget gauges read each thread's use, at scrape time. */
  #capacity: () => readonly ThreadCapacity[] = () => [];
  #sendRates: () => ReadonlyMap<number, number> = () => new Map();

  readonly tickDuration = new Histogram({
    name: 'swarmhost_tick_duration_seconds',
    help: 'Time one lobby tick took (inbox drain, world step, quantize), seconds.',
    labelNames: ['lobby'] as const,
    buckets: [
      0.0005, 0.001, 0.002, 0.003, 0.004, 0.006, 0.008, 0.01, 0.0125, 0.015, 0.0167, 0.02, 0.025,
      0.05, 0.1,
    ],
    registers: [this.registry],
  });
  readonly tickLateness = new Histogram({
    name: 'swarmhost_tick_lateness_seconds',
    help: 'How late a tick started against its fixed-step schedule, seconds.',
    labelNames: ['lobby'] as const,
    buckets: [0.00025, 0.0005, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05],
    registers: [this.registry],
  });
  readonly tickOverruns = new Counter({
    name: 'swarmhost_tick_overruns_total',
    help: 'Ticks that took longer than one step (1/tick rate).',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly ticksDropped = new Counter({
    name: 'swarmhost_ticks_dropped_total',
    help: 'Steps skipped after a stall longer than the catch-up cap.',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly lobbies = new Gauge({
    name: 'swarmhost_lobbies',
    help: 'Lobbies on this instance by lifecycle phase.',
    labelNames: ['phase'] as const,
    registers: [this.registry],
  });
  readonly lobbyParticles = new Gauge({
    name: 'swarmhost_lobby_particles',
    help: 'Particles in each lobby.',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly clients = new Gauge({
    name: 'swarmhost_clients',
    help: 'Connected clients that completed the handshake, per lobby.',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly framesSent = new Counter({
    name: 'swarmhost_frames_sent_total',
    help: 'Frames handed to client sockets, by kind (key, delta).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly framesSkipped = new Counter({
    name: 'swarmhost_frames_skipped_total',
    help: 'Frames not sent to a client, by reason: backpressure (lag: its socket was above the high-water mark), rate (policy: its send rate is below the tick rate).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly bytesSent = new Counter({
    name: 'swarmhost_bytes_sent_total',
    help: 'WebSocket payload bytes sent, by message kind (key, delta, other).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly frameEncodes = new Counter({
    name: 'swarmhost_frame_encodes_total',
    help: 'Particle payloads encoded (memoised per base and tick, shared by every client in step).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly tileEncodes = new Counter({
    name: 'swarmhost_tile_encodes_total',
    help: 'View tile chunks encoded (memoised per tile, base and tick, shared by every view client that needs them).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly encodeDuration = new Histogram({
    name: 'swarmhost_encode_duration_seconds',
    help: 'Time to encode one particle payload, seconds.',
    labelNames: ['kind'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01],
    registers: [this.registry],
  });
  readonly fanoutDuration = new Histogram({
    name: 'swarmhost_fanout_duration_seconds',
    help: "Time to hand one frame to all of a lobby's clients (encode once, envelope and send each, the sockets' writev included), seconds.",
    labelNames: ['lobby'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032],
    registers: [this.registry],
  });
  readonly framesSuperseded = new Counter({
    name: 'swarmhost_frames_superseded_total',
    help: "Frames of a lobby not fanned out to anyone because a newer one arrived first: the main thread's fan-out took longer than a tick (it is saturated), and everyone gets the newest instead.",
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly inputs = new Counter({
    name: 'swarmhost_inputs_total',
    help: 'Client messages by result (accepted into the inbox, inbox_full, rate_limited, invalid, out_of_range, lobby_closed, after_close: sent after the server closed; particle_cap counts accepted spawns the lobby then refused). Stats reports count in swarmhost_client_stats_reports_total instead, once decoded.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly wsCloses = new Counter({
    name: 'swarmhost_ws_closes_total',
    help: 'WebSocket connections closed, by close code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly handshakesRefused = new Counter({
    name: 'swarmhost_handshakes_refused_total',
    help: 'Connections refused during the handshake, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly peersCut = new Counter({
    name: 'swarmhost_peers_cut_total',
    help: 'Connections ended without a closing handshake, by reason (heartbeat: answered neither a ping nor anything else, or took no bytes while data waited for it; close_timeout: ignored our close frame; send_backlog: let replies pile up past twice the high-water mark).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly sessionErrors = new Counter({
    name: 'swarmhost_session_errors_total',
    help: 'Unexpected errors in a connection handler, each contained by closing that connection with 1011.',
    registers: [this.registry],
  });
  readonly connectionsDropped = new Counter({
    name: 'swarmhost_connections_dropped_total',
    help: 'TCP connections dropped on accept, by the cap they hit (total, per_ip).',
    labelNames: ['cap'] as const,
    registers: [this.registry],
  });
  readonly httpClientErrors = new Counter({
    name: 'swarmhost_http_client_errors_total',
    help: 'HTTP requests refused before routing, by kind (timeout: not whole within SWARMHOST_REQUEST_TIMEOUT_MS, 408; header_overflow: 431; malformed: 400).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly processErrors = new Counter({
    name: 'swarmhost_process_errors_total',
    help: 'Errors that reached the process-wide last resort, by kind (uncaught_exception, unhandled_rejection).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly inboxDepth = new Gauge({
    name: 'swarmhost_inbox_depth',
    help: "Inputs waiting in a lobby's bounded inbox for its next tick (sampled each tick).",
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly lobbyCrashes = new Counter({
    name: 'swarmhost_lobby_crashes_total',
    help: 'Lobby crashes: an exception in a tick, or the loss of the worker it ran on.',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly lobbyRestarts = new Counter({
    name: 'swarmhost_lobby_restarts_total',
    help: 'Lobbies restarted by the supervisor after a crash (from their newest checkpoint, else their seed).',
    labelNames: ['lobby'] as const,
    registers: [this.registry],
  });
  readonly lobbyFailures = new Counter({
    name: 'swarmhost_lobby_failures_total',
    help: 'Lobbies given up on (crashed too often, or could not be restarted) and closed.',
    registers: [this.registry],
  });
  readonly adminAuthFailures = new Counter({
    name: 'swarmhost_admin_auth_failures_total',
    help: 'Admin requests refused before reaching their route, by reason (missing_token, wrong_token, disabled: no token configured, throttled: too many failures from that IP).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly lobbiesEvicted = new Counter({
    name: 'swarmhost_lobbies_evicted_total',
    help: 'Empty lobbies (made by a join, nobody in them) closed to make room for a new lobby on a full instance.',
    registers: [this.registry],
  });
  readonly lobbiesRefused = new Counter({
    name: 'swarmhost_lobbies_refused_total',
    help: 'New lobbies refused, by POST /lobbies or a join by URL, by reason (instance_full: its particles fit no worker budget; too_many_lobbies).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  // Read at scrape time (O(workers)): worker ids change when one is replaced,
  // so each scrape starts afresh rather than keep a dead worker's series.
  readonly particleBudget: Gauge<'worker'> = new Gauge({
    name: 'swarmhost_particle_budget',
    help: 'Particles the lobbies of one worker thread may hold together (SWARMHOST_PARTICLE_BUDGET); worker="main" for lobbies on the main thread.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
    collect: () => {
      this.particleBudget.reset();
      for (const thread of this.#capacity())
        this.particleBudget.set({ worker: thread.worker }, thread.budget);
    },
  });
  readonly particlesReserved: Gauge<'worker'> = new Gauge({
    name: 'swarmhost_particles_reserved',
    help: 'Particles the lobbies on one worker thread hold (running, paused or restarting) against its budget.',
    labelNames: ['worker'] as const,
    registers: [this.registry],
    collect: () => {
      this.particlesReserved.reset();
      for (const thread of this.#capacity())
        this.particlesReserved.set({ worker: thread.worker }, thread.particles);
    },
  });
  /** Clients by the frame rate they are sent at now (their ask, the cap, and the server's lowering). */
  readonly clientSendRates: Gauge<'hz'> = new Gauge({
    name: 'swarmhost_client_send_rate_clients',
    help: 'Clients by the frame rate they are sent at now, per second (hz label): their own ask, capped by SWARMHOST_SEND_RATE, lowered while their connection cannot keep up.',
    labelNames: ['hz'] as const,
    registers: [this.registry],
    collect: () => {
      this.clientSendRates.reset();
      for (const hz of SEND_RATES) this.clientSendRates.set({ hz: String(hz) }, 0);
      for (const [hz, count] of this.#sendRates())
        this.clientSendRates.set({ hz: String(hz) }, count);
    },
  });
  readonly sendRateChanges = new Counter({
    name: 'swarmhost_send_rate_changes_total',
    help: "Times the server stepped a client's send rate down (its socket backed up or its round trip grew) or back up (clean again).",
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  /** What players report of their own experience (stats messages). */
  readonly client = new ClientMetrics(this.registry);
  /** Hand-overs, checkpoints and Redis (fleet mode; at 0 otherwise). */
  readonly fleet = new FleetMetrics(this.registry);
  readonly worldKernel = new Gauge({
    name: 'swarmhost_world_kernel',
    help: "1 for the kernel stepping this instance's lobby worlds (wasm, or js: chosen, or the fallback when wasm could not load; SWARMHOST_KERNEL), 0 for the other.",
    labelNames: ['kernel'] as const,
    registers: [this.registry],
  });
  readonly info = new Gauge({
    name: 'swarmhost_info',
    help: 'Constant 1, labelled with the server version, protocol version and instance id.',
    labelNames: ['version', 'protocol', 'instance'] as const,
    registers: [this.registry],
  });

  constructor(info: { version: string; protocol: number; instance: string }) {
    collectDefaultMetrics({ register: this.registry });
    // prom-client exports these three totals as gauges named `_total`, which
    // `promtool check metrics` rejects (non-counters must not end in _total).
    // Nothing is lost: `sum(nodejs_active_handles)` (and _requests,
    // _resources), labelled by type, carry the same numbers.
    for (const name of LINT_FAILING_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    this.info.set(
      { version: info.version, protocol: String(info.protocol), instance: info.instance },
      1,
    );
    for (const phase of LOBBY_PHASES) this.lobbies.set({ phase }, 0);
    for (const kernel of ['wasm', 'js']) this.worldKernel.set({ kernel }, 0);
    // Known label values exist from the start, so a dashboard shows 0, not "No data".
    for (const reason of ['heartbeat', 'close_timeout', 'send_backlog'])
      this.peersCut.inc({ reason }, 0);
    for (const cap of ['total', 'per_ip']) this.connectionsDropped.inc({ cap }, 0);
    for (const kind of ['timeout', 'header_overflow', 'malformed'])
      this.httpClientErrors.inc({ kind }, 0);
    for (const kind of ['uncaught_exception', 'unhandled_rejection'])
      this.processErrors.inc({ kind }, 0);
    // Zero from the start, so an alert on the rate sees the first failure.
    for (const reason of ADMIN_AUTH_FAILURES) this.adminAuthFailures.inc({ reason }, 0);
    for (const reason of LOBBY_REFUSALS) this.lobbiesRefused.inc({ reason }, 0);
    for (const reason of HANDSHAKE_REFUSALS) this.handshakesRefused.inc({ reason }, 0);
    for (const result of INPUT_RESULTS) this.inputs.inc({ result }, 0);
    for (const code of CLOSE_CODE_LABELS) this.wsCloses.inc({ code }, 0);
    for (const reason of FRAME_SKIP_REASONS) this.framesSkipped.inc({ reason }, 0);
    for (const direction of ['down', 'up']) this.sendRateChanges.inc({ direction }, 0);
    for (const kind of FRAME_KINDS) {
      this.framesSent.inc({ kind }, 0);
      this.frameEncodes.inc({ kind }, 0);
      this.encodeDuration.zero({ kind });
    }
    for (const kind of BYTE_KINDS) this.bytesSent.inc({ kind }, 0);
    for (const kind of TILE_ENCODE_KINDS) this.tileEncodes.inc({ kind }, 0);
  }

  /** Where the budget gauges read each lobby thread's particles and budget. */
  watchCapacity(capacity: () => readonly ThreadCapacity[]): void {
    this.#capacity = capacity;
  }

  /** Where the send-rate gauge counts clients by rate (the lobby directory's feeds). */
  watchSendRates(rates: () => ReadonlyMap<number, number>): void {
    this.#sendRates = rates;
  }

  /** Drops a closed lobby's labelled series so ids that come and go do not pile up. */
  forgetLobby(lobby: string): void {
    for (const metric of [
      this.tickDuration,
      this.tickLateness,
      this.fanoutDuration,
      this.tickOverruns,
      this.ticksDropped,
      this.framesSuperseded,
    ]) {
      metric.remove({ lobby });
    }
    this.lobbyParticles.remove({ lobby });
    this.clients.remove({ lobby });
    this.inboxDepth.remove({ lobby });
    this.lobbyCrashes.remove({ lobby });
    this.lobbyRestarts.remove({ lobby });
  }
}
