/**
 * Erlang-style supervision of one lobby. The supervisor owns the lobby's
 * handle, which sessions keep across restarts, and the current runner
 * behind it. When the actor crashes (a tick throws, or the worker it ran on
 * dies) the supervisor restarts it from its seed after a backoff that
 * doubles with each restart in the window, continuing its tick count and
 * re-joining its clients, who see a `restarting` status and then a fresh
 * keyframe without reconnecting. Too many restarts in the window and it
 * gives up: the lobby is `failed` and its clients are closed with 1011.
 *
 * The lobby runs in a seat its host admitted it to: every incarnation is
 * placed through the seat, which keeps the lobby's particle reservation
 * across restarts, and the seat is released once, when the lobby ends.
 */
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
  let epoch = settings.epoch ?? 0;
  let restartTimer: TimerHandle | undefined;
  let restarts: number[] = [];
  let closing = false;
  let released = false;
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
      // Between a crash and its restart there is no actor: a close ends it now.
      if (command.type === 'close' || command.type === 'drain') giveUp(null);
    },
    // Any incarnation can reuse the buffer: every one has the same settings,
    // and a buffer of the wrong length is dropped on arrival.
    (frame) => runner?.recycle?.(frame.positions.buffer as ArrayBuffer),
  );

  const start = () => {
    restartTimer = undefined;
    const incarnation: LobbySettings = { ...settings, startTick: handle.tick, epoch };
    const id = ++live;
    let current: LobbyRunner;
    try {
      // An inline actor speaks during place() already, so gate on the id, not the runner.
      current = seat.place(incarnation, (event) => {
        if (live === id) onEvent(event);
      });
    } catch (error) {
      // Nowhere to run it (no live worker yet): a crash like any other.
      return crash(describeError(error));
    }
    if (live !== id) return current.stop();
    runner = current;
    for (const clientId of handle.joinedClients()) current.post({ type: 'join', clientId });
  };

  const onEvent = (event: LobbyEvent) => {
    if (event.type === 'failed') return crash(event.error);
    // The supervisor, not the actor, decides what a failure means for the lobby.
    if (event.type === 'status' && event.status.phase === 'failed') return;
    // A lobby that closed is done: stop where it ran and give back its seat.
    if (event.type === 'status' && event.status.phase === 'closed') {
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
      start();
      handle.deliver({ type: 'restarted', epoch });
    }, delay);
  };

  /** Ends the lobby for good: failed after an error, closed when asked to close while down. */
  const giveUp = (error: string | null) => {
    if (restartTimer !== undefined) clock.clearTimeout(restartTimer);
    restartTimer = undefined;
    release();
    if (error !== null) handle.deliver({ type: 'failed', error });
    handle.deliver({
      type: 'status',
      status: { ...handle.currentStatus(), phase: error === null ? 'closed' : 'failed' },
    });
  };

  start();
  return handle;
}
