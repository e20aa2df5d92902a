/**
 * The lobbies this instance hosts: creation within limits (the number of
 * lobbies, and admission by the host's particle budget), lookup, joining
 * and leaving, metrics fed from each lobby's frames and status, and the
 * supervision of failures (a failed lobby is logged, counted and removed
 * alone; its clients are closed with 1011 by their sessions).
 */
import {
  CloseCode,
  MAKING_ROOM_REASON,
  LOBBY_PHASE_RULES,
  type LobbyPhase,
  type LobbyStatus,
} from '../protocol/index.js';
import type { LobbyCheckpoint, LobbyHandle, LobbyHost } from '../lobbies/index.js';
import type { ClientSession } from './client-session.js';
import type { Config } from './config.js';
import { LobbyFeed } from './lobby-feed.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { RuntimeSettings } from './runtime-settings.js';
import { SendBatch } from './send-batch.js';

export interface JoinedLobby {
  handle: LobbyHandle;
  /** Its clients, and the path its frames take to them. */
  feed: LobbyFeed;
  /** Created by a player's join (not by an operator): may make room for another when empty. */
  evictable: boolean;
  /** When it last became idle (nobody in it); undefined while it has clients. */
  idleSince?: number;
  /** Closed to make room: no one may join it while it goes. */
  evicted?: boolean;
}

export type JoinResult =
  | { ok: true; lobby: JoinedLobby }
  | {
      ok: false;
      reason:
        | 'lobby_full'
        | 'too_many_lobbies'
        | 'instance_full'
        | 'lobby_closed'
        // Fleet mode (fleet/fleet.ts): Redis unreachable, the lobby between
        // instances, or this instance draining.
        | 'fleet_unavailable'
        | 'lobby_moving'
        | 'draining';
      closeCode: number;
      message: string;
    };

export type CreateResult =
  | { ok: true; lobby: JoinedLobby }
  | {
      ok: false;
      reason: 'exists' | 'too_many_lobbies' | 'instance_full' | 'fleet_unavailable';
      message: string;
    };

export interface CreateOptions {
  id: string;
  /** A player's join creates it (else an operator): see JoinedLobby.evictable. */
  byJoin?: boolean;
  particles?: number;
  seed?: number;
  /** Fleet mode: continue the world of this checkpoint (its seed, particles and tick). */
  resume?: LobbyCheckpoint;
  /** Fleet mode: the tick a lobby started from its seed counts on from (its players' last seen). */
  startTick?: number;
}

export class LobbyDirectory {
  #lobbies = new Map<string, JoinedLobby>();
  /**
   * Every game socket's sends are batched per event-loop turn here
   * (sessions hold their sockets in it); a lobby's fan-out flushes it.
   */
  readonly sendBatch = new SendBatch();
  #config: Config;
  #settings: RuntimeSettings;
  #host: LobbyHost;
  #metrics: Metrics;
  #log: Logger;
  #phaseCounts = new Map<LobbyPhase, number>();
  /** Drains waiting for the last lobby to go. */
  #onEmpty: Array<() => void> = [];
  #endedListeners: Array<(id: string, phase: LobbyPhase) => void> = [];

  constructor(
    config: Config,
    settings: RuntimeSettings,
    host: LobbyHost,
    metrics: Metrics,
    log: Logger,
  ) {
    this.#config = config;
    this.#settings = settings;
    this.#host = host;
    this.#metrics = metrics;
    this.#log = log;
    metrics.watchSendRates(() => {
      const counts = new Map<number, number>();
      for (const lobby of this.#lobbies.values()) lobby.feed.countRates(counts);
      return counts;
    });
  }

  get size(): number {
    return this.#lobbies.size;
  }

  get(id: string): JoinedLobby | undefined {
    return this.#lobbies.get(id);
  }

  /** Hears every lobby that ends here, with the phase it ended in (closed, failed, moved, drained). */
  onLobbyEnded(listener: (id: string, phase: LobbyPhase) => void): void {
    this.#endedListeners.push(listener);
  }

  list(): LobbyStatus[] {
    return [...this.#lobbies.values()].map((lobby) => lobby.handle.currentStatus());
  }

  create(options: CreateOptions): CreateResult {
    if (this.#lobbies.has(options.id))
      return { ok: false, reason: 'exists', message: `lobby '${options.id}' exists` };
    if (this.#lobbies.size >= this.#config.maxLobbies) {
      this.#metrics.lobbiesRefused.inc({ reason: 'too_many_lobbies' });
      return {
        ok: false,
        reason: 'too_many_lobbies',
        message: `this instance hosts its maximum of ${this.#config.maxLobbies} lobbies`,
      };
    }
    const config = this.#config;
    const { resume } = options;
    const spawned = this.#host.spawn({
      id: options.id,
      seed: resume?.seed ?? options.seed ?? seedFromId(options.id),
      particles: resume?.world.count ?? options.particles ?? this.#settings.get().defaultParticles,
      resume,
      startTick: resume ? undefined : options.startTick,
      // No lobby can outgrow its workers' budgets (one, or its share on each
      // of up to SWARMHOST_MAX_PARTITIONS): its arrays need not either.
      maxParticles: Math.min(config.maxParticles, config.particleBudget * config.maxPartitions),
      worldSize: config.worldSize,
      steerBudget: config.steerBudget,
      tickRate: config.tickRate,
      maxCatchUpSteps: config.maxCatchUpSteps,
      idleTimeoutMs: config.idleTimeoutMs,
      inboxCapacity: config.inboxCapacity,
      closeGraceMs: config.closeGraceMs,
    });
    if (!spawned.ok) {
      this.#metrics.lobbiesRefused.inc({ reason: spawned.reason });
      // Counted, and logged only at debug: a flood of refusals must not flood the log.
      this.#log.debug({ lobby: options.id }, spawned.message);
      return spawned;
    }
    const { handle } = spawned;
    const lobby: JoinedLobby = {
      handle,
      feed: new LobbyFeed(handle, this.#settings, this.#metrics, {
        backlogBytes: this.#config.rateBacklogBytes,
        rttSlackMs: this.#config.rateRttSlackMs,
        windowMs: this.#config.rateWindowMs,
        raiseAfterMs: this.#config.rateRaiseAfterMs,
      }),
      evictable: options.byJoin === true,
    };
    this.#lobbies.set(options.id, lobby);
    this.#watch(lobby);
    this.#log.info(
      { lobby: options.id, particles: handle.settings.particles, fromTick: resume?.tick },
      resume ? 'lobby resumed from its checkpoint' : 'lobby created',
    );
    return { ok: true, lobby };
  }

  /** Joins an existing lobby, or creates it (joining by URL). */
  join(id: string, session: ClientSession): JoinResult {
    let lobby = this.#lobbies.get(id);
    if (!lobby) {
      let created = this.create({ id, byJoin: true });
      // A full instance makes room by closing the lobby that has been empty
      // longest, if a player's join made it: empty lobbies must not lock
      // players out (hello-then-leave joins would otherwise fill it cheaply).
      let evicted = false;
      if (!created.ok && created.reason !== 'exists' && this.#evictIdlest()) {
        evicted = true;
        created = this.create({ id, byJoin: true });
      }
      // On worker threads the room frees when the worker reports the close,
      // a moment later: say so, and the client retries soon (reconnect-policy).
      if (!created.ok && evicted)
        created = { ...created, message: `${MAKING_ROOM_REASON}, retry in a moment` };
      if (!created.ok)
        return {
          ok: false,
          // 'exists' cannot happen here: the id was not in the map.
          reason: created.reason === 'instance_full' ? 'instance_full' : 'too_many_lobbies',
          closeCode: CloseCode.tooManyLobbies,
          message: created.message,
        };
      lobby = created.lobby;
    }
    const phase = lobby.handle.status.get().phase;
    if (lobby.evicted || !LOBBY_PHASE_RULES[phase].acceptsJoins) {
      return {
        ok: false,
        reason: 'lobby_closed',
        closeCode: CloseCode.lobbyClosed,
        message: `lobby '${id}' is ${lobby.evicted ? 'closing' : phase}`,
      };
    }
    if (lobby.feed.size >= this.#config.maxClientsPerLobby) {
      return {
        ok: false,
        reason: 'lobby_full',
        closeCode: CloseCode.lobbyFull,
        message: `lobby '${id}' is full (${this.#config.maxClientsPerLobby} clients)`,
      };
    }
    lobby.feed.add(session);
    lobby.handle.join(session.clientId);
    this.#metrics.clients.set({ lobby: id }, lobby.feed.size);
    return { ok: true, lobby };
  }

  /** Closes the join-made lobby that has been empty longest; false if there is none. */
  #evictIdlest(): boolean {
    let idlest: JoinedLobby | undefined;
    for (const lobby of this.#lobbies.values()) {
      if (!lobby.evictable || lobby.idleSince === undefined || lobby.feed.size > 0) continue;
      if (idlest === undefined || lobby.idleSince < (idlest.idleSince ?? 0)) idlest = lobby;
    }
    if (!idlest) return false;
    this.#metrics.lobbiesEvicted.inc();
    this.#log.debug({ lobby: idlest.handle.id }, 'empty lobby closed to make room');
    idlest.evicted = true;
    idlest.handle.close('closed to make room: it was empty');
    return true;
  }

  leave(id: string, session: ClientSession): void {
    const lobby = this.#lobbies.get(id);
    if (!lobby?.feed.remove(session)) return;
    lobby.handle.leave(session.clientId);
    if (!lobby.handle.ended) this.#metrics.clients.set({ lobby: id }, lobby.feed.size);
  }

  close(id: string, reason: string): boolean {
    const lobby = this.#lobbies.get(id);
    if (!lobby) return false;
    lobby.handle.close(reason);
    return true;
  }

  closeAll(reason: string): void {
    for (const lobby of this.#lobbies.values()) lobby.handle.close(reason);
  }

  /** Tells every lobby to drain and resolves when all have closed or `timeoutMs` passed. */
  async drainAll(timeoutMs: number): Promise<void> {
    for (const lobby of this.#lobbies.values()) lobby.handle.drain();
    if (this.#lobbies.size === 0) return;
    // Woken by the last lobby's removal, not by polling.
    let timer: NodeJS.Timeout | undefined;
    let woken: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      woken = resolve;
      this.#onEmpty.push(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    // Timed out: forget the waiter rather than keep it until the next drain.
    this.#onEmpty = this.#onEmpty.filter((waiter) => waiter !== woken);
  }

  #watch(lobby: JoinedLobby): void {
    const { handle } = lobby;
    const id = handle.id;
    const metrics = this.#metrics;
    const tickDuration = metrics.tickDuration.labels({ lobby: id });
    const tickLateness = metrics.tickLateness.labels({ lobby: id });
    const overruns = metrics.tickOverruns.labels({ lobby: id });
    // Counters that may never fire still get a series, so dashboards show 0.
    for (const counter of [
      metrics.tickOverruns,
      metrics.ticksDropped,
      metrics.framesSuperseded,
      metrics.lobbyCrashes,
      metrics.lobbyRestarts,
    ]) {
      counter.labels({ lobby: id }).inc(0);
    }
    const fanout = metrics.fanoutDuration.labels({ lobby: id });
    const inboxDepth = metrics.inboxDepth.labels({ lobby: id });
    const stepSeconds = 1 / handle.settings.tickRate;
    const superseded = metrics.framesSuperseded.labels({ lobby: id });
    // The feed's fan-out of the newest frame to every client, timed as a
    // whole (the main thread's cost per frame).
    let publishing = false;
    let framesWaiting = 0;
    const publish = () => {
      publishing = false;
      if (framesWaiting > 1) superseded.inc(framesWaiting - 1);
      framesWaiting = 0;
      if (this.#lobbies.get(id) !== lobby) return;
      const started = performance.now();
      lobby.feed.publish();
      this.sendBatch.flush();
      fanout.observe((performance.now() - started) / 1000);
    };
    // Each new frame: its tick metrics now, the fan-out once the turn's I/O
    // is done. Frames that arrive while one waits are folded into one
    // fan-out of the newest: when fanning out takes longer than a tick, the
    // worker's frames queue on its port, and Node drains a port's queue in
    // one go, so fanning out each as it came kept the main thread in that
    // drain (seen: 20-40 s without an accept, a read or a timer at 1000
    // clients). Folded, every client gets the newest frame a little late
    // and the loop keeps turning.
    handle.frames.onSend((_seq, frame) => {
      const seconds = frame.stats.durationMs / 1000;
      tickDuration.observe(seconds);
      tickLateness.observe(frame.stats.lateMs / 1000);
      if (seconds > stepSeconds) overruns.inc();
      inboxDepth.set(handle.inboxDepth);
      framesWaiting++;
      if (publishing) return;
      publishing = true;
      setImmediate(publish);
    });
    let phase: LobbyPhase = handle.status.get().phase;
    this.#countPhase(phase, +1);
    metrics.lobbyParticles.set({ lobby: id }, handle.status.get().particles);
    handle.status.subscribe((status) => {
      this.#countPhase(phase, -1);
      if (status.phase !== 'idle') lobby.idleSince = undefined;
      else lobby.idleSince ??= performance.now();
      phase = status.phase;
      this.#countPhase(phase, +1);
      metrics.lobbyParticles.set({ lobby: id }, status.particles);
      if (handle.ended) this.#remove(lobby);
    });
    handle.onNotice((notice) => {
      switch (notice.type) {
        case 'crashed':
          metrics.lobbyCrashes.inc({ lobby: id });
          this.#log.error(
            { lobby: id, error: notice.error, restarting: notice.restarting },
            'lobby crashed',
          );
          return;
        case 'restarted':
          metrics.lobbyRestarts.inc({ lobby: id });
          this.#log.warn(
            { lobby: id, epoch: notice.epoch, from: notice.from },
            `lobby restarted from its ${notice.from}`,
          );
          return;
        case 'failed':
          metrics.lobbyFailures.inc();
          this.#log.error({ lobby: id, error: notice.error }, 'lobby failed: closing it');
          return;
        case 'ticksDropped':
          metrics.ticksDropped.inc({ lobby: id }, notice.steps);
          return;
      }
    });
  }

  #remove(lobby: JoinedLobby): void {
    const id = lobby.handle.id;
    if (this.#lobbies.get(id) !== lobby) return;
    this.#lobbies.delete(id);
    lobby.feed.close();
    if (this.#lobbies.size === 0) for (const resolve of this.#onEmpty.splice(0)) resolve();
    this.#countPhase(lobby.handle.status.get().phase, -1);
    this.#metrics.forgetLobby(id);
    const phase = lobby.handle.status.get().phase;
    this.#log.info({ lobby: id, phase }, 'lobby removed');
    for (const listener of this.#endedListeners) listener(id, phase);
  }

  #countPhase(phase: LobbyPhase, delta: number): void {
    const next = (this.#phaseCounts.get(phase) ?? 0) + delta;
    this.#phaseCounts.set(phase, next);
    this.#metrics.lobbies.set({ phase }, next);
  }
}

/** FNV-1a of the id: a lobby joined by URL gets the same world every time. */
export function seedFromId(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
