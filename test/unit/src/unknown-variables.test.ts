/**
 * Unknown SWARMHOST_* variables (typos) are found by name, with the setting
 * most likely meant; other variables, real settings and the fuzz tools'
 * options are not reported, and values never appear in the warning.
 */
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../../src/config.js';
import {
  closestSetting,
  describeUnknown,
  editDistance,
  unknownVariables,
} from '../../../src/unknown-variables.js';

describe('unknownVariables', () => {
  it('reports a typo with the setting it meant', () => {
    expect(unknownVariables({ SWARMHOST_MAX_LOBBY: '3' })).toEqual([
      { variable: 'SWARMHOST_MAX_LOBBY', didYouMean: 'SWARMHOST_MAX_LOBBIES' },
    ]);
  });

  it('reports nothing for real settings, other variables and the fuzz options', () => {
    const env: Record<string, string> = {
      PATH: '/bin',
      HOME: '/root',
      TICK_RATE: 'x',
      SWARMHOST_FUZZ_SEED: '1',
      SWARMHOST_FUZZ_CASES: '10',
    };
    for (const setting of Object.values(SETTINGS)) env[setting.env] = 'x';
    expect(unknownVariables(env)).toEqual([]);
  });

  it('ignores a variable that is declared but unset', () => {
    expect(unknownVariables({ SWARMHOST_TYPO: undefined })).toEqual([]);
  });

  it('catches the prefix in any case, and sorts by name', () => {
    expect(unknownVariables({ swarmhost_tick_rate: '30', SWARMHOST_ADMIN_TOKN: 'secret' })).toEqual(
      [
        { variable: 'SWARMHOST_ADMIN_TOKN', didYouMean: 'SWARMHOST_ADMIN_TOKEN' },
        { variable: 'swarmhost_tick_rate', didYouMean: 'SWARMHOST_TICK_RATE' },
      ],
    );
  });

  it('suggests nothing when no setting is close', () => {
    expect(unknownVariables({ SWARMHOST_DATABASE_URL: 'postgres://x' })).toEqual([
      { variable: 'SWARMHOST_DATABASE_URL' },
    ]);
  });
});

describe('closestSetting', () => {
  const cases: Array<[string, string | undefined]> = [
    ['SWARMHOST_MAX_LOBBY', 'SWARMHOST_MAX_LOBBIES'],
    ['SWARMHOST_TICKRATE', 'SWARMHOST_TICK_RATE'],
    ['SWARMHOST_WORKER', 'SWARMHOST_WORKERS'],
    ['SWARMHOST_ALLOWED_ORIGIN', 'SWARMHOST_ALLOWED_ORIGINS'],
    ['SWARMHOST_MAX_SOCKET_PER_IP', 'SWARMHOST_MAX_SOCKETS_PER_IP'],
    ['SWARMHOST_LOGLEVEL', 'SWARMHOST_LOG_LEVEL'],
    ['SWARMHOST_X', undefined],
    ['SWARMHOST_REDIS_HOST', undefined],
  ];
  for (const [name, expected] of cases) {
    it(`${name} → ${expected ?? 'no suggestion'}`, () => {
      expect(closestSetting(name)).toBe(expected);
    });
  }
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('LOBBY', 'LOBBIES')).toBe(3);
  });
});

describe('describeUnknown', () => {
  it('is one line naming the variables and suggestions, never their values', () => {
    const line = describeUnknown(
      unknownVariables({ SWARMHOST_ADMIN_TOKN: 'hunter2', SWARMHOST_DATABASE_URL: 'pg' }),
    );
    expect(line).toBe(
      'unknown environment variables ignored: SWARMHOST_ADMIN_TOKN (did you mean SWARMHOST_ADMIN_TOKEN?), SWARMHOST_DATABASE_URL (settings: docs/CONFIG.md or --help)',
    );
    expect(line).not.toContain('hunter2');
  });
});
