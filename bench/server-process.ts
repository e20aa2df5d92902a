/**
 * A real server process for the benchmarks: `node --import tsx src/main.ts`
 * on 127.0.0.1 with a free port, resolved with its base URL once it logs
 * that it listens (or rejected if it exits or takes over 20 s, killed then).
 * The caller stops it (child-processes.ts stopChild); it is SIGKILLed if the
 * bench exits first, on any path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { killWithParent } from './child-processes.js';

/** How long the server may take to log that it listens (tsx compiles on start). */
const START_TIMEOUT_MS = 20_000;

/** Every bench client connects from 127.0.0.1: lift the per-address caps that would stop them. */
export const LOOPBACK_CLIENT_CAPS: NodeJS.ProcessEnv = {
  SWARMHOST_MAX_SOCKETS: '100000',
  SWARMHOST_MAX_SOCKETS_PER_IP: '100000',
  SWARMHOST_MAX_CONNECTIONS_PER_IP: '100000',
};

export async function startServerProcess(
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; base: string }> {
  const child = killWithParent(
    spawn(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', '--host', '127.0.0.1', '--port', '0'],
      {
        env: { ...process.env, SWARMHOST_LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(chunk.toString());
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}`));
    });
  });
  child.stdout?.resume();
  return { child, base };
}
