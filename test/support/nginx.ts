/**
 * Debian's real nginx (/usr/sbin/nginx) in front of test servers, running
 * the SHIPPED deploy/nginx/swarmhost.conf: only its `listen` line and the
 * addresses of its `server` lines are rewritten to the test's ports (a 4th
 * server is added as a copy of the last line, as an operator would), so a
 * mistake in the shipped file fails the tests. The shipped file is an
 * `http`-context include; the process-wide part (pid, logs, temp paths, all
 * in a temp dir, foreground) is this module's own small nginx.conf.
 *
 * It owns those nginx processes and dirs: `stopAllNginx()` (afterAll) ends
 * every one started. A missing binary throws: the load-balancer tests are
 * never skipped (.ci/run installs nginx).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, type Upstream, untilListening } from '../../bench/balancer.js';

export const NGINX_BINARY = '/usr/sbin/nginx';
export const NGINX_SITE = fileURLToPath(
  new URL('../../deploy/nginx/swarmhost.conf', import.meta.url),
);

/** How long nginx may take to listen, to reload, or to stop. */
const NGINX_TIMEOUT_MS = 5000;
/** The shipped servers' address, as compose names them. */
const SHIPPED_SERVER = /^(\s*server\s+)swarmhost-(\d+):8080(\b.*)$/;
const SHIPPED_LISTEN = /^(\s*listen\s+)80;(.*)$/;

const run = promisify(execFile);

/**
 * The shipped site with the listen port and the servers' addresses
 * replaced: `servers[i]` takes the place of `swarmhost-<i+1>:8080`; servers
 * beyond the shipped ones are added after the last, with its parameters.
 */
export function renderNginxSite(shipped: string, listenPort: number, servers: Upstream[]): string {
  const lines = shipped.split('\n');
  const serverLines = lines.flatMap((line, i) => (SHIPPED_SERVER.test(line) ? [i] : []));
  const listenLines = lines.flatMap((line, i) => (SHIPPED_LISTEN.test(line) ? [i] : []));
  if (serverLines.length === 0 || listenLines.length !== 1) {
    throw new Error(
      `${NGINX_SITE}: expected 'server swarmhost-N:8080' lines and one 'listen 80;' line`,
    );
  }
  if (servers.length < serverLines.length) {
    throw new Error(`the shipped site has ${serverLines.length} servers: give at least as many`);
  }
  const address = (line: string, server: Upstream) =>
    line.replace(SHIPPED_SERVER, (_, head, _n, tail) => `${head}127.0.0.1:${server.port}${tail}`);
  const listen = listenLines[0];
  lines[listen] = lines[listen].replace(
    SHIPPED_LISTEN,
    (_, head, tail) => `${head}127.0.0.1:${listenPort};${tail}`,
  );
  const last = serverLines[serverLines.length - 1];
  const shippedLast = lines[last];
  for (const [k, i] of serverLines.entries()) lines[i] = address(lines[i], servers[k]);
  // Added last, so the indices above still point at their lines.
  const added = servers.slice(serverLines.length).map((server) => address(shippedLast, server));
  lines.splice(last + 1, 0, ...added);
  return lines.join('\n');
}

/** The process-wide part: everything in `dir`, in the foreground, logging at notice. */
function mainConfig(dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events { worker_connections 1024; }
http {
  # Which servers each request tried, for a failing test's story.
  log_format upstreams '$msec $request $status upstreams=$upstream_addr '
                       'statuses=$upstream_status connect=$upstream_connect_time '
                       'header=$upstream_header_time total=$request_time';
  access_log ${dir}/access.log upstreams;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/swarmhost.conf;
}
`;
}

export interface Nginx {
  port: number;
  dir: string;
  /** Renders the shipped site for `servers`, checks it (`nginx -t`), and reloads (`nginx -s reload`). */
  reload(servers: Upstream[]): Promise<void>;
  errorLog(): Promise<string>;
  accessLog(): Promise<string>;
  stop(): Promise<void>;
}

const started = new Set<Nginx>();

function requireBinary(): void {
  try {
    accessSync(NGINX_BINARY, constants.X_OK);
  } catch {
    throw new Error(
      `${NGINX_BINARY} is missing: install Debian's nginx (apt-get install nginx; .ci/run does)`,
    );
  }
}

/** A temp dir holding the rendered site and main config (readable by nginx's workers). */
async function prepare(listenPort: number, servers: Upstream[]) {
  requireBinary();
  const dir = await mkdtemp(join(tmpdir(), 'swarmhost-nginx-'));
  // Workers drop root for `nobody`: let them reach the temp paths.
  await chmod(dir, 0o755);
  const config = join(dir, 'nginx.conf');
  const writeSite = async (list: Upstream[]) =>
    writeFile(
      join(dir, 'swarmhost.conf'),
      renderNginxSite(await readFile(NGINX_SITE, 'utf8'), listenPort, list),
    );
  await writeSite(servers);
  await writeFile(config, mainConfig(dir));
  const test = () => run(NGINX_BINARY, ['-t', '-p', dir, '-c', config]);
  return { dir, config, writeSite, test };
}

/** `nginx -t` on the shipped site rendered for `servers`; resolves with nginx's output. */
export async function testNginxConfig(servers: Upstream[]): Promise<string> {
  const { dir, test } = await prepare(await freePort(), servers);
  try {
    const { stdout, stderr } = await test();
    return stdout + stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function startNginx(listenPort: number, servers: Upstream[]): Promise<Nginx> {
  const { dir, config, writeSite, test } = await prepare(listenPort, servers);
  await test();
  const child: ChildProcess = spawn(NGINX_BINARY, ['-p', dir, '-c', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const accessLog = () => readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
  /** How often the error log says `text` (logged at notice level). */
  const count = async (text: string) => (await errorLog()).split(text).length - 1;
  const nginx: Nginx = {
    port: listenPort,
    dir,
    errorLog,
    accessLog,
    reload: async (list) => {
      await writeSite(list);
      await test();
      const spawned = await count('start worker process');
      const retired = await count('gracefully shutting down');
      await run(NGINX_BINARY, ['-s', 'reload', '-p', dir, '-c', config]);
      // Done once a worker runs the new configuration and the old one has
      // stopped accepting (it keeps its open sockets until they close).
      const deadline = performance.now() + NGINX_TIMEOUT_MS;
      while (
        (await count('start worker process')) <= spawned ||
        (await count('gracefully shutting down')) <= retired
      ) {
        if (performance.now() > deadline) {
          throw new Error(`nginx did not reload: ${await errorLog()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      started.delete(nginx);
      if (child.exitCode === null && child.signalCode === null) {
        // SIGTERM: a fast shutdown, the master ends its workers (a SIGKILL would orphan them).
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), NGINX_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  started.add(nginx);
  try {
    await untilListening(listenPort, NGINX_TIMEOUT_MS, exited, () => stderr);
  } catch (error) {
    const log = await errorLog();
    await nginx.stop();
    throw new Error(`nginx did not start: ${(error as Error).message} ${log}`);
  }
  return nginx;
}

/** Stops every nginx started here (call it from afterAll). */
export async function stopAllNginx(): Promise<void> {
  await Promise.all([...started].map((nginx) => nginx.stop()));
}
