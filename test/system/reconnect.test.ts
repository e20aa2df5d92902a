/**
 * Resilience in real Chromium: the server stops, the page says it is
 * reconnecting, and a server restarted on the same port is rejoined (from
 * its keyframe) without a reload.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import {
  type Browser,
  describeBrowser,
  launchBrowser,
  saveScreenshot,
  startServerAt,
  waitForClient,
} from './browser.js';

describeBrowser('reconnect', () => {
  let server: TestServer | undefined;
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows "reconnecting" when the server goes away and rejoins a restarted server without a reload', async () => {
    server = await startServerAt(0, { defaultParticles: 1500 });
    const { port } = server;
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/lobby/phoenix`);
    const first = await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 1500,
      10_000,
      'live',
    );
    // A reload would lose this.
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });

    await server.close();
    server = undefined;
    await waitForClient(
      page,
      (d) => d.state === 'reconnecting' || d.state === 'connecting',
      5000,
      'reconnecting',
    );
    await expect.poll(() => page.textContent('#conn'), { timeout: 5000 }).toMatch(/reconnecting/);
    await expect
      .poll(() => page.textContent('#banner-text'), { timeout: 5000 })
      .toMatch(/reconnecting/);
    await saveScreenshot(page, 'lobby-reconnecting.png');

    // Let at least one attempt fail against the closed port, then come back.
    await new Promise((resolve) => setTimeout(resolve, 800));
    server = await startServerAt(port, { defaultParticles: 1200 });
    const again = await waitForClient(
      page,
      (d) => d.state === 'live' && d.sessions === 2 && d.particles === 1200 && d.tick > 0,
      20_000,
      'rejoined the restarted server',
    );
    expect(again.instanceId).not.toBe(first.instanceId);
    expect(again.lobbyId).toBe('phoenix');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await expect.poll(() => page.textContent('#conn')).toBe('live');
    expect(await page.isVisible('#banner')).toBe(false);
    await page.close();
  }, 45_000);
});
