/**
 * What the lobby page shows before anyone touches it, in real Chromium:
 * the default view shows the toroidal world once (not 1.3 to 1.8 times, as
 * fitting the shorter side did), panning still wraps, and on a phone the
 * HUD starts collapsed, leaving the swarm uncovered, with a toggle that the
 * tab remembers.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import {
  type Browser,
  describeBrowser,
  launchBrowser,
  snapshot,
  waitForClient,
} from './browser.js';

/** Share of the viewport the HUD's box covers. */
async function hudShare(page: Page): Promise<number> {
  return page.evaluate(() => {
    const box = document.getElementById('hud')!.getBoundingClientRect();
    return (box.width * box.height) / (window.innerWidth * window.innerHeight);
  });
}

describeBrowser('lobby view', () => {
  let server: TestServer;
  let desktop: Browser;
  let phone: Browser;

  beforeAll(async () => {
    server = await startServer({ defaultParticles: 500 });
    desktop = await launchBrowser({ width: 800, height: 600 });
    phone = await launchBrowser({ width: 390, height: 844 });
  });
  afterAll(async () => {
    await desktop?.close();
    await phone?.close();
    await server?.close();
  });

  const live = (page: Page) =>
    waitForClient(page, (d) => d.state === 'live' && d.renderTick > 0, 10_000, 'live');

  it('shows the world once by default, filling the view, and panning still wraps', async () => {
    const page = await desktop.context.newPage();
    await page.goto(`${server.http}/lobby/once`);
    const s = await live(page);
    const { viewWidth, viewHeight, zoom, worldSize } = s.camera;
    // The longer side spans exactly one world; the shorter shows part of it.
    expect(viewWidth / zoom).toBeCloseTo(worldSize, 6);
    expect(viewHeight / zoom).toBeLessThan(worldSize);
    expect(s.copies).toBe(1);
    // The desktop HUD starts open.
    expect(await page.isVisible('#phase')).toBe(true);

    // Pan left (arrow keys): the seam comes into view, drawn as a second copy...
    await page.locator('#view').click({ modifiers: ['Alt'] }); // focus, no force
    await page.keyboard.press('ArrowLeft');
    const seam = await waitForClient(page, (d) => d.copies === 2, 5000, 'the seam in view');
    expect(seam.camera.centerX).toBeLessThan(500);
    // ...and on round the torus: the centre wraps past x = 0.
    for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowLeft');
    const wrapped = await waitForClient(
      page,
      (d) => d.camera.centerX > 500,
      5000,
      'the centre wrapped past 0',
    );
    expect(wrapped.camera.zoom).toBe(zoom);
    // F goes back to the default view.
    await page.keyboard.press('f');
    await waitForClient(
      page,
      (d) => d.camera.centerX === 500 && d.copies === 1,
      5000,
      'the default view again',
    );
    await page.close();
  });

  it('shows the world once on a phone too (portrait: the height spans it)', async () => {
    const page = await phone.context.newPage();
    await page.goto(`${server.http}/lobby/once`);
    const s = await live(page);
    const { viewWidth, viewHeight, zoom, worldSize } = s.camera;
    expect([viewWidth, viewHeight]).toEqual([390, 844]);
    expect(viewHeight / zoom).toBeCloseTo(worldSize, 6);
    expect(viewWidth / zoom).toBeLessThan(worldSize);
    expect(s.copies).toBe(1);
    await page.close();
  });

  it('collapses the HUD on a phone, with a toggle the tab remembers', async () => {
    const page = await phone.context.newPage();
    await page.goto(`${server.http}/lobby/pocket`);
    await live(page);
    // Collapsed: the lobby, the copy-link button, the toggle and the connection line.
    await expect.poll(() => page.getAttribute('#hud-toggle', 'aria-expanded')).toBe('false');
    expect(await page.isVisible('#phase')).toBe(false);
    for (const id of ['#lobby-id', '#copy-link', '#hud-toggle', '#conn'])
      expect(await page.isVisible(id), id).toBe(true);
    await expect.poll(() => page.textContent('#conn')).toBe('live');
    const collapsed = await hudShare(page);
    expect(collapsed).toBeLessThan(0.08);

    // Open: every number is there again, and covers much more.
    await page.click('#hud-toggle');
    expect(await page.getAttribute('#hud-toggle', 'aria-expanded')).toBe('true');
    for (const id of ['#phase', '#clients', '#particles', '#tick', '#fps', '#rtt', '#inputs'])
      expect(await page.isVisible(id), id).toBe(true);
    await expect.poll(() => page.textContent('#phase')).toBe('running');
    const open = await hudShare(page);
    expect(open).toBeGreaterThan(2 * collapsed);

    // The choice holds for the tab's session (a reload), not the screen-size default.
    await page.reload();
    await live(page);
    expect(await page.getAttribute('#hud-toggle', 'aria-expanded')).toBe('true');
    expect(await page.isVisible('#phase')).toBe(true);
    await page.click('#hud-toggle');
    expect(await page.isVisible('#phase')).toBe(false);
    expect((await snapshot(page)).state).toBe('live'); // the toggle is not a steering input
    await page.close();
  });
});
