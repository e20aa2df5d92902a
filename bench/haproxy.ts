/**
 * Debian's real HAProxy (/usr/sbin/haproxy) in front of local servers (the
 * load-balancer tests, bench/local-fleet.ts),
 * running the SHIPPED deploy/haproxy/haproxy.cfg: only its `bind` ports and
 * the addresses of its `server` lines are rewritten to the test's ports (a
 * 4th server is added as a copy of the last line, as an operator would), so
 * a mistake in the shipped file fails the tests. It runs in master-worker
 * mode in the foreground (`-W -db`, as the official image does) and reloads
 * on SIGUSR2.
 *
 * It owns those processes and dirs: `stopAllHaproxy()` (afterAll) ends every
 * one started. A missing binary throws: the load-balancer tests are never
 * skipped (.ci/run installs haproxy).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, type Upstream, untilListening } from './balancer.js';

export const HAPROXY_BINARY = '/usr/sbin/haproxy';
export const HAPROXY_CONFIG = fileURLToPath(
  new URL('../deploy/haproxy/haproxy.cfg', import.meta.url),
);

/** How long HAProxy may take to listen, to reload, or to stop. */
const HAPROXY_TIMEOUT_MS = 5000;
/** Output kept for error messages and for spotting a reload's end. */
const MAX_OUTPUT_CHARS = 256_000;
const SHIPPED_SERVER = /^(\s*server\s+)swarmhost-(\d+)\s+swarmhost-\2:8080(\b.*)$/;
const PUBLIC_BIND = /^(\s*bind\s+):80(\s*)$/;
const STATS_BIND = /^(\s*bind\s+):8404(\s*)$/;

const run = promisify(execFile);

/**
 * The shipped config with the ports and the servers' addresses replaced:
 * `servers[i]` takes the place of `swarmhost-<i+1>`; servers beyond the
 * shipped ones are added after the last, with its parameters; with fewer
 * servers than shipped, the extra lines are left out.
 */
export function renderHaproxyConfig(
  shipped: string,
  ports: { public: number; stats: number },
  servers: Upstream[],
): string {
  const lines = shipped.split('\n');
  const find = (pattern: RegExp) => lines.flatMap((line, i) => (pattern.test(line) ? [i] : []));
  const serverLines = find(SHIPPED_SERVER);
  const publicBind = find(PUBLIC_BIND);
  const statsBind = find(STATS_BIND);
  if (serverLines.length === 0 || publicBind.length !== 1 || statsBind.length !== 1) {
    throw new Error(
      `${HAPROXY_CONFIG}: expected 'server swarmhost-N swarmhost-N:8080' lines, one 'bind :80' and one 'bind :8404'`,
    );
  }
  if (servers.length === 0) throw new Error('give at least one server');
  const server = (line: string, upstream: Upstream) =>
    line.replace(
      SHIPPED_SERVER,
      (_, head, _n, tail) => `${head}${upstream.name} 127.0.0.1:${upstream.port}${tail}`,
    );
  const bind = (i: number, pattern: RegExp, port: number) => {
    lines[i] = lines[i].replace(pattern, (_, head, tail) => `${head}127.0.0.1:${port}${tail}`);
  };
  const shippedLast = lines[serverLines[serverLines.length - 1]];
  // Fewer servers than shipped: the extra lines go, as an operator would delete them.
  const dropped = new Set(serverLines.slice(servers.length));
  for (const [k, i] of serverLines.entries())
    if (k < servers.length) lines[i] = server(lines[i], servers[k]);
  bind(publicBind[0], PUBLIC_BIND, ports.public);
  bind(statsBind[0], STATS_BIND, ports.stats);
  // Added last, so the indices above still point at their lines.
  const added = servers.slice(serverLines.length).map((upstream) => server(shippedLast, upstream));
  lines.splice(serverLines[serverLines.length - 1] + 1, 0, ...added);
  return lines.filter((_, i) => !dropped.has(i)).join('\n');
}

export interface Haproxy {
  port: number;
  statsPort: number;
  /** Renders the shipped config for `servers`, checks it (`haproxy -c`), and reloads (SIGUSR2 to the master). */
  reload(servers: Upstream[]): Promise<void>;
  /** Each server's state as the stats page shows it (UP, DOWN, ...), by name. */
  states(): Promise<Record<string, string>>;
  output(): string;
  stop(): Promise<void>;
}

const started = new Set<Haproxy>();

async function prepare(servers: Upstream[]) {
  try {
    accessSync(HAPROXY_BINARY, constants.X_OK);
  } catch {
    throw new Error(
      `${HAPROXY_BINARY} is missing: install Debian's haproxy (apt-get install haproxy; .ci/run does)`,
    );
  }
  const ports = { public: await freePort(), stats: await freePort() };
  const dir = await mkdtemp(join(tmpdir(), 'swarmhost-haproxy-'));
  const config = join(dir, 'haproxy.cfg');
  const write = async (list: Upstream[]) =>
    writeFile(config, renderHaproxyConfig(await readFile(HAPROXY_CONFIG, 'utf8'), ports, list));
  await write(servers);
  const check = () => run(HAPROXY_BINARY, ['-c', '-f', config]);
  return { ports, dir, config, write, check };
}

/** `haproxy -c` on the shipped config rendered for `servers`; resolves with HAProxy's output. */
export async function checkHaproxyConfig(servers: Upstream[]): Promise<string> {
  const { dir, check } = await prepare(servers);
  try {
    const { stdout, stderr } = await check();
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startHaproxy(servers: Upstream[]): Promise<Haproxy> {
  const { ports, dir, config, write, check } = await prepare(servers);
  await check();
  const child: ChildProcess = spawn(HAPROXY_BINARY, ['-W', '-db', '-f', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: string) => {
    if (output.length < MAX_OUTPUT_CHARS) output += chunk;
  };
  child.stdout?.setEncoding('utf8').on('data', collect);
  child.stderr?.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const loads = () => output.split('Loading success').length - 1;
  const haproxy: Haproxy = {
    port: ports.public,
    statsPort: ports.stats,
    output: () => output,
    reload: async (list) => {
      await write(list);
      await check();
      const before = loads();
      child.kill('SIGUSR2');
      const deadline = performance.now() + HAPROXY_TIMEOUT_MS;
      while (loads() <= before) {
        if (performance.now() > deadline) throw new Error(`haproxy did not reload: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    states: async () => {
      const response = await fetch(`http://127.0.0.1:${ports.stats}/stats;csv`, {
        signal: AbortSignal.timeout(HAPROXY_TIMEOUT_MS),
      });
      const [header, ...rows] = (await response.text()).trim().split('\n');
      const columns = header.replace(/^# /, '').split(',');
      const [proxy, name, status] = ['pxname', 'svname', 'status'].map((c) => columns.indexOf(c));
      const states: Record<string, string> = {};
      for (const row of rows.map((line) => line.split(','))) {
        if (row[proxy] === 'swarmhost' && row[name] !== 'BACKEND' && row[name] !== 'FRONTEND') {
          states[row[name]] = row[status];
        }
      }
      return states;
    },
    stop: async () => {
      started.delete(haproxy);
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM to the master: it ends its workers (old ones included) and exits.
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), HAPROXY_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  started.add(haproxy);
  try {
    await untilListening(ports.public, HAPROXY_TIMEOUT_MS, exited, () => output);
  } catch (error) {
    await haproxy.stop();
    throw new Error(`haproxy did not start: ${(error as Error).message} ${output}`);
  }
  return haproxy;
}

/** Stops every HAProxy started here (call it from afterAll). */
export async function stopAllHaproxy(): Promise<void> {
  await Promise.all([...started].map((haproxy) => haproxy.stop()));
}
