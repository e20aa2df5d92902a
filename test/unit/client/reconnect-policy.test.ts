import { describe, expect, it } from 'vitest';
import {
  BACKOFF,
  backoffDelay,
  DRAIN_RECONNECT_SPREAD_MS,
  decideAfterClose,
  describeClose,
} from '../../../client/src/reconnect-policy.js';
import { CloseCode, FATAL_CLOSE_CODES, MAKING_ROOM_REASON } from '../../../protocol/close-codes.js';

describe('backoffDelay', () => {
  it('starts at 0.5 s and doubles, with the lower half of each step random', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 0)).toBe(2000);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    expect(backoffDelay(3, () => 0.5)).toBe(3000);
  });

  it('caps at 30 s however many attempts failed', () => {
    for (const attempt of [6, 7, 10, 100, Number.POSITIVE_INFINITY]) {
      expect(backoffDelay(attempt, () => 1)).toBe(BACKOFF.maxMs);
      expect(backoffDelay(attempt, () => 0)).toBe(BACKOFF.maxMs / 2);
    }
  });

  it('spreads clients that failed together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });
});

describe('decideAfterClose', () => {
  it('refuses, with the server reason, for every fatal code', () => {
    for (const code of FATAL_CLOSE_CODES) {
      expect(decideAfterClose(code, 'because', 0)).toEqual({ kind: 'refused', reason: 'because' });
    }
  });

  it('says why in our words when the server gave no reason', () => {
    const decision = decideAfterClose(CloseCode.versionMismatch, '', 0);
    expect(decision).toEqual({
      kind: 'refused',
      reason: describeClose(CloseCode.versionMismatch, ''),
    });
    expect(describeClose(CloseCode.versionMismatch, '')).toMatch(/version/);
    expect(describeClose(1006, '')).toBe('connection lost');
  });

  it('waits a long while, showing the reason, when the lobby or the server is full', () => {
    for (const code of [CloseCode.lobbyFull, CloseCode.tooManyLobbies]) {
      const decision = decideAfterClose(code, 'lobby is full', 0, () => 0);
      expect(decision).toEqual({
        kind: 'later',
        delayMs: BACKOFF.maxMs / 2,
        reason: 'lobby is full',
      });
    }
  });

  it('retries within a second or so when the server is making room for this lobby', () => {
    const reason = `${MAKING_ROOM_REASON}, retry in a moment`;
    for (const random of [() => 0, () => 0.999]) {
      const decision = decideAfterClose(CloseCode.tooManyLobbies, reason, 5, random);
      expect(decision.kind).toBe('retry');
      if (decision.kind === 'retry') {
        expect(decision.delayMs).toBeGreaterThanOrEqual(500);
        expect(decision.delayMs).toBeLessThan(1000);
      }
    }
    // The same words after 4002 (lobby full) mean nothing special.
    expect(decideAfterClose(CloseCode.lobbyFull, reason, 0, () => 0).kind).toBe('later');
  });

  it('reconnects at once, spread over a short window, when the server drains', () => {
    expect(decideAfterClose(CloseCode.draining, 'draining', 7, () => 0)).toEqual({
      kind: 'retry',
      delayMs: 0,
    });
    expect(decideAfterClose(CloseCode.draining, 'draining', 7, () => 1)).toEqual({
      kind: 'retry',
      delayMs: DRAIN_RECONNECT_SPREAD_MS,
    });
  });

  it('backs off on a lost connection and pauses at least a second after a failed lobby', () => {
    expect(decideAfterClose(1006, '', 0, () => 0)).toEqual({ kind: 'retry', delayMs: 500 });
    expect(decideAfterClose(1001, 'server stopping', 4, () => 1)).toEqual({
      kind: 'retry',
      delayMs: 8000,
    });
    expect(decideAfterClose(CloseCode.internalError, '', 0, () => 0)).toEqual({
      kind: 'retry',
      delayMs: 1000,
    });
    expect(decideAfterClose(CloseCode.lobbyClosed, '', 0, () => 0).kind).toBe('retry');
  });
});
