/**
 * The Ingress's lobby hash, proven with Debian's real nginx (there is no
 * cluster here). ingress-nginx, with use-regex, writes every path of the
 * host as `location ~* "^<path>"`, longest path first, and its
 * consistent-hash balancer takes `upstream-hash-by` as an nginx
 * complex value evaluated per request. The test writes the same locations
 * into an nginx of its own, each answering with that same value, and asks:
 * - the page, its trailing slash, the game socket and the REST path of one
 *   lobby give the same key, the lobby id, so they reach one pod;
 * - two lobbies give two keys;
 * - the paths players need are routed, and /metrics, /status and /config
 *   (operator routes) fall through to the controller's default backend.
 * A missing nginx binary is a failure, never a skip (.ci/run installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, readYamlDocuments } from './deploy-files.js';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const START_TIMEOUT_MS = 5000;
const DEFAULT_BACKEND = 'default backend';

interface Ingress {
  kind: string;
  metadata: { annotations: Record<string, string> };
  spec: { rules: { http: { paths: { path: string }[] } }[] };
}
const [ingress] = readYamlDocuments<Ingress>(join(DEPLOY, 'k8s/swarmhost-ingress.yaml')).filter(
  (o) => o.kind === 'Ingress',
);
const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths.map((p) => p.path));
const hashBy = ingress.metadata.annotations['nginx.ingress.kubernetes.io/upstream-hash-by'];

/** ingress-nginx's order: regular-expression locations by descending path length. */
const locations = [...paths].sort((a, b) => b.length - a.length);

/** nginx's configuration as ingress-nginx would write these paths, each answering `<path index> <key>`. */
function nginxConfig(dir: string, port: number): string {
  const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const blocks = locations.map(
    (path) =>
      `    location ~* ${quote(`^${path}`)} { default_type text/plain; return 200 ${quote(`${paths.indexOf(path)} ${hashBy}`)}; }`,
  );
  return `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
${blocks.join('\n')}
    location ~* "^/" { default_type text/plain; return 404 ${quote(DEFAULT_BACKEND)}; }
  }
}
`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the Ingress paths and upstream-hash-by, in a real nginx', () => {
  let nginx: ChildProcess | undefined;
  let dir = '';
  let base = '';
  let log = '';

  /** The path index and hash key nginx computes for a request path, or the default backend. */
  const route = async (path: string): Promise<{ path?: string; key?: string }> => {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) });
    const body = await res.text();
    if (res.status === 404 && body === DEFAULT_BACKEND) return {};
    expect(res.status, `${path}: ${body}`).toBe(200);
    const [index, ...key] = body.split(' ');
    return { path: paths[Number(index)], key: key.join(' ') };
  };

  beforeAll(async () => {
    if (!existsSync(NGINX))
      throw new Error(
        `${NGINX} not found: this test needs Debian's nginx (apt-get install -y nginx), which .ci/run installs. It fails rather than skips.`,
      );
    dir = await mkdtemp(join(tmpdir(), 'swarmhost-ingress-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = join(dir, 'nginx.conf');
    await writeFile(config, nginxConfig(dir, port));
    nginx = spawn(NGINX, ['-p', dir, '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
    nginx.stdout?.on('data', keep);
    nginx.stderr?.on('data', keep);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${log}`);
      const up = await fetch(`${base}/`).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`nginx did not listen in time: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hashes the page, the game socket and the REST path of a lobby on its id', async () => {
    for (const id of ['demo', 'a-B_9', 'x'.repeat(64)]) {
      const routes = await Promise.all(
        [`/lobby/${id}`, `/lobby/${id}/`, `/lobby/${id}/ws`, `/lobbies/${id}`].map(route),
      );
      for (const r of routes) expect(r.key, JSON.stringify(routes)).toBe(id);
    }
    expect((await route('/lobby/demo/ws?v=1')).key).toBe('demo');
    expect((await route('/lobby/one/ws')).key).not.toBe((await route('/lobby/two/ws')).key);
  });

  it('routes what players use, and keeps the operator’s routes inside the cluster', async () => {
    for (const path of ['/', '/assets/main.js', '/assets/style.css', '/lobbies', '/lobbies/']) {
      const r = await route(path);
      expect(r.path, path).toBeDefined();
      expect(r.key, `${path} has no lobby: an empty key`).toBe('');
    }
    for (const path of ['/metrics', '/status', '/config', '/readyz', '/healthz', '/lobby/a/b/c'])
      expect(await route(path), path).toEqual({});
  });
});
