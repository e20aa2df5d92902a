import { describe, expect, it } from 'vitest';
import { AuthThrottle, type AuthThrottleBounds } from '../../../src/auth-throttle.js';

function throttle(bounds: Partial<AuthThrottleBounds> = {}) {
  let now = 0;
  const t = new AuthThrottle({ maxFailures: 3, windowMs: 10_000, now: () => now, bounds });
  return { t, advance: (ms: number) => (now += ms) };
}

describe('AuthThrottle', () => {
  it('refuses an IP after maxFailures in its window, until the window ends', () => {
    const { t, advance } = throttle();
    for (let i = 0; i < 3; i++) {
      expect(t.retryAfterMs('a')).toBe(0);
      t.fail('a');
      advance(1000);
    }
    expect(t.retryAfterMs('a')).toBe(7000);
    expect(t.retryAfterMs('b')).toBe(0);
    advance(7000);
    expect(t.retryAfterMs('a')).toBe(0);
    t.fail('a');
    expect(t.retryAfterMs('a')).toBe(0);
  });

  it('forgives the failures of an IP that succeeds', () => {
    const { t } = throttle();
    t.fail('a');
    t.fail('a');
    t.succeed('a');
    t.fail('a');
    t.fail('a');
    expect(t.retryAfterMs('a')).toBe(0);
  });

  it('remembers at most trackedIps, evicting the one touched longest ago', () => {
    const { t } = throttle({ trackedIps: 3 });
    for (const ip of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) t.fail(ip);
    t.fail('a'); // a is now the newest
    t.fail('d'); // evicts b
    expect(t.size).toBe(3);
    expect(t.retryAfterMs('b')).toBe(0);
    expect(t.retryAfterMs('a')).toBeGreaterThan(0);
    expect(t.retryAfterMs('c')).toBeGreaterThan(0);
    for (let i = 0; i < 10_000; i++) t.fail(`ip-${i}`);
    expect(t.size).toBe(3);
  });
});
