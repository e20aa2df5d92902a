/**
 * `npm run dev` (scripts/dev.ts) as a child process: it builds the browser
 * client before the server starts (so `/` answers 200, not 503
 * client_not_built), logs through pino-pretty (no JSON lines), and one
 * SIGINT stops the watcher, tsx watch and the server, exiting 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Exit, within } from '../support/server-process.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Environment variables the server reads: stripped so the host shell cannot leak in. */
const SERVER_ENV = /^(HOST|PORT|SWARMHOST_.*)$/;

let dev: ChildProcess | undefined;

afterEach(async () => {
  // A failed test may leave it running: SIGINT stops the detached server too.
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    const gone = new Promise((resolve) => dev?.once('exit', resolve));
    dev.kill('SIGINT');
    await within(gone, 10_000, 'dev exit in cleanup').catch(() => dev?.kill('SIGKILL'));
  }
  dev = undefined;
});

describe('npm run dev', () => {
  it('builds the client, serves / with 200, logs pretty, and stops on SIGINT', async () => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env))
      if (value !== undefined && !SERVER_ENV.test(key)) env[key] = value;
    Object.assign(env, { PORT: '0', HOST: '127.0.0.1', NO_COLOR: '1' });
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    dev = child;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<Exit>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );

    const port = await within(
      new Promise<number>((resolve, reject) => {
        const look = () => {
          const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        };
        child.stdout.on('data', look);
        exited.then((exit) => reject(new Error(`dev exited (${exit.code}): ${err}`)));
      }),
      20_000,
      'the server listening',
    );
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    await page.arrayBuffer();

    // Pretty, not JSON: the start-up line is there, readable.
    expect(out).toMatch(/INFO: swarmhost starting/);
    expect(out.split('\n').filter((line) => line.startsWith('{'))).toEqual([]);

    child.kill('SIGINT');
    expect(await within(exited, 15_000, 'dev exit after SIGINT')).toEqual({
      code: 0,
      signal: null,
    });
    expect(out).toMatch(/INFO: draining/);
    // The server (in its own process group) is gone too.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 30_000);
});
