/**
 * A hidden tab draws nothing, so the page asks for the slowest send rate
 * (10 Hz) until it is seen again, and asks again on a new socket. Real
 * Chromium against a real server; the tab's visibility is emulated (the
 * document reports hidden and fires visibilitychange, as a browser does
 * when the tab goes to the background).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, type TestServer, waitFor } from '../support/server.js';
import { type Browser, describeBrowser, launchBrowser, waitForClient } from './browser.js';

async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((value) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => value });
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (value ? 'hidden' : 'visible'),
    });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describeBrowser('send rate of a hidden tab', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ defaultParticles: 500 });
    browser = await launchBrowser({ width: 400, height: 300 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for 10 Hz while hidden and for the full rate when seen again', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/lobby/hidden`);
    const live = await waitForClient(page, (d) => d.state === 'live' && d.tick > 0, 10_000, 'live');
    expect(live.sendRate).toBe(60);
    const feed = server.app.directory.get('hidden')!.feed;
    const session = () => feed.client(live.clientId)!;
    expect(feed.sendRate(session())).toBe(60);

    await setHidden(page, true);
    await waitFor(() => feed.sendRate(session()) === 10, 5000, 'the server sends it 10 Hz');
    expect((await waitForClient(page, (d) => d.sendRate === 10, 5000, 'asked 10')).sendRate).toBe(
      10,
    );

    await setHidden(page, false);
    await waitFor(() => feed.sendRate(session()) === 60, 5000, 'back to 60 Hz');
    await page.close();
  });
});
