/**
 * A real server process for the benchmarks: `node --import tsx src/main.ts`
 * on 127.0.0.1 with a free port, resolved with its base URL once it logs
 * that it listens (or rejected if it exits or takes over 20 s, killed then).
 * The caller stops it (child-processes.ts stopChild); it is SIGKILLed if the
 * bench exits first, on any path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killWithParent } from './child-processes.js';
import { SERVER_NODE_FLAGS } from '../src/node-flags.js';

/** How long the server may take to log that it listens (tsx compiles on start). */
const START_TIMEOUT_MS = 20_000;

/** Every bench client connects from 127.0.0.1: lift the per-address caps that would stop them. */
export const LOOPBACK_CLIENT_CAPS: NodeJS.ProcessEnv = {
  SWARMHOST_MAX_SOCKETS: '100000',
  SWARMHOST_MAX_SOCKETS_PER_IP: '100000',
  SWARMHOST_MAX_CONNECTIONS_PER_IP: '100000',
};

export interface ServerProcessOptions {
  /**
   * Where the server's log goes: `pipe` (the default) to `child.stdout`, for
   * benches that read its lines; `file` to a temp file (`logPath`), for
   * benches whose own event loop is busy with many clients: a pipe it reads
   * too slowly fills up, and the server then blocks on its next log write
   * (seen: 15 s stalls while 1000 clients connected, one info line each).
   */
  logs?: 'pipe' | 'file';
  /**
   * Run the compiled server (`npm run build`: dist/src/main.js), as the
   * image does, instead of the sources through tsx: what memory is measured
   * on, since tsx's loader and transforms take memory in every thread.
   */
  compiled?: boolean;
}

/** Node's arguments that start the server: compiled (dist/, with production's V8 flags) or from source (tsx). */
export function serverEntryArgs(compiled: boolean): string[] {
  return compiled ? [...SERVER_NODE_FLAGS, 'dist/src/main.js'] : ['--import', 'tsx', 'src/main.ts'];
}

export async function startServerProcess(
  env: NodeJS.ProcessEnv,
  options: ServerProcessOptions = {},
): Promise<{ child: ChildProcess; base: string; logPath?: string }> {
  const logPath =
    options.logs === 'file'
      ? join(await mkdtemp(join(tmpdir(), 'swarmhost-bench-')), 'server.log')
      : undefined;
  if (options.compiled && !existsSync('dist/src/main.js'))
    throw new Error('no compiled server in dist/: run `npm run build` first');
  const logFd = logPath === undefined ? undefined : openSync(logPath, 'w');
  const child = killWithParent(
    spawn(
      process.execPath,
      [...serverEntryArgs(options.compiled === true), '--host', '127.0.0.1', '--port', '0'],
      {
        env: { ...process.env, SWARMHOST_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', logFd ?? 'pipe', 'inherit'],
      },
    ),
  );
  if (logFd !== undefined) closeSync(logFd);
  const base = await new Promise<string>((resolve, reject) => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const done = () => {
      clearTimeout(timer);
      clearInterval(poll);
    };
    const timer = setTimeout(() => {
      done();
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    const look = (text: string) => {
      const match = LISTENING.exec(text);
      if (!match) return;
      done();
      resolve(match[1]);
    };
    if (logPath !== undefined) poll = setInterval(() => look(readFileSync(logPath, 'utf8')), 50);
    else child.stdout?.on('data', (chunk: Buffer) => look(chunk.toString()));
    child.on('exit', (code) => {
      done();
      reject(new Error(`server exited with ${code}`));
    });
  });
  child.stdout?.resume();
  return { child, base, logPath };
}

const LISTENING = /listening at (http:\/\/127\.0\.0\.1:\d+)/;
