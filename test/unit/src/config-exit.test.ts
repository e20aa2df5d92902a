/**
 * The real entry point as a child process: a bad setting exits 2 with one
 * line naming it; a good one listens, answers /healthz and exits 0 on SIGTERM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  killServerProcesses,
  listeningPort,
  startServerProcess as start,
  within,
} from '../../support/server-process.js';

afterEach(killServerProcesses);

describe('main: a bad setting exits 2 with one line naming it', () => {
  const cases: Array<[string, Record<string, string>, string[], RegExp]> = [
    [
      'SWARMHOST_TICK_RATE=abc',
      { SWARMHOST_TICK_RATE: 'abc' },
      [],
      /^swarmhost: invalid configuration: SWARMHOST_TICK_RATE: 'abc' is not a number\n$/,
    ],
    [
      'PORT=70000',
      { PORT: '70000' },
      [],
      /^swarmhost: invalid configuration: PORT: 70000 is above the maximum 65535\n$/,
    ],
    [
      '--bogus',
      {},
      ['--bogus'],
      /^swarmhost: invalid configuration: --bogus: unknown argument[^\n]*\n$/,
    ],
  ];

  for (const [label, env, args, line] of cases) {
    it(label, async () => {
      const child = start(env, args);
      const exit = await within(child.exited, 15_000, `exit with ${label}`);
      expect(exit).toEqual({ code: 2, signal: null });
      expect(child.stderr()).toMatch(line);
      expect(child.stderr().split('\n')).toHaveLength(2);
      expect(child.stdout()).toBe('');
    });
  }
});

describe('main: a good configuration', () => {
  it('listens, answers /healthz, and exits 0 on SIGTERM', async () => {
    const child = start({ PORT: '0', HOST: '127.0.0.1', SWARMHOST_LOG_LEVEL: 'info' });
    const port = await within(listeningPort(child), 15_000, 'the "Server listening" log line');
    expect(port).toBeGreaterThan(0);

    const response = await within(fetch(`http://127.0.0.1:${port}/healthz`), 5_000, 'GET /healthz');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; instanceId: string };
    expect(body.status).toBe('ok');
    expect(body.instanceId.length).toBeGreaterThan(0);

    expect(child.process.kill('SIGTERM')).toBe(true);
    const exit = await within(child.exited, 10_000, 'exit after SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.stderr()).toBe('');
    const logged = child
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg?: string; reason?: string });
    expect(logged.filter((entry) => entry.msg === 'draining')).toEqual([
      expect.objectContaining({ msg: 'draining', reason: 'SIGTERM' }),
    ]);
  });
});
