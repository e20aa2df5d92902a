/**
 * Erlang-style supervision of one lobby. The supervisor owns the lobby's
 * handle, which sessions keep across restarts, and the current runner
 * behind it. When the actor crashes (a tick throws, or the worker it ran on
 * dies) the supervisor restarts it after a backoff that doubles with each
 * restart in the window, continuing its tick count and re-joining its
 * clients, who see a `restarting` status and then a fresh keyframe without
 * reconnecting. Too many restarts in the window and it gives up: the lobby
 * is `failed` and its clients are closed with 1011.
 *
 * What a restart starts from: the newest checkpoint the handle holds (its
 * world and pending spawns; periodic checkpoints bound what a crash loses),
 * else the checkpoint the lobby was first resumed from (`settings.resume`),
 * else the seed. Ticks go on from the handle's tick either way, never back,
 * and the epoch goes up by one.
 *
 * A lobby frozen for a hand-over whose checkpoint is out (`handle.frozen`)
 * is not restarted when it crashes: that checkpoint may already be running
 * on another instance, and a restart here would make two live copies. It is
 * held instead (phase still `handingOver`, no actor): `finishHandOver` ends
 * it as moved or drained, `resumeAfterHandOver` restarts it from that
 * checkpoint, a close closes it.
 *
 * The lobby runs in a seat its host admitted it to: every incarnation is
 * placed through the seat, which keeps the lobby's particle reservation
 * across restarts, and the seat is released once, when the lobby ends.
 */
import { LOBBY_PHASE_RULES } from '../protocol/index.js';
import { type Clock, type TimerHandle, realClock } from './clock.js';
import { LobbyHandle } from './lobby-handle.js';
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import { describeError } from './lobby-machine.js';
import type { LobbyRunner, LobbySeat } from './lobby-runner.js';

export interface RestartPolicy {
  maxRestarts: number;
  windowMs: number;
  backoffMs: number;
}

export interface SuperviseOptions {
  frameRing: number;
  policy: RestartPolicy;
  clock?: Clock;
}

export function superviseLobby(
  settings: LobbySettings,
  seat: LobbySeat,
  options: SuperviseOptions,
): LobbyHandle {
  const clock = options.clock ?? realClock;
  const { policy } = options;
  let runner: LobbyRunner | undefined;
  /** Which incarnation may speak: events of a stopped one are dropped. */
  let live = 0;
  let epoch = settings.epoch ?? settings.resume?.epoch ?? 0;
  let restartTimer: TimerHandle | undefined;
  let restarts: number[] = [];
  let closing = false;
  let released = false;
  /** Crashed while frozen for a hand-over: no actor, and none until the hand-over is abandoned. */
  let held = false;
  /**
   * Gives the seat back, before the terminal status goes out: whoever hears
   * that status (the directory, which then frees the id) may create a lobby
   * of the same id at once, and it must not find this one's room still taken.
   */
  const release = () => {
    if (released) return;
    released = true;
    seat.release();
  };

  const handle = new LobbyHandle(
    settings,
    options.frameRing,
    (command: LobbyCommand) => {
      if (command.type === 'close' || command.type === 'drain') closing = true;
      if (runner) return runner.post(command);
      // Between a crash and its restart (or while held) there is no actor:
      // a close ends it now, and a checkpoint request is told so rather than
      // left waiting.
      switch (command.type) {
        case 'close':
        case 'drain':
          return giveUp(null);
        case 'checkpoint':
        case 'handOver':
          return handle.deliver({
            type: 'checkpointFailed',
            requestId: command.requestId,
            error: `lobby ${settings.id} ${held ? 'crashed while handed over' : 'is restarting'}: no checkpoint`,
          });
        case 'finishHandOver':
          if (held) end(command.as);
          return;
        case 'resumeAfterHandOver':
          if (!held) return;
          held = false;
          epoch++;
          handle.resetInbox();
          return handle.deliver({ type: 'restarted', epoch, from: start() });
      }
    },
    // Any incarnation can reuse the buffer: every one has the same settings,
    // and a buffer of the wrong length is dropped on arrival.
    (frame) => runner?.recycle?.(frame.positions.buffer as ArrayBuffer),
  );

  /** Starts an incarnation; says what its world came from. */
  const start = (): 'checkpoint' | 'seed' => {
    restartTimer = undefined;
    const newest = handle.lastCheckpoint;
    const from = newest ?? settings.resume;
    const incarnation: LobbySettings = {
      ...settings,
      startTick: handle.tick,
      epoch,
      resume: from,
      // The seat's reservation follows (the actor holds what its world has);
      // `settings.resume` must match what the host admitted on its own.
      particles: newest ? newest.world.count : settings.particles,
    };
    const id = ++live;
    let current: LobbyRunner;
    try {
      // An inline actor speaks during place() already, so gate on the id, not the runner.
      current = seat.place(incarnation, (event) => {
        if (live === id) onEvent(event);
      });
    } catch (error) {
      // Nowhere to run it (no live worker yet): a crash like any other.
      crash(describeError(error));
      return from ? 'checkpoint' : 'seed';
    }
    if (live !== id) {
      current.stop();
    } else {
      runner = current;
      for (const clientId of handle.joinedClients()) current.post({ type: 'join', clientId });
    }
    return from ? 'checkpoint' : 'seed';
  };

  const onEvent = (event: LobbyEvent) => {
    if (event.type === 'failed') return crash(event.error);
    // The supervisor, not the actor, decides what a failure means for the lobby.
    if (event.type === 'status' && event.status.phase === 'failed') return;
    // A lobby that closed (or was handed over) is done: stop where it ran
    // and give back its seat.
    if (event.type === 'status' && LOBBY_PHASE_RULES[event.status.phase].ended) {
      live++;
      runner?.stop();
      runner = undefined;
      release();
    }
    handle.deliver(event);
  };

  const crash = (error: string) => {
    live++;
    runner?.stop();
    runner = undefined;
    if (handle.frozen) {
      held = true;
      return handle.deliver({ type: 'crashed', error, restarting: false });
    }
    const now = clock.now();
    restarts = restarts.filter((at) => now - at < policy.windowMs);
    const restarting = !closing && restarts.length < policy.maxRestarts;
    handle.deliver({ type: 'crashed', error, restarting });
    if (!restarting) return giveUp(error);
    restarts.push(now);
    epoch++;
    handle.resetInbox();
    handle.deliver({ type: 'status', status: { ...handle.currentStatus(), phase: 'restarting' } });
    const delay = policy.backoffMs * 2 ** (restarts.length - 1);
    restartTimer = clock.setTimeout(() => {
      const from = start();
      handle.deliver({ type: 'restarted', epoch, from });
    }, delay);
  };

  /** Ends the lobby for good: failed after an error, closed when asked to close while down. */
  const giveUp = (error: string | null) => {
    release();
    if (error !== null) handle.deliver({ type: 'failed', error });
    end(error === null ? 'closed' : 'failed');
  };

  /** Ends a lobby that has no actor, in `phase`. */
  const end = (phase: 'closed' | 'failed' | 'moved' | 'drained') => {
    if (restartTimer !== undefined) clock.clearTimeout(restartTimer);
    restartTimer = undefined;
    held = false;
    release();
    handle.deliver({ type: 'status', status: { ...handle.currentStatus(), phase } });
  };

  start();
  return handle;
}
