/**
 * The last-resort policy, on the real entry point in a child process: an
 * unhandled rejection is logged and counted and the server carries on; an
 * uncaught exception is logged at fatal, the instance drains (readiness
 * off, players told to reconnect) and exits 1.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  killServerProcesses,
  listeningPort,
  startServerProcess,
  within,
} from '../../support/server-process.js';

const preload = fileURLToPath(new URL('../../support/preload/break-on-signal.ts', import.meta.url));

afterEach(killServerProcesses);

const env = { PORT: '0', HOST: '127.0.0.1', SWARMHOST_LOG_LEVEL: 'info', SWARMHOST_WORKERS: '0' };

function logLines(stdout: string): Array<{ level: number; msg: string }> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

async function metric(port: number, kind: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const match = new RegExp(`^swarmhost_process_errors_total\\{kind="${kind}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(match?.[1]);
}

describe('process-wide last resort', () => {
  it('an unhandled rejection is logged at error and counted; the server carries on', async () => {
    const child = startServerProcess(env, [], [preload]);
    const port = await within(listeningPort(child), 15_000, 'listening');
    expect(await metric(port, 'unhandled_rejection')).toBe(0);
    child.process.kill('SIGUSR1');
    await expect.poll(() => metric(port, 'unhandled_rejection'), { timeout: 5000 }).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(logLines(child.stdout())).toContainEqual(
      expect.objectContaining({ level: 50, msg: 'unhandled promise rejection (carrying on)' }),
    );
    expect(child.process.exitCode).toBeNull();
  });

  it('an uncaught exception is logged at fatal, then the server drains and exits 1', async () => {
    const child = startServerProcess(env, [], [preload]);
    const port = await within(listeningPort(child), 15_000, 'listening');
    child.process.kill('SIGUSR2');
    const exit = await within(child.exited, 15_000, 'exit after the uncaught exception');
    expect(exit).toEqual({ code: 1, signal: null });
    const lines = logLines(child.stdout());
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 60, msg: 'uncaught exception: draining, then exiting 1' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'draining', reason: 'uncaught exception' }),
    );
    expect(port).toBeGreaterThan(0);
  });
});
