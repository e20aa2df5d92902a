/**
 * The lobby actor. Owns one world, its bounded inbox, its lifecycle machine
 * and its status watch. It hears only LobbyCommands (`receive`) and speaks
 * only LobbyEvents (`emit`), so it can run inline or in a worker unchanged.
 *
 * Per tick: drain the inbox in arrival order (inputs and spawns), apply the
 * leaves that came after them, step the world, quantize, emit one frame.
 * It ticks only while someone is in it (lobby-machine.ts): an empty lobby is
 * paused. Spawns grow it within its own cap and within its thread's
 * particle budget, which it shares with every lobby on that thread.
 *
 * Checkpoints: between two ticks it can copy out its state (world, tick,
 * epoch, the spawns waiting in its inbox) as a LobbyCheckpoint, and a lobby
 * built with `settings.resume` goes on from one; for a hand-over it freezes
 * first (`handingOver`: no tick loop, no inputs), so the checkpoint stays
 * the truth until it ends as `moved` or `drained`, or thaws.
 */
import { createActor, type Actor } from 'xstate';
import {
  ErrorCode,
  LOBBY_PHASE_RULES,
  type LobbyInput,
  type LobbyPhase,
  type LobbyStatus,
  quantBitsFor,
  quantizePositions,
} from '../protocol/index.js';
import { Mpsc } from './channels/mpsc.js';
import { Watch } from './channels/watch.js';
import type { Clock } from './clock.js';
import { describeError, lobbyMachine } from './lobby-machine.js';
import type { LobbyCheckpoint, LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import { shareOf } from './lobby-partitions.js';
import { worldParams } from './lobby-world-params.js';
import { ParticleBudget } from './particle-budget.js';
import { PositionsPool } from './positions-pool.js';
import { JS_KERNEL, type WorldKernel } from './world/wasm-kernel.js';
import { World, type WorldSplitOptions } from './world/world.js';
import type { PartitionSpawner } from './world/world-split.js';

interface QueuedInput {
  clientId: number;
  input: LobbyInput;
}

export class Lobby {
  readonly settings: LobbySettings;
  readonly status: Watch<LobbyStatus>;
  #emit: (event: LobbyEvent) => void;
  #clock: Clock;
  #world: World;
  #quantBits: number;
  #inbox: Mpsc<QueuedInput>;
  #clients = new Set<number>();
  #pendingLeaves: number[] = [];
  /** Spawns a resumed checkpoint had accepted: the first tick applies them, before the inbox. */
  #resumedSpawns: LobbyCheckpoint['pendingSpawns'];
  /** Seqs applied during the current tick, flattened [clientId, seq, ...]. */
  #tickAcks: number[] = [];
  #tick: number;
  #epoch: number;
  /** Set by a test-only fault command: the next tick throws. */
  #faultPending = false;
  #dt: number;
  #positions: PositionsPool;
  #budget: ParticleBudget;
  #actor: Actor<typeof lobbyMachine>;
  #applyInput = (queued: QueuedInput) => this.#apply(queued);

  /**
   * `positions` supplies each frame's positions array: a worker passes the
   * pool its returned buffers go to; by default every frame gets a new one,
   * which an inline host needs, since its frames are never handed back.
   * `budget` is the particle budget of the thread the lobby runs on; the
   * lobby holds its initial particles in it from here on (the host admitted
   * them) and asks it before every spawn. The host releases the reservation
   * when the lobby ends, not when this actor stops: a restart keeps it.
   * `kernel` steps the world (the host's choice, see world-kernel-loader.ts);
   * `spawnPartition` starts the extra threads of a world split over
   * `settings.partitions` (a worker passes world-partitions.ts; without it
   * the world steps on this thread alone).
   */
  constructor(
    settings: LobbySettings,
    emit: (event: LobbyEvent) => void,
    clock: Clock,
    positions = new PositionsPool(),
    budget = new ParticleBudget(Number.POSITIVE_INFINITY),
    kernel: WorldKernel = JS_KERNEL,
    spawnPartition?: PartitionSpawner,
  ) {
    this.settings = settings;
    this.#positions = positions;
    this.#budget = budget;
    this.#emit = emit;
    this.#clock = clock;
    this.#dt = 1 / settings.tickRate;
    const resume = settings.resume;
    this.#tick = settings.startTick ?? resume?.tick ?? 0;
    this.#epoch = settings.epoch ?? resume?.epoch ?? 0;
    this.#quantBits = quantBitsFor(settings.worldSize);
    this.#inbox = new Mpsc(settings.inboxCapacity);
    const split: WorldSplitOptions =
      spawnPartition && (settings.partitions ?? 1) > 1
        ? { partitions: settings.partitions, spawnPartition }
        : {};
    this.#world = resume
      ? resumedWorld(settings, resume, kernel, split)
      : seededWorld(settings, kernel, split);
    this.#resumedSpawns = resume
      ? resume.pendingSpawns.map(({ x, y, count }) => ({ x, y, count }))
      : [];
    budget.hold(settings.id, this.#share(this.#world.count));
    this.status = new Watch<LobbyStatus>(this.#readStatus('starting'));
    this.status.subscribe((status) => this.#emit({ type: 'status', status }));
    this.#actor = createActor(lobbyMachine, {
      clock,
      input: {
        idleTimeoutMs: settings.idleTimeoutMs,
        closeGraceMs: settings.closeGraceMs,
        tickRate: settings.tickRate,
        maxCatchUpSteps: settings.maxCatchUpSteps,
        clock,
        tick: (lateMs) => this.#runTick(lateMs),
        onTicksDropped: (steps) => this.#emit({ type: 'ticksDropped', steps }),
      },
    });
    this.#actor.subscribe({
      next: (snapshot) => {
        const phase = phaseOf(snapshot.tags);
        if (phase === 'failed' && this.phase !== 'failed') {
          this.#emit({ type: 'failed', error: snapshot.context.error });
        }
        this.#publishStatus(phase);
      },
      error: (error) => this.#emit({ type: 'failed', error: describeError(error) }),
    });
  }

  get phase(): LobbyPhase {
    return this.status.get().phase;
  }

  start(): void {
    this.#actor.start();
    this.#actor.send({ type: 'READY' });
  }

  receive(command: LobbyCommand): void {
    switch (command.type) {
      case 'input': {
        // Frozen for a hand-over, or closing: an input now would be lost
        // with the lobby (or miss its checkpoint), so it is refused instead.
        const phase = this.phase;
        const result = LOBBY_PHASE_RULES[phase].acceptsInputs
          ? this.#inbox.trySend({ clientId: command.clientId, input: command.input })
          : 'closed';
        // The handle's credits keep the inbox from overflowing; if it ever
        // does, the client still hears about it rather than losing the input.
        if (result !== 'ok') {
          this.#emit({
            type: 'rejected',
            clientId: command.clientId,
            seq: command.input.seq,
            code: result === 'full' ? ErrorCode.inboxFull : ErrorCode.lobbyClosed,
            message:
              result === 'full' ? 'lobby inbox full' : `lobby is ${phase}: input not accepted`,
          });
        }
        return;
      }
      case 'join':
        this.#clients.add(command.clientId);
        return this.#clientsChanged();
      case 'leave':
        if (this.#clients.delete(command.clientId)) this.#pendingLeaves.push(command.clientId);
        return this.#clientsChanged();
      case 'close':
        return void this.#actor.send({ type: 'CLOSE', reason: command.reason });
      case 'drain':
        return void this.#actor.send({ type: 'DRAIN' });
      case 'fault':
        // The worker-killing kinds mean something only to a worker host, which
        // handles them before they get here; on this thread every other fault
        // is a throwing tick, unless a partition thread can die instead.
        if (command.kind !== 'partition' || !this.#world.killPartition()) this.#faultPending = true;
        return;
      case 'checkpoint':
        return this.#answerCheckpoint(command.requestId);
      case 'handOver':
        this.#actor.send({ type: 'HAND_OVER' });
        return this.#answerCheckpoint(command.requestId, 'handingOver');
      case 'finishHandOver':
        return void this.#actor.send({ type: 'FINISH', as: command.as });
      case 'resumeAfterHandOver':
        return void this.#actor.send({ type: 'RESUME' });
    }
  }

  /**
   * Answers a checkpoint request with this moment's state, between two
   * ticks; or says why not: a lobby that failed (a tick threw half-way, so
   * its world is not to be trusted) or ended, or one that could not freeze
   * for a hand-over (`mustBe`: it is closing).
   */
  #answerCheckpoint(requestId: number, mustBe?: LobbyPhase): void {
    const phase = this.phase;
    if (LOBBY_PHASE_RULES[phase].ended || (mustBe !== undefined && phase !== mustBe)) {
      this.#emit({
        type: 'checkpointFailed',
        requestId,
        error: `lobby ${this.settings.id} is ${phase}: no checkpoint${mustBe ? ' for a hand-over' : ''}`,
      });
      return;
    }
    this.#emit({ type: 'checkpoint', requestId, checkpoint: this.#checkpoint() });
  }

  #checkpoint(): LobbyCheckpoint {
    // Forces are dropped (their clients are leaving or gone), accepted spawns
    // never: in the order they would have been applied.
    const pendingSpawns = this.#resumedSpawns.map(({ x, y, count }) => ({ x, y, count }));
    this.#inbox.peek(({ input }) => {
      if (input.t === 'spawn') pendingSpawns.push({ x: input.x, y: input.y, count: input.count });
    });
    return {
      id: this.settings.id,
      seed: this.settings.seed,
      tick: this.#tick,
      epoch: this.#epoch,
      world: this.#world.snapshot(),
      pendingSpawns,
    };
  }

  /** Stops the actor and its tick loop without a goodbye (the host is discarding it). */
  /** Stops the actor, and the world's partition threads if it has any. */
  stop(): void {
    this.#actor.stop();
    this.#world.close();
  }

  #clientsChanged(): void {
    this.#actor.send({ type: 'CLIENTS', clients: this.#clients.size });
    this.#publishStatus(this.phase);
  }

  #runTick(lateMs: number): void {
    const started = this.#clock.now();
    if (this.#faultPending) throw new Error('injected fault (SWARMHOST_FAULT_INJECTION)');
    const world = this.#world;
    const countBefore = world.count;
    if (this.#resumedSpawns.length > 0) {
      // Accepted on the instance the checkpoint came from, before anything
      // in this inbox. A refusal here (this thread's budget is tighter) has
      // no client to tell: the client that sent it is gone with that instance.
      for (const { x, y, count } of this.#resumedSpawns) this.#spawn(x, y, count);
      this.#resumedSpawns = [];
    }
    const drained = this.#inbox.drain(this.#applyInput);
    // Leaves arrive after every input their client sent, so applying them
    // after the drain never lets a departed client's force come back.
    for (const clientId of this.#pendingLeaves) world.removeForce(clientId);
    this.#pendingLeaves.length = 0;
    world.step(this.#dt);
    this.#tick++;
    const positions = this.#positions.take(world.count * 2);
    quantizePositions(world.x, world.y, world.count, world.size, this.#quantBits, positions);
    const acks = this.#tickAcks;
    this.#tickAcks = [];
    const durationMs = this.#clock.now() - started;
    this.#emit({
      type: 'frame',
      tick: this.#tick,
      epoch: this.#epoch,
      count: world.count,
      positions,
      acks,
      drained,
      stats: { durationMs, lateMs, buffersAllocated: this.#positions.allocated },
    });
    if (world.count !== countBefore) this.#publishStatus(this.phase);
  }

  #apply({ clientId, input }: QueuedInput): void {
    if (input.t === 'input') {
      // A client that left keeps no force, even if its input was queued.
      if (this.#clients.has(clientId)) this.#world.setForce(clientId, input.x, input.y, input.mode);
    } else {
      const refusal = this.#spawn(input.x, input.y, input.count);
      if (refusal !== undefined) {
        this.#emit({
          type: 'rejected',
          clientId,
          seq: input.seq,
          code: ErrorCode.particleCap,
          message: refusal,
        });
      }
    }
    this.#tickAcks.push(clientId, input.seq);
  }

  /** Spawns within the lobby's cap and its thread's budget; else spawns nothing and says why. */
  #spawn(x: number, y: number, count: number): string | undefined {
    const world = this.#world;
    if (world.count + count > world.maxParticles)
      return `spawning ${count} would exceed the lobby cap of ${world.maxParticles} particles`;
    const budget = this.#budget;
    const { id } = this.settings;
    if (!budget.tryGrow(id, Math.max(0, this.#share(world.count + count) - budget.held(id))))
      return `spawning ${count} would exceed the particle budget of the worker running this lobby (${budget.used} of ${budget.limit} in use): the instance is full`;
    world.spawn(x, y, count);
    return undefined;
  }

  /** What this thread's budget holds of `particles`: all, or a split lobby's share (lobby-partitions.ts). */
  #share(particles: number): number {
    return shareOf(particles, this.settings.partitions ?? 1);
  }

  #readStatus(phase: LobbyPhase): LobbyStatus {
    return {
      id: this.settings.id,
      phase,
      tick: this.#tick,
      clients: this.#clients.size,
      particles: this.#world.count,
      maxParticles: this.#world.maxParticles,
    };
  }

  /** Sets the watch only when something a client would show has changed. */
  #publishStatus(phase: LobbyPhase): void {
    const current = this.status.get();
    if (
      current.phase === phase &&
      current.clients === this.#clients.size &&
      current.particles === this.#world.count
    ) {
      return;
    }
    if (this.status.closed) return;
    this.status.set(this.#readStatus(phase));
    if (LOBBY_PHASE_RULES[phase].ended) {
      this.#inbox.close();
      this.status.close();
      // Nothing steps or snapshots an ended lobby's world again.
      this.#world.close();
    }
  }
}

const PHASES: readonly LobbyPhase[] = [
  'starting',
  'running',
  'idle',
  'draining',
  'closing',
  'closed',
  'failed',
  'handingOver',
  'moved',
  'drained',
];

function phaseOf(tags: ReadonlySet<string>): LobbyPhase {
  for (const phase of PHASES) if (tags.has(phase)) return phase;
  return 'starting';
}

function seededWorld(
  settings: LobbySettings,
  kernel: WorldKernel,
  split: WorldSplitOptions,
): World {
  return new World({
    ...split,
    size: settings.worldSize,
    particles: settings.particles,
    maxParticles: settings.maxParticles,
    seed: settings.seed,
    params: worldParams(settings),
    kernel,
  });
}

/**
 * The world of a checkpoint, without its forces (the ids of another
 * incarnation's clients mean nothing here).
 *
 * @throws RangeError on a checkpoint that does not match the settings the
 *   host admitted (particle count, world size) or a bad world snapshot.
 */
function resumedWorld(
  settings: LobbySettings,
  resume: LobbyCheckpoint,
  kernel: WorldKernel,
  split: WorldSplitOptions,
): World {
  const { world } = resume;
  if (world.count !== settings.particles)
    throw new RangeError(
      `resume: the checkpoint holds ${world.count} particles but the lobby was admitted with ${settings.particles}`,
    );
  if (world.size !== settings.worldSize)
    throw new RangeError(
      `resume: the checkpoint's world is ${world.size} wide, the lobby's ${settings.worldSize}`,
    );
  if (!Array.isArray(resume.pendingSpawns))
    throw new RangeError('resume: pendingSpawns must be an array');
  const resumed = World.fromSnapshot(
    world,
    settings.maxParticles,
    worldParams(settings),
    kernel,
    split,
  );
  resumed.clearForces();
  return resumed;
}
