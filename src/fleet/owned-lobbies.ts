/**
 * The lobbies this process owns in fleet mode, and everything an owner
 * does with them: renew their leases, checkpoint them every
 * SWARMHOST_CHECKPOINT_INTERVAL_MS, hand one out (freeze, checkpoint,
 * store, release), forget one that ended, and close a copy that turns out
 * to be someone else's (the safety net: counted, logged, players get 4007).
 *
 * An owned lobby is also in the LobbyDirectory (it runs here); this map
 * adds its lease and the bookkeeping of a hand-over.
 */
import type { LobbyCheckpoint } from '../../lobbies/index.js';
import type { LobbyDirectory } from '../lobby-directory.js';
import type { Logger } from '../logger.js';
import { encodeCheckpoint } from './checkpoint-codec.js';
import type { FleetMetrics, HandoverReason } from './fleet-metrics.js';
import type { CheckpointReason, Lease, LobbyLeases } from './lobby-leases.js';

export interface Ownership {
  lease: Lease;
  /** When a hand-over brought it here (performance.now()); -Infinity for a lobby started here. */
  handedInAt: number;
  /** Tick of the last stored checkpoint: an unchanged (paused) lobby is not written again. */
  checkpointTick: number;
  /** When this process last stored one (performance.now()); -Infinity before the first. */
  checkpointedAt: number;
  /** Being handed out: frozen, no second hand-over may start. */
  handingOver: boolean;
}

/**
 * How a hand-out ended: `released` (stored, lease free, lobby frozen until
 * finished), `frozen` (drain only: not stored, Redis failed, the lobby stays
 * frozen to be closed), `kept` (not stored, the lobby runs on here), `lost`
 * (another instance owns it: closed as a conflict), `none` (not ours).
 */
export type HandOutOutcome = 'released' | 'frozen' | 'kept' | 'lost' | 'none';

export class OwnedLobbies {
  #owned = new Map<string, Ownership>();
  #leases: LobbyLeases;
  #directory: LobbyDirectory;
  #metrics: FleetMetrics;
  #log: Logger;

  constructor(leases: LobbyLeases, directory: LobbyDirectory, metrics: FleetMetrics, log: Logger) {
    this.#leases = leases;
    this.#directory = directory;
    this.#metrics = metrics;
    this.#log = log;
  }

  get size(): number {
    return this.#owned.size;
  }

  get(id: string): Ownership | undefined {
    return this.#owned.get(id);
  }

  ids(): string[] {
    return [...this.#owned.keys()];
  }

  add(lease: Lease, handedIn: boolean, checkpointTick: number): void {
    this.#owned.set(lease.id, {
      lease,
      handedInAt: handedIn ? performance.now() : Number.NEGATIVE_INFINITY,
      checkpointTick,
      checkpointedAt: Number.NEGATIVE_INFINITY,
      handingOver: false,
    });
    this.#metrics.ownedLobbies.set(this.#owned.size);
  }

  #drop(id: string): void {
    this.#owned.delete(id);
    this.#metrics.ownedLobbies.set(this.#owned.size);
  }

  /** Renews every lease; a lobby lost to another owner is closed here. Redis errors leave it running. */
  async renewAll(): Promise<void> {
    await Promise.all(
      // A lobby being handed out holds its lease until it releases it; a
      // renewal racing the release must not take it back.
      [...this.#owned.values()]
        .filter((own) => !own.handingOver)
        .map(async (own) => {
          let result: Awaited<ReturnType<LobbyLeases['renew']>>;
          try {
            result = await this.#leases.renew(own.lease);
          } catch {
            return; // Counted by the connection; the lobby keeps running for its players.
          }
          if (this.#owned.get(own.lease.id) !== own) return;
          if (result === 'lost')
            this.conflict(own.lease.id, 'its lease is held by another instance');
          else if (result === 'retaken')
            this.#log.info(
              { lobby: own.lease.id, fence: own.lease.fence },
              'lease taken again (Redis had lost it)',
            );
        }),
    );
  }

  /**
   * Stores a checkpoint of every owned lobby that moved on since its last
   * one and is due: `intervalMs` after its last, or at once if this
   * process has stored none yet, so a lobby that just started (or just
   * came here) is not without a checkpoint for a whole interval, the
   * window in which a lapsed lease would restart it from its seed.
   */
  async checkpointAll(intervalMs: number): Promise<void> {
    const now = performance.now();
    await Promise.all(
      [...this.#owned.values()].map(async (own) => {
        const lobby = this.#directory.get(own.lease.id);
        if (!lobby || own.handingOver || lobby.handle.ended) return;
        if (lobby.handle.tick === own.checkpointTick) return;
        if (now - own.checkpointedAt < intervalMs) return;
        const started = performance.now();
        try {
          const checkpoint = await lobby.handle.checkpoint();
          let stored = await this.#store(own, checkpoint, 'periodic', started);
          // Refused because the lease lapsed (renewals failed on a starved
          // machine) while nobody took the lobby: take the lease up again
          // and store it, rather than close a lobby that is still ours.
          if (!stored && !own.handingOver && (await this.#leases.renew(own.lease)) !== 'lost')
            stored = await this.#store(own, checkpoint, 'periodic', started);
          if (!stored && this.#owned.get(own.lease.id) === own)
            this.conflict(own.lease.id, 'its checkpoint was fenced off');
        } catch (error) {
          this.#log.debug({ lobby: own.lease.id, err: error }, 'periodic checkpoint failed');
        }
      }),
    );
  }

  async #store(
    own: Ownership,
    checkpoint: LobbyCheckpoint,
    reason: CheckpointReason,
    started: number,
  ): Promise<boolean> {
    const bytes = encodeCheckpoint(checkpoint);
    const stored = await this.#leases.writeCheckpoint(own.lease, bytes, checkpoint.tick, reason);
    if (!stored) return false;
    own.checkpointTick = checkpoint.tick;
    own.checkpointedAt = performance.now();
    this.#metrics.checkpointBytes.observe(bytes.byteLength);
    this.#metrics.checkpointDuration.observe(
      { kind: reason === 'periodic' ? 'periodic' : 'handover' },
      (performance.now() - started) / 1000,
    );
    return true;
  }

  /**
   * Hands a lobby out: freezes it (no tick or input after its checkpoint),
   * stores the checkpoint under our fence, releases the lease. The caller
   * then tells the new owner and closes the players (`finishHandOver`).
   */
  async handOut(
    id: string,
    reason: Exclude<HandoverReason, 'lease_lapsed'>,
  ): Promise<HandOutOutcome> {
    const own = this.#owned.get(id);
    const lobby = this.#directory.get(id);
    if (!own || !lobby || own.handingOver || lobby.handle.ended) return 'none';
    own.handingOver = true;
    const started = performance.now();
    let checkpoint: LobbyCheckpoint;
    try {
      checkpoint = await lobby.handle.handOver();
    } catch (error) {
      // It crashed or ended meanwhile: nothing to hand over.
      own.handingOver = false;
      this.#log.warn(
        { lobby: id, err: error },
        'hand-over abandoned: the lobby did not checkpoint',
      );
      return 'none';
    }
    let stored: boolean;
    try {
      stored = await this.#store(own, checkpoint, reason, started);
    } catch (error) {
      if (reason === 'drain') {
        // The last periodic checkpoint stands; its lease lapses and the next owner resumes from it.
        this.#log.error(
          { lobby: id, err: error },
          'drain: checkpoint not stored (Redis failed); the last periodic one stands',
        );
        this.#drop(id);
        return 'frozen';
      }
      lobby.handle.resumeAfterHandOver();
      own.handingOver = false;
      this.#log.warn(
        { lobby: id, err: error },
        'hand-over abandoned: checkpoint not stored (Redis failed)',
      );
      return 'kept';
    }
    if (!stored) {
      this.conflict(id, 'its hand-over checkpoint was fenced off');
      return 'lost';
    }
    try {
      await this.#leases.release(own.lease);
    } catch {
      // It lapses by itself within SWARMHOST_LEASE_MS; the checkpoint is stored.
    }
    this.#drop(id);
    this.#metrics.handovers.inc({ direction: 'out', reason });
    this.#log.info(
      { lobby: id, reason, tick: checkpoint.tick, particles: checkpoint.world.count },
      'lobby handed over',
    );
    return 'released';
  }

  /**
   * The safety net: a lobby runs here that another instance owns. Our copy
   * is closed (players get 4007 and reconnect to the owner), counted and logged.
   */
  conflict(id: string, why: string): void {
    this.#drop(id);
    this.#metrics.ownershipConflicts.inc();
    this.#log.warn({ lobby: id, why }, 'lobby owned elsewhere: closing our copy');
    const lobby = this.#directory.get(id);
    if (!lobby || lobby.handle.ended) return;
    if (lobby.handle.status.get().phase === 'handingOver')
      return lobby.handle.finishHandOver('moved');
    lobby.handle.handOver().then(
      () => lobby.handle.finishHandOver('moved'),
      () => {},
    );
  }

  /** A lobby ended here (closed, failed, evicted): its checkpoint goes and the lease is given up. */
  async ended(id: string): Promise<void> {
    const own = this.#owned.get(id);
    if (!own) return;
    this.#drop(id);
    try {
      await this.#leases.forget(own.lease);
    } catch (error) {
      this.#log.warn(
        { lobby: id, err: error },
        'ended lobby not forgotten in Redis (its lease lapses; its checkpoint expires)',
      );
    }
  }
}
