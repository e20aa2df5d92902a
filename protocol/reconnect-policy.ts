/**
 * What a client does after its socket closes: reconnect after a delay,
 * reconnect at once, wait a long while, or stop and show the server's
 * reason. Pure functions of the close code, its reason and the backoff step
 * (randomness injected), shared by the browser, bots and tests so all of
 * them answer a close the same way, and unit-tested without sockets or
 * timers. protocol/reconnecting-client.ts runs these decisions.
 */
import {
  CloseCode,
  FATAL_CLOSE_CODES,
  LOBBY_MOVING_REASON,
  MAKING_ROOM_REASON,
} from './close-codes.js';

/**
 * Reconnect delays after a lost connection: "full jitter", uniform in
 * [floorMs, raw] where raw = min(maxMs, minMs · factor^attempt).
 *
 * Full rather than equal jitter: every player of a crashed instance loses its
 * socket in the same millisecond, and equal jitter clamped to minMs sent them
 * all back exactly 500 ms later, within a few tens of ms of each other (their
 * connect times). Full jitter spreads the first wave over 450 ms, and each
 * later wave over its whole window.
 *
 * The floor: a reconnect in the very turn of the close reaches the load
 * balancer before its health check has noticed a dead instance (it may route
 * us straight back) and only burns an attempt; 50 ms costs the spread next to
 * nothing (the first window is still 450 ms wide).
 */
export const BACKOFF = Object.freeze({ floorMs: 50, minMs: 500, maxMs: 30_000, factor: 2 });

/**
 * Draining (4005) sends every client of an instance away at the same moment;
 * spreading their reconnects over this window keeps them from landing on the
 * next instance in the same millisecond.
 */
export const DRAIN_RECONNECT_SPREAD_MS = 250;

/**
 * A hand-over (4007 moved) closes a lobby's players together, and the lobby
 * is ready on its new instance when they are told: come back at once, spread
 * over this small window (uniform in [0, it]) so the new owner does not take
 * every join in the same millisecond.
 */
export const MOVED_RECONNECT_JITTER_MS = 100;

/**
 * A join refused with 1013 "lobby is moving between instances": the lobby is
 * playable again within a second or so, so retry soon (uniform in this
 * window), not after the growing backoff.
 */
export const LOBBY_MOVING_RETRY = Object.freeze({ minMs: 150, maxMs: 400 });

/**
 * How far "moving" refusals may raise the backoff step. A refusal says
 * nothing about our network or the server's health (the lobby is between
 * owners for a moment), and a slow hand-over can refuse a client a dozen
 * times: counted in full, those would leave the next real failure (a lost
 * connection) waiting up to 30 s. Counting only the first few keeps that
 * effect bounded (the step never rises past this through refusals alone)
 * while the attempt number still shows the client is retrying.
 */
export const MOVING_COUNTED_ATTEMPTS = 3;

/** How long after a "making room" refusal to try again (times 1 to 2, jittered). */
export const MAKING_ROOM_RETRY_MS = 500;

/** The server is full (4002, 4003): ask again only after a long pause, jittered in this window. */
export const FULL_RETRY = Object.freeze({ minMs: 15_000, maxMs: 30_000 });

/** A failed lobby (1011) is restarted or closed by its supervisor: pause at least this long first. */
export const FAILED_LOBBY_PAUSE_MS = 1000;

/**
 * A connection that stayed up this long was a success: the backoff starts
 * afresh after it closes (one that welcomes and then drops us at once must
 * not be hammered at the shortest delay).
 */
export const CONNECTION_STABLE_AFTER_MS = 10_000;

/**
 * Delay before reconnecting at backoff step `attempt` (0 after a connection
 * that stayed up): full jitter, see BACKOFF.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  limits = BACKOFF,
): number {
  const raw = Math.min(limits.maxMs, limits.minMs * limits.factor ** Math.max(0, attempt));
  return limits.floorMs + (raw - limits.floorMs) * random();
}

const within = (window: { minMs: number; maxMs: number }, random: () => number) =>
  window.minMs + (window.maxMs - window.minMs) * random();

export type CloseDecision =
  /**
   * Reconnect after `delayMs`; decide the next close with backoff step
   * `nextAttempt`.
   */
  | { kind: 'retry'; delayMs: number; nextAttempt: number }
  /** The server is full: show why, and try again only after a long pause. */
  | { kind: 'later'; delayMs: number; nextAttempt: number; reason: string }
  /** Retrying the same request cannot succeed: show why and stop. */
  | { kind: 'refused'; reason: string };

/** Words for close codes whose reason a server (or a proxy) may leave empty. */
const CLOSE_TEXT: Readonly<Record<number, string>> = {
  [CloseCode.unsupportedData]: 'the server received a text message (the protocol is binary)',
  [CloseCode.invalidPayload]: 'the server could not decode a message from this client',
  [CloseCode.policy]: 'refused by server policy (origin or message rate)',
  [CloseCode.tooBig]: 'a message from this client was too large',
  [CloseCode.internalError]: 'the lobby failed on the server',
  [CloseCode.tryAgainLater]: 'the server is busy',
  [CloseCode.versionMismatch]:
    'this page speaks another protocol version than the server: reload it',
  [CloseCode.helloTimeout]: 'the server did not hear a hello in time',
  [CloseCode.lobbyFull]: 'this lobby is full',
  [CloseCode.tooManyLobbies]: 'this server is full: it cannot start another lobby now',
  [CloseCode.lobbyClosed]: 'the lobby closed',
  [CloseCode.draining]: 'the server is restarting',
  [CloseCode.expectedHello]: 'the server expected a hello first',
  [CloseCode.moved]: 'the lobby moved to another server',
};

/** The server's reason if it gave one, else our words for the code. */
export function describeClose(code: number, reason: string): string {
  if (reason.trim() !== '') return reason;
  return (
    CLOSE_TEXT[code] ?? (code === 1006 ? 'connection lost' : `connection closed (code ${code})`)
  );
}

/**
 * Decides what follows a close with `code` and `reason`. `attempt` is the
 * backoff step: 0 after a connection that stayed up
 * (CONNECTION_STABLE_AFTER_MS), else the previous decision's `nextAttempt`.
 */
export function decideAfterClose(
  code: number,
  reason: string,
  attempt: number,
  random: () => number = Math.random,
): CloseDecision {
  const text = describeClose(code, reason);
  if (FATAL_CLOSE_CODES.has(code)) return { kind: 'refused', reason: text };
  const next = attempt + 1;
  switch (code) {
    case CloseCode.moved:
      // A planned hand-over, not a failure: the lobby is ready elsewhere now,
      // and the step is left as it was (a move does not make the next real
      // failure wait longer).
      return { kind: 'retry', delayMs: MOVED_RECONNECT_JITTER_MS * random(), nextAttempt: attempt };
    case CloseCode.tryAgainLater:
      if (reason.startsWith(LOBBY_MOVING_REASON))
        return {
          kind: 'retry',
          delayMs: within(LOBBY_MOVING_RETRY, random),
          nextAttempt: attempt < MOVING_COUNTED_ATTEMPTS ? next : attempt,
        };
      // A socket cap was reached: the ordinary backoff.
      return { kind: 'retry', delayMs: backoffDelay(attempt, random), nextAttempt: next };
    case CloseCode.tooManyLobbies:
      // The server has just closed an empty lobby for us: its room frees in a moment.
      if (reason.startsWith(MAKING_ROOM_REASON))
        return {
          kind: 'retry',
          delayMs: MAKING_ROOM_RETRY_MS * (1 + random()),
          nextAttempt: next,
        };
      return {
        kind: 'later',
        delayMs: within(FULL_RETRY, random),
        nextAttempt: next,
        reason: text,
      };
    case CloseCode.lobbyFull:
      // Space frees up only when someone leaves: retrying fast only adds load.
      return {
        kind: 'later',
        delayMs: within(FULL_RETRY, random),
        nextAttempt: next,
        reason: text,
      };
    case CloseCode.draining:
      // Another instance (or this one, restarted) can take us now.
      return { kind: 'retry', delayMs: DRAIN_RECONNECT_SPREAD_MS * random(), nextAttempt: next };
    case CloseCode.internalError:
      // Give the supervisor a moment to restart (or close) the lobby first.
      return {
        kind: 'retry',
        delayMs: FAILED_LOBBY_PAUSE_MS + backoffDelay(attempt, random),
        nextAttempt: next,
      };
    default:
      return { kind: 'retry', delayMs: backoffDelay(attempt, random), nextAttempt: next };
  }
}
