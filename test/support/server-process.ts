/**
 * The real entry point as a child process, for tests of what only a
 * process shows: exit codes, signals, stdout and stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Environment variables the server reads: stripped so the host shell cannot leak into a case. */
const SERVER_ENV = /^(HOST|PORT|SWARMHOST_.*)$/;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Child {
  process: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

let children: ChildProcess[] = [];

/**
 * `node --import tsx src/main.ts` with only `env` for the server's settings
 * (the host shell's HOST, PORT and SWARMHOST_* are stripped); `preload`
 * modules are imported first (tests use them to break the process on cue).
 */
export function startServerProcess(
  env: Record<string, string>,
  args: string[] = [],
  preload: string[] = [],
): Child {
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !SERVER_ENV.test(key)) base[key] = value;
  }
  const imports = ['tsx', ...preload].flatMap((module) => ['--import', module]);
  const child = spawn(process.execPath, [...imports, 'src/main.ts', ...args], {
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
export function within<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the port once the server logs that it listens. */
export function listeningPort(child: Child): Promise<number> {
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

/** Kills whatever a test left running (call it from afterEach). */
export async function killServerProcesses(): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  children = [];
}
