/**
 * What the client does after its socket closes: reconnect after a backoff,
 * reconnect at once, or stop and show the server's reason. Pure functions of
 * the close code and the attempt number (randomness injected), so the policy
 * is unit-tested without sockets or timers.
 */
import { CloseCode, FATAL_CLOSE_CODES, MAKING_ROOM_REASON } from '../../protocol/index.js';

/** Reconnect delays: exponential from 0.5 s, doubling, capped at 30 s. */
export const BACKOFF = Object.freeze({ minMs: 500, maxMs: 30_000, factor: 2 });

/**
 * Draining (4005) sends every client of an instance away at the same moment;
 * spreading their reconnects over this window keeps them from landing on the
 * next instance in the same millisecond.
 */
export const DRAIN_RECONNECT_SPREAD_MS = 250;

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry after a
 * close). "Equal jitter": uniform in [raw/2, raw] where raw doubles per
 * attempt, clamped to [minMs, maxMs]. Half the delay is random so clients cut
 * off together do not come back together; the other half keeps the growth.
 */
/** How long after a "making room" refusal to try again (times 1 to 2, jittered). */
const MAKING_ROOM_RETRY_MS = 500;

export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  limits = BACKOFF,
): number {
  const raw = Math.min(limits.maxMs, limits.minMs * limits.factor ** Math.max(0, attempt));
  const low = Math.max(limits.minMs, raw / 2);
  return low + (raw - low) * random();
}

export type CloseDecision =
  /** Reconnect after `delayMs`; the overlay says "reconnecting". */
  | { kind: 'retry'; delayMs: number }
  /** The server is full: show why, and try again only after a long pause. */
  | { kind: 'later'; delayMs: number; reason: string }
  /** Retrying the same request cannot succeed: show why and stop. */
  | { kind: 'refused'; reason: string };

/** Words for close codes whose reason a server (or a proxy) may leave empty. */
const CLOSE_TEXT: Readonly<Record<number, string>> = {
  [CloseCode.unsupportedData]: 'the server received a text message (the protocol is binary)',
  [CloseCode.invalidPayload]: 'the server could not decode a message from this client',
  [CloseCode.policy]: 'refused by server policy (origin or message rate)',
  [CloseCode.tooBig]: 'a message from this client was too large',
  [CloseCode.internalError]: 'the lobby failed on the server',
  [CloseCode.versionMismatch]:
    'this page speaks another protocol version than the server: reload it',
  [CloseCode.helloTimeout]: 'the server did not hear a hello in time',
  [CloseCode.lobbyFull]: 'this lobby is full',
  [CloseCode.tooManyLobbies]: 'this server is full: it cannot start another lobby now',
  [CloseCode.lobbyClosed]: 'the lobby closed',
  [CloseCode.draining]: 'the server is restarting',
  [CloseCode.expectedHello]: 'the server expected a hello first',
};

/** The server's reason if it gave one, else our words for the code. */
export function describeClose(code: number, reason: string): string {
  if (reason.trim() !== '') return reason;
  return (
    CLOSE_TEXT[code] ?? (code === 1006 ? 'connection lost' : `connection closed (code ${code})`)
  );
}

/**
 * Decides what follows a close with `code`. `attempt` counts the reconnects
 * tried since the last connection that stayed up.
 */
export function decideAfterClose(
  code: number,
  reason: string,
  attempt: number,
  random: () => number = Math.random,
): CloseDecision {
  const text = describeClose(code, reason);
  if (FATAL_CLOSE_CODES.has(code)) return { kind: 'refused', reason: text };
  switch (code) {
    case CloseCode.tooManyLobbies:
      // The server has just closed an empty lobby for us: its room frees in a moment.
      if (reason.startsWith(MAKING_ROOM_REASON))
        return { kind: 'retry', delayMs: MAKING_ROOM_RETRY_MS * (1 + random()) };
      return {
        kind: 'later',
        delayMs: backoffDelay(Number.POSITIVE_INFINITY, random),
        reason: text,
      };
    case CloseCode.lobbyFull:
      // Space frees up only when someone leaves: retrying fast only adds load.
      return {
        kind: 'later',
        delayMs: backoffDelay(Number.POSITIVE_INFINITY, random),
        reason: text,
      };
    case CloseCode.draining:
      // Another instance (or this one, restarted) can take us now.
      return { kind: 'retry', delayMs: DRAIN_RECONNECT_SPREAD_MS * random() };
    case CloseCode.internalError:
      // A failed lobby is restarted or closed by its supervisor: give it a pause (>= 1 s).
      return { kind: 'retry', delayMs: backoffDelay(Math.max(attempt, 2), random) };
    default:
      return { kind: 'retry', delayMs: backoffDelay(attempt, random) };
  }
}
