/**
 * A player for fleet tests: the shared reconnecting client (the one bots and
 * the browser use) through the test router, recording what a player would
 * notice of a hand-over: which instance served each socket, how each closed,
 * whether a frame's tick ever went back, when it last got a frame, and how
 * long each close left it without frames.
 */
import type { SocketLike } from '../../protocol/lobby-client.js';
import { ReconnectingLobbyClient } from '../../protocol/reconnecting-client.js';
import { openSocket } from './server.js';

export interface FleetPlayer {
  client: ReconnectingLobbyClient;
  /** The instance the current socket was welcomed by. */
  instance(): string | undefined;
  /** Ticks that were lower than one seen before, as [before, after]. */
  readonly tickWentBack: Array<[number, number]>;
  /** Frames received, and when the last one came (performance.now()). */
  frames(): number;
  lastFrameAt(): number;
  /** Time of the first frame on each socket after a welcome from `instance`. */
  firstFrameOn(instance: string): number | undefined;
  /** Close codes of every socket so far. */
  closeCodes(): number[];
  /**
   * One entry per break in the frames: the code of the close that began it,
   * and the time from the last frame before that close to the first frame
   * after it (whatever failed in between belongs to the same break).
   */
  readonly gaps: Array<{ code: number; ms: number }>;
  stop(): void;
}

export function fleetPlayer(routerPort: number, lobbyId: string): FleetPlayer {
  const url = `ws://127.0.0.1:${routerPort}/lobby/${lobbyId}/ws`;
  const tickWentBack: Array<[number, number]> = [];
  const gaps: Array<{ code: number; ms: number }> = [];
  /** The close that began the current break, and the last frame before it. */
  let broken: { code: number; lastFrameAt: number } | undefined;
  const firstFrame = new Map<string, number>();
  let highest = -1;
  let frames = 0;
  let lastFrameAt = 0;
  let current: string | undefined;
  const client = new ReconnectingLobbyClient({
    url,
    createSocket: (target) => openSocket(target) as unknown as SocketLike,
    events: {
      welcome: (welcome) => {
        current = welcome.instanceId;
      },
      frame: (frame) => {
        frames++;
        lastFrameAt = performance.now();
        if (broken) gaps.push({ code: broken.code, ms: lastFrameAt - broken.lastFrameAt });
        broken = undefined;
        if (current !== undefined && !firstFrame.has(current)) firstFrame.set(current, lastFrameAt);
        if (frame.tick < highest) tickWentBack.push([highest, frame.tick]);
        highest = Math.max(highest, frame.tick);
      },
      close: (code) => {
        current = undefined;
        if (!broken && frames > 0) broken = { code, lastFrameAt };
      },
    },
  }).start();
  return {
    client,
    instance: () => current,
    tickWentBack,
    gaps,
    frames: () => frames,
    lastFrameAt: () => lastFrameAt,
    firstFrameOn: (instance) => firstFrame.get(instance),
    closeCodes: () =>
      client.connections.flatMap((c) => (c.closeCode === undefined ? [] : [c.closeCode])),
    stop: () => client.stop(),
  };
}
