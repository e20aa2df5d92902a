/**
 * The landing page in real Chromium: lists the lobbies, and its form opens a
 * lobby by name (creating it at the default size by joining, with no token
 * and no REST call) or joins one that exists.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import {
  type Browser,
  describeBrowser,
  launchBrowser,
  saveScreenshot,
  waitForClient,
} from './browser.js';

describeBrowser('landing page', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 2000 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the lobbies with phase, clients and particles', async () => {
    const created = await server.adminFetch('/lobbies', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'listed', particles: 300 }),
    });
    expect(created.status).toBe(201);
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/`);
    const row = page.locator('tr[data-lobby="listed"]');
    await row.waitFor({ timeout: 5000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe('listed');
    expect(['starting', 'running', 'idle']).toContain(cells[1]);
    expect(cells.slice(2)).toEqual(['0', '300']);
    // Relative to the page (it may be served under a proxy's path prefix).
    expect(await row.locator('a').getAttribute('href')).toBe('lobby/listed');
    expect(await row.locator('a').evaluate((a) => (a as HTMLAnchorElement).href)).toBe(
      `${server.http}/lobby/listed`,
    );
    await page.close();
  });

  it('creates a lobby from the form, at the default size, and navigates to it', async () => {
    const page = await browser.context.newPage();
    const writes: string[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') writes.push(`${request.method()} ${request.url()}`);
    });
    await page.goto(`${server.http}/`);
    // Sizes are the operator's (POST /lobbies with the admin token), not the form's.
    expect(await page.locator('#lobby-particles').count()).toBe(0);
    await page.fill('#lobby-name', 'made-here');
    await saveScreenshot(page, 'landing-page.png');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${server.http}/lobby/made-here`, { timeout: 5000 });
    const s = await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 2000,
      10_000,
      'live in the new lobby',
    );
    expect(s.lobbyId).toBe('made-here');
    expect(server.app.directory.get('made-here')).toBeDefined();
    expect(writes).toEqual([]);
    await page.close();
  });

  it('joins a lobby that exists, whatever its size', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/`);
    await page.fill('#lobby-name', 'listed');
    await page.click('button[type="submit"]');
    await page.waitForURL(`${server.http}/lobby/listed`, { timeout: 5000 });
    await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 300,
      10_000,
      'live in the existing lobby',
    );
    await page.close();
  });
});
