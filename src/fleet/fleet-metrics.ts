/**
 * The fleet's Prometheus metrics: hand-overs, checkpoints, resumes,
 * ownership conflicts and the health of the Redis connection. Registered on
 * the instance's registry whether or not fleet mode is on, with every known
 * label value at 0, so the dashboard's fleet row shows 0 (not "No data") and
 * one dashboard serves single instances and fleets alike.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a lobby changed owner: a join reached another instance, its owner drained, or its owner's lease lapsed. */
export const HANDOVER_REASONS = ['join_elsewhere', 'drain', 'lease_lapsed'] as const;
export type HandoverReason = (typeof HANDOVER_REASONS)[number];

/** Where a lobby created in fleet mode started from. */
export const RESUME_SOURCES = ['checkpoint', 'seed', 'unusable_checkpoint'] as const;
export type ResumeSource = (typeof RESUME_SOURCES)[number];

/** The Redis operations the fleet times and counts. */
export const REDIS_OPS = [
  'acquire',
  'renew',
  'release',
  'checkpoint_write',
  'checkpoint_read',
  'checkpoint_delete',
  'directory',
  'publish',
] as const;
export type RedisOp = (typeof REDIS_OPS)[number];

export class FleetMetrics {
  readonly handovers: Counter<'direction' | 'reason'>;
  readonly handoverWait: Histogram;
  readonly checkpointBytes: Histogram;
  readonly checkpointDuration: Histogram<'kind'>;
  readonly resumes: Counter<'from'>;
  readonly ownershipConflicts: Counter;
  readonly redisErrors: Counter<'op'>;
  readonly redisDuration: Histogram<'op'>;
  readonly redisUp: Gauge;
  readonly ownedLobbies: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.handovers = new Counter({
      name: 'swarmhost_handovers_total',
      help: 'Lobbies handed to another instance (direction out) or taken over from one (in), by reason.',
      labelNames: ['direction', 'reason'] as const,
      registers,
    });
    this.handoverWait = new Histogram({
      name: 'swarmhost_handover_wait_seconds',
      help: 'How long a join that reached a non-owner waited for the lobby to become ours, seconds.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
    this.checkpointBytes = new Histogram({
      name: 'swarmhost_checkpoint_bytes',
      help: 'Size of one encoded lobby checkpoint written to Redis, bytes.',
      buckets: [1e3, 1e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7],
      registers,
    });
    this.checkpointDuration = new Histogram({
      name: 'swarmhost_checkpoint_duration_seconds',
      help: 'Time from asking a lobby for its checkpoint to Redis storing it, seconds (kind: periodic or handover).',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.resumes = new Counter({
      name: 'swarmhost_lobby_resumes_total',
      help: 'Lobbies this instance started in fleet mode, by what they started from (a checkpoint, the seed, or the seed because the checkpoint could not be used).',
      labelNames: ['from'] as const,
      registers,
    });
    this.ownershipConflicts = new Counter({
      name: 'swarmhost_lobby_ownership_conflicts_total',
      help: 'Lobbies this instance found running here while another instance owned them (closed here with 4007).',
      registers,
    });
    this.redisErrors = new Counter({
      name: 'swarmhost_redis_errors_total',
      help: 'Redis commands that failed or timed out, by operation.',
      labelNames: ['op'] as const,
      registers,
    });
    this.redisDuration = new Histogram({
      name: 'swarmhost_redis_command_duration_seconds',
      help: 'Round trip of a Redis command, by operation, seconds.',
      labelNames: ['op'] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1],
      registers,
    });
    this.redisUp = new Gauge({
      name: 'swarmhost_redis_up',
      help: "1 while the fleet's Redis connection is ready, else 0 (always 0 outside fleet mode).",
      registers,
    });
    this.ownedLobbies = new Gauge({
      name: 'swarmhost_lobbies_owned',
      help: 'Lobbies whose ownership lease this instance holds (fleet mode).',
      registers,
    });
    for (const direction of ['in', 'out'])
      for (const reason of HANDOVER_REASONS) this.handovers.inc({ direction, reason }, 0);
    for (const from of RESUME_SOURCES) this.resumes.inc({ from }, 0);
    for (const op of REDIS_OPS) {
      this.redisErrors.inc({ op }, 0);
      this.redisDuration.zero({ op });
    }
    for (const kind of ['periodic', 'handover']) this.checkpointDuration.zero({ kind });
    this.ownershipConflicts.inc(0);
    this.redisUp.set(0);
    this.ownedLobbies.set(0);
  }
}
