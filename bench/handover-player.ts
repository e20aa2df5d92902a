/**
 * A player of bench:handover's lobby: the shared ReconnectingLobbyClient
 * (what every player runs), with the bookkeeping the bench needs: which
 * instance serves it, whether a tick ever went back, and what it saw of the
 * current move (its last frame from the old owner, its first from the new
 * one, its closes and how long it chose to wait before reconnecting).
 */
import {
  type FrameMessage,
  ReconnectingLobbyClient,
  type SocketLike,
  type WelcomeMessage,
} from '../protocol/index.js';
import type { InstanceName } from './handover-fleet.js';

export /** What one player saw of one move. */
interface MoveWatch {
  to: InstanceName;
  /** Its last frame from anyone but `to` (performance.now()). */
  lastOldAt: number;
  firstNewAt: number | undefined;
  /** Particle count of its first frame from `to`. */
  firstNewCount: number | undefined;
  /** Close codes of its sockets during the move. */
  closes: number[];
  /** How long the client waited before reconnecting (the policy's jitter after 4007), summed over the move. */
  reconnectDelayMs: number;
}

/**
 * A player of the lobby: the reconnecting client every player uses, with
 * the bookkeeping the bench needs: whose frames it gets, whether a tick went
 * back on any socket, and what it saw of the current move.
 */
export class BenchPlayer {
  readonly client: ReconnectingLobbyClient;
  /** The instance that welcomed the current socket. */
  on: string | undefined;
  /** When the first socket was welcomed (performance.now()). */
  firstWelcomeAt: number | undefined;
  frames = 0;
  lastFrameAt = 0;
  readonly tickWentBack: Array<[number, number]> = [];
  #highest = -1;
  #watch: MoveWatch | undefined;

  constructor(url: string, createSocket: () => SocketLike) {
    this.client = new ReconnectingLobbyClient({
      url,
      createSocket,
      events: {
        welcome: (welcome: WelcomeMessage) => {
          this.on = welcome.instanceId;
          this.firstWelcomeAt ??= performance.now();
        },
        frame: (frame: FrameMessage) => this.#frame(frame),
        close: (code) => {
          this.on = undefined;
          this.#watch?.closes.push(code);
        },
        reconnect: (info) => {
          if (this.#watch) this.#watch.reconnectDelayMs += info.delayMs;
        },
      },
    }).start();
  }

  #frame(frame: FrameMessage): void {
    const now = performance.now();
    this.frames++;
    this.lastFrameAt = now;
    if (frame.tick < this.#highest) this.tickWentBack.push([this.#highest, frame.tick]);
    this.#highest = Math.max(this.#highest, frame.tick);
    const watch = this.#watch;
    if (!watch) return;
    if (this.on !== watch.to) watch.lastOldAt = now;
    else if (watch.firstNewAt === undefined) {
      watch.firstNewAt = now;
      watch.firstNewCount = frame.n;
    }
  }

  /** Starts watching a move to `to`. */
  watch(to: InstanceName): MoveWatch {
    this.#watch = {
      to,
      lastOldAt: this.lastFrameAt,
      firstNewAt: undefined,
      firstNewCount: undefined,
      closes: [],
      reconnectDelayMs: 0,
    };
    return this.#watch;
  }

  stop(): void {
    this.client.stop();
  }
}

export function describePlayers(players: readonly BenchPlayer[]): string {
  return players
    .map(
      (p, i) =>
        `player ${i}: on ${p.on ?? '-'} (${p.client.state.kind}), closes ${p.client.connections.map((c) => c.closeCode ?? 'open').join(',')}`,
    )
    .join('; ');
}
