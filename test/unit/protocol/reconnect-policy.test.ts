import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  FATAL_CLOSE_CODES,
  LOBBY_MOVING_REASON,
  MAKING_ROOM_REASON,
} from '../../../protocol/close-codes.js';
import {
  BACKOFF,
  backoffDelay,
  type CloseDecision,
  DRAIN_RECONNECT_SPREAD_MS,
  decideAfterClose,
  describeClose,
  FAILED_LOBBY_PAUSE_MS,
  FULL_RETRY,
  LOBBY_MOVING_RETRY,
  MOVED_RECONNECT_JITTER_MS,
  MOVING_COUNTED_ATTEMPTS,
} from '../../../protocol/reconnect-policy.js';

const MOVING = `${LOBBY_MOVING_REASON}: retry in a moment`;

/** A seeded PRNG (mulberry32), so the sampled tests are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const delayOf = (decision: CloseDecision) => {
  if (decision.kind === 'refused') throw new Error('refused');
  return decision.delayMs;
};

describe('backoffDelay (full jitter)', () => {
  it('is uniform between the floor and min · 2^attempt, capped at 30 s', () => {
    expect(BACKOFF.floorMs).toBeGreaterThan(0);
    expect(BACKOFF.floorMs).toBeLessThanOrEqual(100);
    expect(backoffDelay(0, () => 0)).toBe(BACKOFF.floorMs);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 0)).toBe(BACKOFF.floorMs);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    for (const attempt of [6, 7, 10, 100, Number.POSITIVE_INFINITY]) {
      expect(backoffDelay(attempt, () => 1)).toBe(BACKOFF.maxMs);
      expect(backoffDelay(attempt, () => 0)).toBe(BACKOFF.floorMs);
    }
  });

  it('spreads the first reconnect of clients cut off together over most of 0.5 s', () => {
    // Equal jitter clamped to 500 ms gave every client exactly 500 ms (spread 0).
    const random = seeded(11);
    const delays = Array.from({ length: 1000 }, () =>
      delayOf(decideAfterClose(1006, '', 0, random)),
    );
    const spread = Math.max(...delays) - Math.min(...delays);
    expect(spread).toBeGreaterThan(400);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(BACKOFF.floorMs);
      expect(d).toBeLessThanOrEqual(500);
    }
    // No crowd: at most ~1/9 of them in any 50 ms bin (uniform: 1/9 on average).
    const bins = new Map<number, number>();
    for (const d of delays) bins.set(Math.floor(d / 50), (bins.get(Math.floor(d / 50)) ?? 0) + 1);
    expect(Math.max(...bins.values())).toBeLessThan(170);
  });
});

describe('decideAfterClose', () => {
  it('refuses, with the server reason, for every fatal code', () => {
    for (const code of FATAL_CLOSE_CODES) {
      expect(decideAfterClose(code, 'because', 0)).toEqual({ kind: 'refused', reason: 'because' });
    }
  });

  it('says why in our words when the server gave no reason', () => {
    expect(decideAfterClose(CloseCode.versionMismatch, '', 0)).toEqual({
      kind: 'refused',
      reason: describeClose(CloseCode.versionMismatch, ''),
    });
    expect(describeClose(CloseCode.versionMismatch, '')).toMatch(/version/);
    expect(describeClose(1006, '')).toBe('connection lost');
    expect(describeClose(CloseCode.moved, '')).toBe('the lobby moved to another server');
    expect(describeClose(CloseCode.moved, 'to b')).toBe('to b');
  });

  it('comes back at once after a move (4007), within the small jitter, without raising the step', () => {
    expect(MOVED_RECONNECT_JITTER_MS).toBe(100);
    for (const attempt of [0, 4, 20]) {
      expect(decideAfterClose(CloseCode.moved, '', attempt, () => 0)).toEqual({
        kind: 'retry',
        delayMs: 0,
        nextAttempt: attempt,
      });
      expect(decideAfterClose(CloseCode.moved, '', attempt, () => 1)).toEqual({
        kind: 'retry',
        delayMs: MOVED_RECONNECT_JITTER_MS,
        nextAttempt: attempt,
      });
    }
  });

  it('retries a join refused while the lobby moves in 150-400 ms, whatever the step', () => {
    expect(LOBBY_MOVING_RETRY).toEqual({ minMs: 150, maxMs: 400 });
    for (const attempt of [0, 2, 9, 50]) {
      expect(delayOf(decideAfterClose(CloseCode.tryAgainLater, MOVING, attempt, () => 0))).toBe(
        150,
      );
      expect(delayOf(decideAfterClose(CloseCode.tryAgainLater, MOVING, attempt, () => 1))).toBe(
        400,
      );
    }
    // A plain 1013 (a socket cap) keeps the backoff.
    expect(delayOf(decideAfterClose(CloseCode.tryAgainLater, '', 5, () => 1))).toBe(16_000);
    expect(delayOf(decideAfterClose(CloseCode.tryAgainLater, 'busy', 0, () => 0.5))).toBe(275);
  });

  it('counts only the first few moving refusals toward the backoff step', () => {
    let attempt = 0;
    for (let refusal = 0; refusal < 30; refusal++) {
      const decision = decideAfterClose(CloseCode.tryAgainLater, MOVING, attempt, () => 0.5);
      if (decision.kind !== 'retry') throw new Error(decision.kind);
      attempt = decision.nextAttempt;
    }
    expect(attempt).toBe(MOVING_COUNTED_ATTEMPTS);
    // So a long hand-over followed by a lost connection waits at most min · 2^3, not 30 s.
    expect(delayOf(decideAfterClose(1006, '', attempt, () => 1))).toBe(4000);
    // A step already higher (real failures) is neither raised nor lowered.
    const high = decideAfterClose(CloseCode.tryAgainLater, MOVING, 7, () => 0);
    expect(high).toMatchObject({ kind: 'retry', nextAttempt: 7 });
    // Any other close raises the step by one.
    expect(decideAfterClose(1006, '', 7, () => 0)).toMatchObject({ nextAttempt: 8 });
  });

  it('waits 15-30 s, showing the reason, when the lobby or the server is full', () => {
    for (const code of [CloseCode.lobbyFull, CloseCode.tooManyLobbies]) {
      expect(decideAfterClose(code, 'lobby is full', 0, () => 0)).toEqual({
        kind: 'later',
        delayMs: FULL_RETRY.minMs,
        nextAttempt: 1,
        reason: 'lobby is full',
      });
      expect(delayOf(decideAfterClose(code, '', 3, () => 1))).toBe(FULL_RETRY.maxMs);
    }
  });

  it('retries within a second or so when the server is making room for this lobby', () => {
    const reason = `${MAKING_ROOM_REASON}, retry in a moment`;
    for (const random of [() => 0, () => 0.999]) {
      const delay = delayOf(decideAfterClose(CloseCode.tooManyLobbies, reason, 5, random));
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThan(1000);
    }
    // The same words after 4002 (lobby full) mean nothing special.
    expect(decideAfterClose(CloseCode.lobbyFull, reason, 0, () => 0).kind).toBe('later');
    // Nor the moving words after anything but 1013.
    expect(decideAfterClose(CloseCode.lobbyFull, MOVING, 0, () => 0).kind).toBe('later');
  });

  it('reconnects at once, spread over a short window, when the server drains', () => {
    expect(decideAfterClose(CloseCode.draining, 'draining', 7, () => 0)).toEqual({
      kind: 'retry',
      delayMs: 0,
      nextAttempt: 8,
    });
    expect(delayOf(decideAfterClose(CloseCode.draining, 'draining', 7, () => 1))).toBe(
      DRAIN_RECONNECT_SPREAD_MS,
    );
  });

  it('backs off on a lost connection and pauses at least a second after a failed lobby', () => {
    expect(decideAfterClose(1006, '', 0, () => 0)).toEqual({
      kind: 'retry',
      delayMs: BACKOFF.floorMs,
      nextAttempt: 1,
    });
    expect(delayOf(decideAfterClose(1001, 'server stopping', 4, () => 1))).toBe(8000);
    expect(delayOf(decideAfterClose(CloseCode.internalError, '', 0, () => 0))).toBe(
      FAILED_LOBBY_PAUSE_MS + BACKOFF.floorMs,
    );
    expect(delayOf(decideAfterClose(CloseCode.internalError, '', 0, () => 1))).toBe(
      FAILED_LOBBY_PAUSE_MS + 500,
    );
    expect(decideAfterClose(CloseCode.lobbyClosed, '', 0, () => 0).kind).toBe('retry');
  });
});
