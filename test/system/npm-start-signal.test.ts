/**
 * `npm start` as an operator runs it (its prestart builds first), sent
 * SIGTERM as a supervisor sends it to the process it started: npm. npm 11
 * forwards SIGTERM and SIGINT to its script's process and waits for it;
 * the script runs under `sh -c`, and dash (Debian's sh) does not exec a
 * lone command, so with `"start": "node dist/src/main.js"` the signal
 * killed sh and left node running, undrained and orphaned. `exec node ...`
 * makes the script's process node itself: it drains (players get 4005) and
 * exits 0, npm exits 0 after it, and nothing is left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { delimiter, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CloseCode } from '../../protocol/index.js';
import { LobbyClient, type SocketLike } from '../../protocol/lobby-client.js';
import { type Exit, within } from '../support/server-process.js';
import { waitFor } from '../support/server.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** What must not leak in from the shell or from an `npm test` around us. */
const STRIPPED_ENV = /^(HOST|PORT|SWARMHOST_.*|npm_.*|NODE_ENV)$/i;

let npm: ChildProcess | undefined;
let serverPid: number | undefined;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(async () => {
  // A failed case may leave npm or, as before the fix, an orphaned node.
  if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
  if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL');
  npm = undefined;
  serverPid = undefined;
});

describe('npm start', () => {
  it('drains on SIGTERM to npm: the player gets 4005, node exits 0, nothing is left', async () => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env))
      if (value !== undefined && !STRIPPED_ENV.test(key)) env[key] = value;
    Object.assign(env, {
      // npm, and the node it starts, are this Node (Node 24 in CI's second pass).
      PATH: [dirname(process.execPath), env.PATH ?? ''].join(delimiter),
      PORT: '0',
      HOST: '127.0.0.1',
      SWARMHOST_DEFAULT_PARTICLES: '300',
      SWARMHOST_DRAIN_DELAY_MS: '300',
    });
    const child = spawn('npm', ['start'], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm = child;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<Exit>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );

    // The server's JSON log names its port and its pid.
    const { port, pid } = await within(
      new Promise<{ port: number; pid: number }>((resolve, reject) => {
        const look = () => {
          const match =
            /"pid":(\d+),[^\n]*"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
          if (match) resolve({ pid: Number(match[1]), port: Number(match[2]) });
        };
        child.stdout.on('data', look);
        exited.then((exit) => reject(new Error(`npm start exited (${exit.code}): ${err}`)));
      }),
      // prestart builds the server and the client first.
      90_000,
      'the server listening',
    );
    serverPid = pid;
    expect(pid).not.toBe(child.pid);

    const socket = new WebSocket(`ws://127.0.0.1:${port}/lobby/npm-start/ws`);
    const player = new LobbyClient(socket as unknown as SocketLike);
    await waitFor(() => player.frames > 0 || player.closeCode !== undefined, 10_000, 'a frame');
    expect(player.closeCode).toBeUndefined();

    child.kill('SIGTERM');
    await waitFor(() => player.closeCode !== undefined, 10_000, 'the 4005 close');
    expect(player.closeCode).toBe(CloseCode.draining);
    // npm exits with its script's status: node's 0.
    expect(await within(exited, 15_000, 'npm exit after SIGTERM')).toEqual({
      code: 0,
      signal: null,
    });
    expect(out).toMatch(/"msg":"draining"/);
    await waitFor(() => !alive(pid), 2000, 'no node process left behind');
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 120_000);
});
