import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type Config,
  defaultConfig,
  JS_KERNEL_PARTICLE_BUDGET,
  loadConfig,
  particleBudgetFor,
  SETTINGS,
  type SettingName,
} from '../../../src/config.js';

/** Runs loadConfig and returns the ConfigError it throws (fails the test if it does not). */
function configError(
  env: Record<string, string | undefined>,
  argv: readonly string[] = [],
): ConfigError {
  try {
    loadConfig(env, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}, ${JSON.stringify(argv)}) did not throw`);
}

describe('loadConfig defaults', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(8080);
    expect(config.logLevel).toBe('info');
    expect(config.maxLobbies).toBe(64);
    expect(config.maxClientsPerLobby).toBe(100);
    expect(config.defaultParticles).toBe(10_000);
    expect(config.maxParticles).toBe(100_000);
    expect(config.maxSpawn).toBe(500);
    expect(config.worldSize).toBe(1000);
    expect(config.tickRate).toBe(60);
    expect(config.maxCatchUpSteps).toBe(4);
    expect(config.idleTimeoutMs).toBe(60_000);
    expect(config.closeGraceMs).toBe(2_000);
    expect(config.inboxCapacity).toBe(1024);
    expect(config.frameRing).toBe(64);
    expect(config.sendHighWaterBytes).toBe(262_144);
    expect(config.maxMessageBytes).toBe(4096);
    expect(config.helloTimeoutMs).toBe(5_000);
    expect(config.rateLimitPerSec).toBe(120);
    expect(config.rateLimitBurst).toBe(240);
    expect(config.rateLimitFloodSeconds).toBe(5);
    expect(config.allowedOrigins).toEqual([]);
    expect(config.drainTimeoutMs).toBe(10_000);
  });

  it('has exactly one key per setting, each default valid against its own range', () => {
    const config = loadConfig({});
    expect(Object.keys(config).sort()).toEqual(Object.keys(SETTINGS).sort());
    for (const name of Object.keys(SETTINGS) as SettingName[]) {
      const setting = SETTINGS[name] as { default: unknown; min?: number; max?: number };
      if (name !== 'instanceId') expect(config[name], name).toEqual(setting.default);
      if (typeof setting.default === 'number') {
        if (setting.min !== undefined)
          expect(setting.default, name).toBeGreaterThanOrEqual(setting.min);
        if (setting.max !== undefined)
          expect(setting.default, name).toBeLessThanOrEqual(setting.max);
      }
    }
  });

  it('every environment variable name is unique', () => {
    const envs = Object.values(SETTINGS).map((s) => s.env);
    expect(new Set(envs).size).toBe(envs.length);
  });

  it('ignores unrelated environment variables', () => {
    const config = loadConfig({ PATH: '/bin', SWARMHOST_NOT_A_SETTING: 'x', TICK_RATE: 'abc' });
    expect(config.tickRate).toBe(60);
    expect(config.port).toBe(8080);
  });

  it('instanceId defaults to <hostname>-<6 hex digits>, fresh per load', () => {
    const a = loadConfig({}).instanceId;
    const b = loadConfig({ SWARMHOST_INSTANCE_ID: '' }).instanceId;
    for (const id of [a, b]) {
      expect(typeof id).toBe('string');
      expect(id.length).toBeGreaterThan(0);
      expect(id.startsWith(`${hostname()}-`)).toBe(true);
      expect(id.slice(hostname().length + 1)).toMatch(/^[0-9a-f]{6}$/);
    }
    expect(a).not.toBe(b);
  });

  it('keeps an explicit instanceId', () => {
    expect(loadConfig({ SWARMHOST_INSTANCE_ID: 'eu-1.node_7:a' }).instanceId).toBe('eu-1.node_7:a');
    const max = 'a'.repeat(64);
    expect(loadConfig({ SWARMHOST_INSTANCE_ID: max }).instanceId).toBe(max);
  });
});

describe('loadConfig environment overrides', () => {
  it('parses every kind of value from the environment', () => {
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: '1234',
      SWARMHOST_LOG_LEVEL: 'debug',
      SWARMHOST_TICK_RATE: ' 30 ',
      SWARMHOST_WORLD_SIZE: '2000.5',
      SWARMHOST_RATE_LIMIT_PER_SEC: '0.5e1',
      SWARMHOST_DEFAULT_PARTICLES: '0',
      SWARMHOST_MAX_PARTICLES: '1000000',
      SWARMHOST_ALLOWED_ORIGINS: ' https://a.example , https://b.example,,',
    });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(1234);
    expect(config.logLevel).toBe('debug');
    expect(config.tickRate).toBe(30);
    expect(config.worldSize).toBe(2000.5);
    expect(config.rateLimitPerSec).toBe(5);
    expect(config.defaultParticles).toBe(0);
    expect(config.maxParticles).toBe(1_000_000);
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    // Untouched settings keep their defaults.
    expect(config.maxSpawn).toBe(500);
  });

  it('accepts the inclusive bounds of a range', () => {
    expect(loadConfig({ SWARMHOST_TICK_RATE: '1' }).tickRate).toBe(1);
    expect(loadConfig({ SWARMHOST_TICK_RATE: '240' }).tickRate).toBe(240);
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
    expect(loadConfig({ SWARMHOST_WORLD_SIZE: '6553' }).worldSize).toBe(6553);
    const minWorld = String(SETTINGS.worldSize.min);
    expect(loadConfig({ SWARMHOST_WORLD_SIZE: minWorld }).worldSize).toBe(SETTINGS.worldSize.min);
  });

  it('allows defaultParticles equal to maxParticles', () => {
    const config = loadConfig({
      SWARMHOST_DEFAULT_PARTICLES: '500',
      SWARMHOST_MAX_PARTICLES: '500',
    });
    expect(config.defaultParticles).toBe(500);
    expect(config.maxParticles).toBe(500);
  });

  it('selects the world kernel with SWARMHOST_KERNEL, wasm by default', () => {
    expect(loadConfig({}).kernel).toBe('wasm');
    expect(loadConfig({ SWARMHOST_KERNEL: 'js' }).kernel).toBe('js');
    expect(loadConfig({ SWARMHOST_KERNEL: 'wasm' }).kernel).toBe('wasm');
  });

  it('sets the particle budget by the kernel when it is left unset, and keeps one that is set', () => {
    expect(loadConfig({}).particleBudget).toBe(60_000);
    expect(loadConfig({ SWARMHOST_KERNEL: 'js' }).particleBudget).toBe(JS_KERNEL_PARTICLE_BUDGET);
    expect(
      loadConfig({ SWARMHOST_KERNEL: 'js', SWARMHOST_PARTICLE_BUDGET: '60000' }).particleBudget,
    ).toBe(60_000);
    expect(loadConfig({ SWARMHOST_PARTICLE_BUDGET: '30000' }).particleBudget).toBe(30_000);
    // Unset, never below defaultParticles (a lobby joined by URL must fit);
    // set, a budget below defaultParticles is refused.
    expect(
      loadConfig({ SWARMHOST_KERNEL: 'js', SWARMHOST_DEFAULT_PARTICLES: '40000' }).particleBudget,
    ).toBe(40_000);
    expect(
      configError({
        SWARMHOST_KERNEL: 'js',
        SWARMHOST_DEFAULT_PARTICLES: '40000',
        SWARMHOST_PARTICLE_BUDGET: '30000',
      }).setting,
    ).toBe('SWARMHOST_DEFAULT_PARTICLES');
  });

  it('particleBudgetFor: the JS default for a budget left unset on JS, else the budget', () => {
    const config = loadConfig({});
    expect(particleBudgetFor(config, 'wasm')).toBe(60_000);
    expect(particleBudgetFor(config, 'js')).toBe(JS_KERNEL_PARTICLE_BUDGET);
    const set = loadConfig({ SWARMHOST_PARTICLE_BUDGET: '45000' });
    expect(particleBudgetFor(set, 'js')).toBe(45_000);
    // Set to the very value of the default, it is still set: kept.
    const setToDefault = loadConfig({ SWARMHOST_PARTICLE_BUDGET: '60000' });
    expect(particleBudgetFor(setToDefault, 'js')).toBe(60_000);
    // defaultConfig's overrides count as set; the rest as unset.
    expect(particleBudgetFor(defaultConfig({ particleBudget: 60_000 }), 'js')).toBe(60_000);
    expect(particleBudgetFor(defaultConfig({ kernel: 'js' }), 'js')).toBe(
      JS_KERNEL_PARTICLE_BUDGET,
    );
    // Never below defaultParticles: a lobby joined by URL must still fit.
    const big = loadConfig({ SWARMHOST_DEFAULT_PARTICLES: '40000' });
    expect(particleBudgetFor(big, 'js')).toBe(40_000);
  });

  it('accepts every log level of the list', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) {
      expect(loadConfig({ SWARMHOST_LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });
});

describe('loadConfig refuses bad values with a ConfigError naming the variable', () => {
  const cases: Array<[string, Record<string, string>, string, string]> = [
    ['non-number', { SWARMHOST_TICK_RATE: 'abc' }, 'SWARMHOST_TICK_RATE', "'abc' is not a number"],
    ['empty number', { PORT: '' }, 'PORT', "'' is not a number"],
    ['blank number', { PORT: '   ' }, 'PORT', "'   ' is not a number"],
    [
      'Infinity',
      { SWARMHOST_WORLD_SIZE: 'Infinity' },
      'SWARMHOST_WORLD_SIZE',
      "'Infinity' is not a number",
    ],
    [
      'NaN',
      { SWARMHOST_RATE_LIMIT_PER_SEC: 'NaN' },
      'SWARMHOST_RATE_LIMIT_PER_SEC',
      "'NaN' is not a number",
    ],
    [
      'trailing junk',
      { SWARMHOST_MAX_SPAWN: '10x' },
      'SWARMHOST_MAX_SPAWN',
      "'10x' is not a number",
    ],
    [
      'non-integer',
      { SWARMHOST_TICK_RATE: '1.5' },
      'SWARMHOST_TICK_RATE',
      "'1.5' is not an integer",
    ],
    ['below min', { SWARMHOST_TICK_RATE: '0' }, 'SWARMHOST_TICK_RATE', '0 is below the minimum 1'],
    [
      'above max',
      { SWARMHOST_TICK_RATE: '241' },
      'SWARMHOST_TICK_RATE',
      '241 is above the maximum 240',
    ],
    ['port above max', { PORT: '70000' }, 'PORT', '70000 is above the maximum 65535'],
    ['port negative', { PORT: '-1' }, 'PORT', '-1 is below the minimum 0'],
    [
      'world too large',
      { SWARMHOST_WORLD_SIZE: '6554' },
      'SWARMHOST_WORLD_SIZE',
      '6554 is above the maximum 6553',
    ],
    [
      'world too small',
      { SWARMHOST_WORLD_SIZE: '5' },
      'SWARMHOST_WORLD_SIZE',
      '5 is below the minimum',
    ],
    [
      'frame ring too small',
      { SWARMHOST_FRAME_RING: '1' },
      'SWARMHOST_FRAME_RING',
      '1 is below the minimum 2',
    ],
    [
      'bad oneOf',
      { SWARMHOST_LOG_LEVEL: 'verbose' },
      'SWARMHOST_LOG_LEVEL',
      "'verbose' is not one of fatal, error",
    ],
    [
      'oneOf is case-sensitive',
      { SWARMHOST_LOG_LEVEL: 'INFO' },
      'SWARMHOST_LOG_LEVEL',
      "'INFO' is not one of",
    ],
    [
      'an unknown world kernel',
      { SWARMHOST_KERNEL: 'asm.js' },
      'SWARMHOST_KERNEL',
      "'asm.js' is not one of wasm, js",
    ],
    [
      'bad pattern',
      { SWARMHOST_INSTANCE_ID: 'has space' },
      'SWARMHOST_INSTANCE_ID',
      "'has space' does not match",
    ],
    [
      'pattern too long',
      { SWARMHOST_INSTANCE_ID: 'a'.repeat(65) },
      'SWARMHOST_INSTANCE_ID',
      'does not match',
    ],
    [
      'defaultParticles > maxParticles',
      { SWARMHOST_DEFAULT_PARTICLES: '200000' },
      'SWARMHOST_DEFAULT_PARTICLES',
      'must not exceed SWARMHOST_MAX_PARTICLES',
    ],
    [
      'an origin that is not an origin',
      { SWARMHOST_ALLOWED_ORIGINS: 'https://good.example, notaurl' },
      'SWARMHOST_ALLOWED_ORIGINS',
      "'notaurl' does not match",
    ],
    [
      'an origin with a path',
      { SWARMHOST_ALLOWED_ORIGINS: 'https://good.example/' },
      'SWARMHOST_ALLOWED_ORIGINS',
      "'https://good.example/' does not match",
    ],
    [
      'a trusted proxy that is not an address',
      { SWARMHOST_TRUST_PROXY: 'everyone' },
      'SWARMHOST_TRUST_PROXY',
      "'everyone' does not match",
    ],
    [
      'defaultParticles > lowered maxParticles',
      { SWARMHOST_DEFAULT_PARTICLES: '11', SWARMHOST_MAX_PARTICLES: '10' },
      'SWARMHOST_DEFAULT_PARTICLES',
      'must not exceed SWARMHOST_MAX_PARTICLES',
    ],
    [
      'defaultParticles > particleBudget',
      { SWARMHOST_DEFAULT_PARTICLES: '5000', SWARMHOST_PARTICLE_BUDGET: '4999' },
      'SWARMHOST_DEFAULT_PARTICLES',
      'must not exceed SWARMHOST_PARTICLE_BUDGET',
    ],
  ];

  for (const [label, env, variable, detail] of cases) {
    it(`${label}: ${JSON.stringify(env)}`, () => {
      const error = configError(env);
      expect(error.code).toBe('config_invalid');
      expect(error.setting).toBe(variable);
      expect(error.message.startsWith(`invalid configuration: ${variable}: `)).toBe(true);
      expect(error.message).toContain(detail);
      expect(error.message).not.toContain('\n');
    });
  }

  it('names the first bad setting in table order when several are bad', () => {
    const error = configError({ SWARMHOST_TICK_RATE: 'abc', PORT: '99999' });
    expect(error.setting).toBe('PORT');
  });
});

describe('loadConfig command-line flags', () => {
  it('--port N and --port=N override PORT', () => {
    expect(loadConfig({ PORT: '1111' }, ['--port', '1234']).port).toBe(1234);
    expect(loadConfig({ PORT: '1111' }, ['--port=1234']).port).toBe(1234);
    expect(loadConfig({}, ['--port', '0']).port).toBe(0);
  });

  it('--host H and --host=H override HOST', () => {
    expect(loadConfig({ HOST: '10.0.0.1' }, ['--host', '127.0.0.1']).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '10.0.0.1' }, ['--host=::1']).host).toBe('::1');
  });

  it('takes both flags together, the last occurrence winning', () => {
    const config = loadConfig({ HOST: 'a', PORT: '1' }, ['--host', 'b', '--port=2', '--port', '3']);
    expect(config.host).toBe('b');
    expect(config.port).toBe(3);
  });

  it('validates a flag value with the same rules, naming the variable', () => {
    const high = configError({}, ['--port', '70000']);
    expect(high.setting).toBe('PORT');
    expect(high.message).toBe('invalid configuration: PORT: 70000 is above the maximum 65535');
    const text = configError({ PORT: '80' }, ['--port=abc']);
    expect(text.setting).toBe('PORT');
    expect(text.message).toBe("invalid configuration: PORT: 'abc' is not a number");
    const empty = configError({}, ['--port=']);
    expect(empty.setting).toBe('PORT');
  });

  it('refuses an unknown flag, naming it', () => {
    const error = configError({}, ['--bogus']);
    expect(error.setting).toBe('--bogus');
    expect(error.message).toBe(
      'invalid configuration: --bogus: unknown argument (known: --port, --host; see --help)',
    );
    expect(configError({}, ['--port', '80', 'extra']).setting).toBe('extra');
    expect(configError({}, ['--tick-rate=30']).setting).toBe('--tick-rate=30');
  });

  it('refuses --port and --host without a value', () => {
    const port = configError({}, ['--port']);
    expect(port.setting).toBe('--port');
    expect(port.message).toBe('invalid configuration: --port: needs a value');
    const host = configError({}, ['--port', '80', '--host']);
    expect(host.setting).toBe('--host');
    expect(host.message).toBe('invalid configuration: --host: needs a value');
  });
});

describe('the returned config', () => {
  it('is frozen', () => {
    const config = loadConfig({ PORT: '1234' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.port).toBe(1234);
  });

  it('is frozen all the way down: its list cannot be changed either', () => {
    const parsed = loadConfig({ SWARMHOST_ALLOWED_ORIGINS: 'https://a.example' });
    const defaulted = loadConfig({});
    expect(Object.isFrozen(parsed.allowedOrigins)).toBe(true);
    // The default list must not be one array shared by every config (and
    // SETTINGS): a push through one would change them all.
    expect(Object.isFrozen(defaulted.allowedOrigins)).toBe(true);
  });

  it('is a fresh object per call', () => {
    const a: Config = loadConfig({ PORT: '1' });
    const b: Config = loadConfig({ PORT: '2' });
    expect(a).not.toBe(b);
    expect(a.port).toBe(1);
    expect(b.port).toBe(2);
  });
});

describe('secrets in configuration errors', () => {
  it('names a bad Redis URL without echoing it (it may hold a password)', () => {
    expect(() => loadConfig({ SWARMHOST_REDIS_URL: 'redis//:hunter2@cache:6379' })).toThrow(
      /SWARMHOST_REDIS_URL: the value \(not shown: it is a secret\) does not match/,
    );
    try {
      loadConfig({ SWARMHOST_REDIS_URL: 'redis//:hunter2@cache:6379' });
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('checks the Redis timeout against the lease only in fleet mode', () => {
    expect(() => loadConfig({ SWARMHOST_LEASE_MS: '600' })).not.toThrow();
    expect(() =>
      loadConfig({ SWARMHOST_REDIS_URL: 'redis://127.0.0.1:6379', SWARMHOST_LEASE_MS: '600' }),
    ).toThrow(/SWARMHOST_REDIS_TIMEOUT_MS: must be at most a third of SWARMHOST_LEASE_MS/);
  });
});
