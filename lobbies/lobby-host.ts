/**
 * Where lobbies run. A host turns LobbySettings into a LobbyHandle; the
 * server never learns more than that. The inline host runs each lobby on the
 * calling thread and passes messages by direct call (optionally through
 * structuredClone, which tests use to prove the messages would survive a
 * thread boundary).
 */
import { type Clock, realClock } from './clock.js';
import { Lobby } from './lobby.js';
import { LobbyHandle } from './lobby-handle.js';
import type { LobbyCommand, LobbyEvent, LobbySettings } from './lobby-messages.js';
import { describeError } from './lobby-machine.js';

export interface LobbyHost {
  spawn(settings: LobbySettings): LobbyHandle;
}

export interface InlineHostOptions {
  clock?: Clock;
  /** Frames kept per lobby for delta bases. */
  frameRing: number;
  /** Pass every message through structuredClone, as a thread boundary would. */
  cloneMessages?: boolean;
}

export class InlineLobbyHost implements LobbyHost {
  #clock: Clock;
  #frameRing: number;
  #clone: boolean;

  constructor(options: InlineHostOptions) {
    this.#clock = options.clock ?? realClock;
    this.#frameRing = options.frameRing;
    this.#clone = options.cloneMessages ?? false;
  }

  spawn(settings: LobbySettings): LobbyHandle {
    const pass = <T>(message: T): T => (this.#clone ? structuredClone(message) : message);
    let lobby: Lobby | undefined;
    const handle = new LobbyHandle(settings, this.#frameRing, (command: LobbyCommand) => {
      try {
        lobby?.receive(pass(command));
      } catch (error) {
        // A lobby's failure is reported as its own event, never thrown into
        // the client session that happened to post the command.
        handle.deliver({ type: 'failed', error: describeError(error) });
        lobby?.receive({ type: 'close', reason: 'internal error' });
      }
    });
    lobby = new Lobby(settings, (event: LobbyEvent) => handle.deliver(pass(event)), this.#clock);
    lobby.start();
    return handle;
  }
}
