import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../bench/cli-options.js';
import { parseLoadtestOptions, USAGE } from '../../../bench/loadtest/options.js';
import { parseRamp, stepLoad } from '../../../bench/loadtest/ramp.js';
import {
  brokenLimits,
  parseUntil,
  type StepMeasures,
  UNTIL_METRICS,
} from '../../../bench/loadtest/until.js';

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseLoadtestOptions(argv, env, 2, new Date('2026-11-30T03:04:05.678Z'));

const usageError = (argv: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) => {
  expect(() => parse(argv, env)).toThrow(UsageError);
  expect(() => parse(argv, env)).toThrow(message);
};

describe('loadtest options', () => {
  it('has defaults that run on their own: a local server, the three default limits, a dated out dir', () => {
    const options = parse([])!;
    expect(options).toMatchObject({
      url: undefined,
      lobbies: 1,
      clients: 10,
      durationS: 60,
      workers: 2,
      settleS: 3,
      out: 'loadtest-results/2026-11-30T03-04-05Z',
    });
    expect(options.until.map((c) => c.metric)).toEqual([
      'tick_p99',
      'client_fps',
      'latency_p99',
      'connected',
    ]);
    expect(options.lobbyPrefix).toMatch(/^lt-[a-z0-9]+$/);
  });

  it('holds a lower send rate to the same share of its frames', () => {
    expect(parse(['--send-rate', '30'])!.until.map((c) => c.text)).toEqual([
      'tick_p99>16.7ms',
      'client_fps<27.5',
      'latency_p99>100ms',
      'connected<100%',
    ]);
    expect(parse(['--send-rate', '20', '--until', 'client_fps<10'])!.until[0].threshold).toBe(10);
  });

  it('reads the whole command line of the issue', () => {
    const options = parse([
      '--url',
      'http://127.0.0.1:8080/',
      '--lobbies',
      '3',
      '--clients',
      '20',
      '--particles',
      '2000',
      '--duration',
      '120',
      '--decode',
      '5',
      '--send-rate',
      '30',
      '--ramp',
      'clients:+50/10s',
      '--until',
      'tick_p99>16.7ms,client_fps<55,latency_p99>0.1s',
      '--out',
      '/tmp/x',
      '--token',
      't',
    ])!;
    expect(options).toMatchObject({
      url: 'http://127.0.0.1:8080',
      metricsUrls: ['http://127.0.0.1:8080/metrics'],
      lobbies: 3,
      clients: 20,
      particles: 2000,
      durationS: 120,
      decode: 5,
      sendRate: 30,
      ramp: { what: 'clients', add: 50, everyS: 10 },
      out: '/tmp/x',
      token: 't',
    });
    expect(options.until[2]).toMatchObject({ metric: 'latency_p99', op: '>', threshold: 100 });
  });

  it('takes the token from SWARMHOST_ADMIN_TOKEN and metrics from a list', () => {
    const options = parse(
      [
        '--url',
        'http://lb:80',
        '--metrics',
        'http://a:9/metrics, http://b:9/metrics',
        '--particles',
        '9',
      ],
      { SWARMHOST_ADMIN_TOKEN: 'secret' },
    )!;
    expect(options.token).toBe('secret');
    expect(options.metricsUrls).toEqual(['http://a:9/metrics', 'http://b:9/metrics']);
  });

  it('answers --help with undefined (the caller prints USAGE), and USAGE names every option and metric', () => {
    expect(parse(['--help'])).toBeUndefined();
    expect(parse(['-h'])).toBeUndefined();
    for (const flag of [
      '--url',
      '--lobbies',
      '--clients',
      '--particles',
      '--duration',
      '--decode',
      '--send-rate',
      '--ramp',
      '--until',
      '--out',
      '--metrics',
      '--token',
    ])
      expect(USAGE).toContain(flag);
    for (const metric of Object.keys(UNTIL_METRICS)) expect(USAGE).toContain(metric);
  });

  it('refuses every bad value with a one-line UsageError', () => {
    usageError(['--clients', 'abc'], /--clients must be an integer/);
    usageError(['--clients', '-1'], /--clients/);
    usageError(['--lobbies', '0'], /--lobbies/);
    usageError(['--duration', '1.5'], /--duration/);
    usageError(['--send-rate', '0'], /--send-rate/);
    usageError(['--send-rate', '45'], /--send-rate must be one of 60, 30, 20, 15, 10/);
    usageError(['--send-rate', 'ß'], /--send-rate/);
    usageError(['--workers', '65'], /--workers/);
    usageError(['--url', 'ftp://x'], /--url must be an http/);
    usageError(['--url', 'not a url'], /--url must be an http/);
    usageError(['--metrics', 'http://a,'], /--metrics/);
    usageError(['--no-such-flag'], /no-such-flag/);
    usageError(['--lobby-prefix', 'a/b'], /--lobby-prefix/);
    usageError(['--lobby-prefix', 'ä'], /--lobby-prefix/);
    usageError(['--url', 'http://x', '--particles', '10'], /needs --token/);
    // Bots ask for their rate themselves: no server config change, no token.
    expect(parse(['--url', 'http://x', '--send-rate', '30'])!.sendRate).toBe(30);
    usageError(['--ramp', 'clients:+0/10s'], /increment/);
    usageError(['--ramp', 'clients:+5/1s'], /2 s to 1 h/);
    usageError(['--ramp', 'players:+5/10s'], /--ramp must look like/);
    usageError(['--until', ''], /at least one/);
  });
});

describe('--ramp', () => {
  it('grows clients per lobby or lobbies, step by step', () => {
    const start = { lobbies: 2, clientsPerLobby: 10 };
    const clients = parseRamp('clients:+50/10s');
    expect(stepLoad(start, clients, 0)).toEqual(start);
    expect(stepLoad(start, clients, 3)).toEqual({ lobbies: 2, clientsPerLobby: 160 });
    const lobbies = parseRamp('lobbies:+1/1m');
    expect(lobbies.everyS).toBe(60);
    expect(stepLoad(start, lobbies, 4)).toEqual({ lobbies: 6, clientsPerLobby: 10 });
    expect(stepLoad(start, undefined, 9)).toEqual(start);
  });
});

describe('--until', () => {
  const measures = (values: Partial<StepMeasures>): StepMeasures =>
    Object.fromEntries(
      Object.keys(UNTIL_METRICS).map((k) => [k, values[k as keyof StepMeasures] ?? Number.NaN]),
    ) as StepMeasures;

  it('converts units to the metric unit', () => {
    expect(parseUntil('tick_p99>0.02s')[0].threshold).toBeCloseTo(20);
    expect(parseUntil('tick_p99>500us')[0].threshold).toBeCloseTo(0.5);
    expect(parseUntil('server_rss>1GiB')[0].threshold).toBe(1024);
    expect(parseUntil('client_fps < 55 , server_cpu>180%')).toHaveLength(2);
  });

  it('refuses unknown metrics, wrong units, bad numbers and operators', () => {
    expect(() => parseUntil('fps<55')).toThrow(/unknown metric 'fps'/);
    expect(() => parseUntil('client_fps<55ms')).toThrow(/in fps, not 'ms'/);
    expect(() => parseUntil('tick_p99>=16')).toThrow(/METRIC>VALUE/);
    expect(() => parseUntil('tick_p99>abc')).toThrow(/METRIC>VALUE/);
    expect(() => parseUntil('tick_p99>1e999')).toThrow(/number >= 0/);
  });

  it('breaks on a crossing, never on a missing number', () => {
    const limits = parseUntil('tick_p99>16.7ms,client_fps<55');
    expect(brokenLimits(limits, measures({ tick_p99: 10, client_fps: 60 }))).toEqual([]);
    expect(brokenLimits(limits, measures({ tick_p99: 16.7, client_fps: 55 }))).toEqual([]);
    expect(
      brokenLimits(limits, measures({ tick_p99: 17, client_fps: 60 })).map((c) => c.text),
    ).toEqual(['tick_p99>16.7ms']);
    expect(brokenLimits(limits, measures({ tick_p99: 99, client_fps: 30 }))).toHaveLength(2);
    expect(brokenLimits(limits, measures({}))).toEqual([]);
  });
});
