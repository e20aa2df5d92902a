/**
 * A real Redis for fleet tests and benchmarks: Debian's /usr/bin/redis-server as a child
 * process on 127.0.0.1, on a free port, in its own temp dir, with no
 * persistence unless asked (`appendonly`, so a restart keeps the data).
 *
 * It owns those processes and dirs: `stopAllRedis()` (from afterAll) stops
 * every one started and removes the dirs. A missing binary throws: fleet
 * tests are never skipped for want of Redis (.ci/run installs it).
 *
 * `command()` speaks just enough RESP over a raw socket for tests to look
 * at keys; the server under test uses its own client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const REDIS_SERVER_BINARY = '/usr/bin/redis-server';

/** How long a start may take until PING answers +PONG (loading an AOF included). */
const READY_TIMEOUT_MS = 5000;
/** How long stop() waits after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 5000;
/** Fresh ports tried when another process takes ours between probe and bind. */
const PORT_ATTEMPTS = 5;
/** A reply larger than this is a test bug, not something to buffer forever. */
const MAX_REPLY_BYTES = 1 << 20;

export interface RedisOptions {
  /** Keep an append-only file so `restart()` comes back with the data (default false). */
  appendonly?: boolean;
  /** The binary (tests of the missing-binary error point it elsewhere). */
  binary?: string;
}

/** A decoded RESP reply: simple strings and bulk strings as strings, null, integers, arrays. */
export type RedisReply = string | number | null | RedisReply[];

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** The current process (a new one after restart). */
  readonly process: ChildProcess;
  /** SIGTERM, then wait for the exit (SIGKILL after a bound). */
  stop(): Promise<void>;
  /** SIGKILL, and wait for the exit: a crash, nothing flushed. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (stops it first if it is running). */
  restart(): Promise<void>;
  /** One command over a fresh connection; an error reply rejects. */
  command(...args: Array<string | number>): Promise<RedisReply>;
}

const started = new Set<RedisInstance>();

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? REDIS_SERVER_BINARY;
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new Error(
      `${binary} is missing: install Debian's redis-server (apt-get install redis-server; .ci/run does)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'swarmhost-redis-'));
  const instance = new RedisInstance(binary, dir, options.appendonly ?? false);
  started.add(instance);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await instance.start(port);
      return instance;
    } catch (error) {
      const inUse = /address already in use/i.test(String(error));
      if (!inUse || attempt >= PORT_ATTEMPTS) {
        await instance.stop();
        throw error;
      }
    }
  }
}

/** Stops every Redis started here and removes their dirs (call it from afterAll). */
export async function stopAllRedis(): Promise<void> {
  const all = [...started];
  started.clear();
  await Promise.all(
    all.map(async (instance) => {
      await instance.kill();
      await rm(instance.dir, { recursive: true, force: true });
    }),
  );
}

class RedisInstance implements RedisServer {
  port = 0;
  readonly dir: string;
  #binary: string;
  #appendonly: boolean;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = '';

  constructor(binary: string, dir: string, appendonly: boolean) {
    this.#binary = binary;
    this.dir = dir;
    this.#appendonly = appendonly;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get process(): ChildProcess {
    if (!this.#process) throw new Error('redis-server was never started');
    return this.#process;
  }

  async start(port: number): Promise<void> {
    this.port = port;
    this.#output = '';
    // `--save ''` and no AOF: nothing touches the disk unless the test asks;
    // with an AOF, every write is synced so even kill() loses nothing.
    const flags = [
      ['--port', String(port)],
      ['--bind', '127.0.0.1'],
      ['--dir', this.dir],
      ['--save', ''],
      ['--appendonly', this.#appendonly ? 'yes' : 'no'],
      ['--appendfsync', 'always'],
      ['--daemonize', 'no'],
      ['--logfile', ''],
    ];
    const child = spawn(this.#binary, flags.flat(), {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#process = child;
    const collect = (chunk: Buffer) => {
      if (this.#output.length < 64_000) this.#output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let gone = false;
    this.#exited = new Promise((resolve) =>
      child.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await ping(port))) {
      if (gone) throw new Error(`redis-server on port ${port} exited at start: ${this.#output}`);
      if (Date.now() > deadline) {
        throw new Error(`redis-server on port ${port} not ready in ${READY_TIMEOUT_MS} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    if (!this.#running()) return;
    this.#process?.kill('SIGTERM');
    const timer = setTimeout(() => this.#process?.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.#running()) return;
    this.#process?.kill('SIGKILL');
    await this.#exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start(this.port);
  }

  command(...args: Array<string | number>): Promise<RedisReply> {
    return command(this.port, args.map(String));
  }

  #running(): boolean {
    const child = this.#process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }
}

/** True once the server answers PING with +PONG (not -LOADING, not refused). */
async function ping(port: number): Promise<boolean> {
  try {
    return (await command(port, ['PING'])) === 'PONG';
  } catch {
    return false;
  }
}

/** Sends one RESP command and decodes its reply. */
function command(port: number, args: string[]): Promise<RedisReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    socket.setTimeout(READY_TIMEOUT_MS, () => socket.destroy(new Error('redis reply timed out')));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_REPLY_BYTES) return socket.destroy(new Error('redis reply too big'));
      const parsed = parseReply(buffer, 0);
      if (!parsed) return;
      socket.destroy();
      if (parsed.error) reject(new Error(`redis: ${parsed.error}`));
      else resolve(parsed.value);
    });
    const parts = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
    socket.write(`*${args.length}\r\n${parts.join('')}`);
  });
}

interface Parsed {
  value: RedisReply;
  error?: string;
  end: number;
}

/** One RESP2 reply from `at`, or undefined while it is incomplete. */
function parseReply(buffer: Buffer, at: number): Parsed | undefined {
  const lineEnd = buffer.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buffer[at])) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: null, error: line, end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: RedisReply[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      return { value: null, error: `not a RESP reply: ${JSON.stringify(line)}`, end: next };
  }
}
