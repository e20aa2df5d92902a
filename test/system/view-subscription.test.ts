/**
 * Viewport subscriptions in real Chromium: zoomed in, the page asks for its
 * view and gets `view` frames holding fewer particles than the world, and
 * still draws; zoomed out, it goes back to whole frames.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../support/server.js';
import {
  type Browser,
  describeBrowser,
  launchBrowser,
  snapshot,
  waitForClient,
} from './browser.js';

describeBrowser('viewport subscription', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServer({ defaultParticles: 3000 });
    browser = await launchBrowser({ width: 800, height: 600 });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('zoomed in gets view frames with fewer particles and draws them; zoomed out, whole frames', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/lobby/zoom`);
    const first = await waitForClient(
      page,
      (d) => d.state === 'live' && d.renderTick > 0,
      10_000,
      'live',
    );
    expect(first.view).toBeNull();
    expect(first.viewFrames).toBe(0);

    // Zoom in at the centre: a quarter of the width, a sixteenth of the area.
    await page.mouse.move(400, 300);
    for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -100);
    const zoomed = await waitForClient(
      page,
      (d) => d.view !== null && d.viewFrames > 30,
      10_000,
      'view frames after zooming in',
    );
    const { viewWidth, viewHeight, zoom, worldSize } = zoomed.camera;
    expect(((viewWidth / zoom) * (viewHeight / zoom)) / worldSize ** 2).toBeLessThan(0.5);
    // The view asked for covers the screen, with a margin, and is smaller than the world.
    expect(zoomed.view!.w).toBeGreaterThan(viewWidth / zoom);
    expect(zoomed.view!.w * zoomed.view!.h).toBeLessThan(worldSize ** 2);
    expect(zoomed.worldParticles).toBe(3000);
    expect(zoomed.particles).toBeGreaterThan(0);
    expect(zoomed.particles).toBeLessThan(3000);
    // Still drawing: the render tick moves on and particles are on screen.
    const later = await waitForClient(
      page,
      (d) => d.renderTick > zoomed.renderTick + 30 && d.visible > 0,
      10_000,
      'drawing while zoomed in',
    );
    expect(later.visible).toBeLessThanOrEqual(later.particles);

    // Zoom out (F: the default view): whole frames again.
    await page.keyboard.press('f');
    const out = await waitForClient(
      page,
      (d) => d.view === null && d.particles === 3000,
      10_000,
      'whole frames after zooming out',
    );
    const views = out.viewFrames;
    await waitForClient(
      page,
      (d) => d.framesReceived > out.framesReceived + 30,
      10_000,
      'more frames',
    );
    expect((await snapshot(page)).viewFrames).toBe(views);
    await page.close();
  });
});
