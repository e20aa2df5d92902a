/**
 * The real entry point as a child process: a bad setting exits 2 with one
 * line naming it; a good one listens, answers /healthz and exits 0 on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Environment variables the server reads: stripped so the host shell cannot leak into a case. */
const SERVER_ENV = /^(HOST|PORT|SWARMHOST_.*)$/;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

let children: ChildProcess[] = [];

function start(env: Record<string, string>, args: string[] = []): Child {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !SERVER_ENV.test(key)) base[key] = value;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close' (not 'exit') so every byte of stdout and stderr has been read.
  const exited = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

/** Rejects with `label` after `ms` instead of letting the test hang. */
function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the port once the server logs that it listens. */
function listeningPort(child: Child): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
        let entry: { msg?: unknown };
        try {
          entry = JSON.parse(line);
        } catch {
          continue;
        }
        const match = /^Server listening at http:\/\/127\.0\.0\.1:(\d+)$/.exec(String(entry.msg));
        if (match) {
          child.process.stdout?.off('data', onData);
          resolve(Number(match[1]));
          return;
        }
      }
    };
    child.process.stdout?.on('data', onData);
    child.exited.then((exit) =>
      reject(
        new Error(
          `server exited (${exit.code ?? exit.signal}) before listening: ${child.stderr()}`,
        ),
      ),
    );
  });
}

afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  children = [];
});

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
