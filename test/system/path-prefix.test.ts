/**
 * The pages behind a proxy that serves swarmhost under a path prefix and
 * strips it: real Chromium through Debian's real nginx (`location /swarm/ {
 * proxy_pass http://upstream/; }`) to a real server. Every URL the pages use
 * (assets, the lobby list, lobby links, the socket, the redirect, the error
 * page's link) must stay under `/swarm/`: nginx answers 404 to anything
 * else. Before the pages used relative URLs, /swarm/lobby/<id> was an
 * unstyled page stuck on "connecting…". The same pages without a prefix
 * are landing.test.ts and lobby-page.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { within } from '../support/server-process.js';
import { startServer, type TestServer } from '../support/server.js';
import { type Browser, describeBrowser, launchBrowser, waitForClient } from './browser.js';

const NGINX = '/usr/sbin/nginx';
const PREFIX = '/swarm/';
/** style.css's --bg: the page is styled only if its stylesheet loaded. */
const STYLED_BACKGROUND = 'rgb(11, 14, 20)';

interface Nginx {
  /** `http://127.0.0.1:<port>`: nginx's own address (add PREFIX for swarmhost). */
  base: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** nginx in a temp prefix, in the foreground, proxying PREFIX (stripped) to `upstreamPort`. */
async function startNginx(upstreamPort: number): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing (apt-get install nginx)`);
  const dir = mkdtempSync(join(tmpdir(), 'swarmhost-nginx-'));
  const port = await freePort();
  // Workers run as the master's user when it is root (they write the temp paths here).
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${user}
worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream swarmhost { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${port};
    # The trailing slashes strip the prefix: /swarm/lobby/x -> /lobby/x.
    location ${PREFIX} {
      proxy_pass http://swarmhost/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 60s;
    }
    # Anything that leaves the prefix reaches nothing, as behind a real proxy.
    location / { return 404; }
  }
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const res = await fetch(`${base}${PREFIX}healthz`).catch(() => undefined);
    if (res?.ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not come up: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    base,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await within(exited, 5000, 'nginx exit').catch(() => child.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every request the page makes, and every one that failed or was refused. */
function watchRequests(page: Page): { urls: string[]; failures: string[] } {
  const seen = { urls: [] as string[], failures: [] as string[] };
  page.on('request', (request) => seen.urls.push(request.url()));
  page.on('websocket', (socket) => seen.urls.push(socket.url()));
  page.on('requestfailed', (request) => seen.failures.push(`failed ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) seen.failures.push(`${response.status()} ${response.url()}`);
  });
  return seen;
}

describeBrowser('pages under a path prefix, through nginx', () => {
  let server: TestServer;
  let nginx: Nginx;
  let browser: Browser;
  let swarm: string;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 500 });
    nginx = await startNginx(server.port);
    swarm = `${nginx.base}${PREFIX}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await nginx?.stop();
    await server?.close();
  });

  it('lists the lobbies on /swarm/, and its link opens a live lobby under /swarm/', async () => {
    const created = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'prefixed', particles: 300 }),
    });
    expect(created.status).toBe(201);
    const page = await browser.context.newPage();
    const seen = watchRequests(page);
    await page.goto(swarm);
    const link = page.locator('tr[data-lobby="prefixed"] a');
    await link.waitFor({ timeout: 5000 });
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      STYLED_BACKGROUND,
    );
    await link.click();
    await page.waitForURL(`${swarm}lobby/prefixed`, { timeout: 5000 });
    const live = await waitForClient(
      page,
      (s) => s.state === 'live' && s.particles === 300 && s.framesReceived > 0,
      10_000,
      'live in the lobby under the prefix',
    );
    expect(live.lobbyId).toBe('prefixed');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(
      STYLED_BACKGROUND,
    );
    // The HUD's link home leads back to the landing page under the prefix.
    expect(await page.locator('#hud header a').evaluate((a) => (a as HTMLAnchorElement).href)).toBe(
      swarm,
    );
    const wsBase = swarm.replace(/^http/, 'ws');
    expect(seen.urls).toContain(`${wsBase}lobby/prefixed/ws`);
    expect(seen.urls).toContain(`${swarm}lobbies`);
    expect(seen.urls.filter((url) => !url.startsWith(swarm) && !url.startsWith(wsBase))).toEqual(
      [],
    );
    expect(seen.failures).toEqual([]);
    await page.close();
  });

  it("opens a lobby from the landing page's form, and a lobby page loaded directly goes live", async () => {
    const page = await browser.context.newPage();
    const seen = watchRequests(page);
    await page.goto(swarm);
    await page.fill('#lobby-name', 'from-form');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${swarm}lobby/from-form`, { timeout: 5000 });
    await waitForClient(
      page,
      (s) => s.state === 'live' && s.lobbyId === 'from-form' && s.framesReceived > 0,
      10_000,
      'live in the lobby opened from the form',
    );
    // A link shared from a lobby page opens it directly, trailing slash or not.
    await page.goto(`${swarm}lobby/shared/?delay=150`);
    expect(page.url()).toBe(`${swarm}lobby/shared?delay=150`);
    await waitForClient(
      page,
      (s) => s.state === 'live' && s.lobbyId === 'shared' && s.framesReceived > 0,
      10_000,
      'live in the lobby opened by its link',
    );
    expect(seen.failures).toEqual([]);
    await page.close();
  });

  it("keeps the bad-id page's link home under the prefix", async () => {
    const page = await browser.context.newPage();
    const res = await page.goto(`${swarm}lobby/bad%20id!`);
    expect(res?.status()).toBe(400);
    expect(await page.locator('main a').evaluate((a) => (a as HTMLAnchorElement).href)).toBe(swarm);
    await page.close();
  });
});
