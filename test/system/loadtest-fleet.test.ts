/**
 * `npm run fleet:local` and `npm run loadtest` together, as a user runs
 * them: real redis-server, two fleet instances and real HAProxy with the
 * shipped config; the loadtest command line the fleet prints, plus a load,
 * creates lobbies through HAProxy, plays them and reads each instance's
 * /metrics. Ctrl-C ends the fleet and everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadtestResult } from '../../bench/loadtest/result.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function start(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (err.length < 20_000) err += chunk;
  });
  return { child, stdout: () => out, stderr: () => err };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('loadtest against fleet:local (redis, two instances, HAProxy)', () => {
  let fleet: ReturnType<typeof start> | undefined;
  afterAll(() => {
    if (fleet?.child.exitCode === null) fleet.child.kill('SIGKILL');
  });

  it('runs the printed command line through HAProxy, and Ctrl-C stops the whole fleet', async () => {
    fleet = start(['bench/local-fleet.ts', '--instances', '2', '--seconds', '120']);
    const deadline = Date.now() + 40_000;
    while (!/^npm run loadtest -- .*$/m.test(fleet.stdout())) {
      if (Date.now() > deadline || fleet.child.exitCode !== null)
        throw new Error(`fleet:local printed no command line: ${fleet.stdout()} ${fleet.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const printed = /^npm run loadtest -- (.*)$/m.exec(fleet.stdout())![1].split(' ');
    // The printed ramp is a suggestion: this run is one short step.
    const ramp = printed.indexOf('--ramp');
    printed.splice(ramp, 2);
    const url = printed[printed.indexOf('--url') + 1];
    const out = mkdtempSync(join(tmpdir(), 'loadtest-fleet-'));
    const run = start([
      'bench/loadtest.ts',
      ...printed,
      '--particles',
      '500',
      '--lobbies',
      '2',
      '--clients',
      '2',
      '--duration',
      '6',
      '--settle',
      '2',
      '--workers',
      '1',
      '--until',
      'latency_p99>60s',
      '--lobby-prefix',
      'fleettest',
      '--out',
      out,
    ]);
    expect(await exited(run.child)).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as LoadtestResult;
    expect(result.stoppedBy).toBe('duration');
    expect(result.target.metrics).toHaveLength(2);
    const [step] = result.steps;
    expect(step.live).toBe(4);
    expect(step.measures.client_fps).toBeGreaterThan(30);
    expect(step.measures.tick_rate).toBeGreaterThan(40);
    expect(step.measures.server_cpu).toBeGreaterThan(0);
    // Both lobbies exist in the fleet with the particles asked for.
    const lobbies = (await (await fetch(`${url}/lobbies`)).json()) as {
      lobbies: { id: string; particles: number }[];
    };
    const ours = lobbies.lobbies.filter((l) => l.id.startsWith('fleettest-'));
    expect(ours.map((l) => [l.id, l.particles]).sort()).toEqual([
      ['fleettest-0', 500],
      ['fleettest-1', 500],
    ]);

    fleet.child.kill('SIGINT');
    expect(await exited(fleet.child)).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 120_000);
});
