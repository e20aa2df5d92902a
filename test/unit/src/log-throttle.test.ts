import { describe, expect, it } from 'vitest';
import { LogThrottle, type LogThrottleOptions } from '../../../src/log-throttle.js';
import type { Logger } from '../../../src/logger.js';

function throttle(options: Partial<LogThrottleOptions> = {}) {
  let now = 0;
  const lines: Array<Record<string, unknown>> = [];
  const log = {
    warn: (fields: Record<string, unknown>) => lines.push(fields),
  } as unknown as Logger;
  const t = new LogThrottle(log, { intervalMs: 60_000, ...options, now: () => now });
  const say = (key: string) => t.log('warn', key, { key }, 'refused');
  return { say, lines, advance: (ms: number) => (now += ms) };
}

describe('LogThrottle', () => {
  it('logs a key at most once per interval, with the count left out', () => {
    const { say, lines, advance } = throttle();
    expect(say('a')).toBe(true);
    for (let i = 0; i < 5; i++) expect(say('a')).toBe(false);
    expect(say('b')).toBe(true);
    advance(60_000);
    expect(say('a')).toBe(true);
    expect(say('a')).toBe(false);
    expect(lines).toEqual([{ key: 'a' }, { key: 'b' }, { key: 'a', suppressed: 5 }]);
  });

  it('logs at most maxLinesPerInterval lines for all keys together', () => {
    const { say, lines, advance } = throttle({ intervalMs: 1000, maxLinesPerInterval: 4 });
    const logged = Array.from({ length: 100 }, (_, i) => say(`ip-${i}`)).filter(Boolean);
    expect(logged).toHaveLength(4);
    advance(1000);
    // A key left out before reports it when it gets a line.
    expect(say('ip-50')).toBe(true);
    expect(lines.at(-1)).toEqual({ key: 'ip-50', suppressed: 1 });
  });

  it('remembers at most maxKeys keys, least recently used forgotten first', () => {
    const { say, lines } = throttle({ maxKeys: 2 });
    say('a');
    say('b');
    say('a'); // held back; 'a' is now the most recent
    say('c'); // forgets 'b'
    // 'b' was forgotten, so it logs again at once; 'c' was not.
    expect(say('b')).toBe(true);
    expect(say('c')).toBe(false);
    expect(lines.map((l) => l.key)).toEqual(['a', 'b', 'c', 'b']);
  });
});
