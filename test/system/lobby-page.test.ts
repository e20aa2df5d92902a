/**
 * The lobby page in real Chromium against a real server: it connects and
 * draws, two pages agree, pointer input reaches the server's world, and
 * refusals and a missing WebGL2 are explained on the page.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { particlesNear } from '../support/particles.js';
import { joinLobby, startServer, type TestServer, waitFor } from '../support/server.js';
import {
  type Browser,
  countLitPixels,
  describeBrowser,
  launchBrowser,
  saveScreenshot,
  snapshot,
  waitForClient,
  worldToScreen,
} from './browser.js';

const near = particlesNear;

describeBrowser('lobby page', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: Page[] = [];

  const open = async (path: string): Promise<Page> => {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.goto(`${server.http}${path}`);
    return page;
  };

  beforeAll(async () => {
    server = await startServer({ defaultParticles: 2000 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('connects, draws the swarm and shows the lobby in the HUD', async () => {
    const page = await open('/lobby/drawn');
    const s = await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 2000 && d.renderTick > 0,
      10_000,
      'frames drawn',
    );
    expect(s.lobbyId).toBe('drawn');
    // The default view shows 1000 x 750 of the 1000 x 1000 world at 800 x 600.
    expect(s.visible).toBeGreaterThan(1000);
    await expect.poll(() => page.textContent('#lobby-id')).toBe('drawn');
    await expect.poll(() => page.textContent('#conn')).toBe('live');
    await expect
      .poll(() => page.textContent('#particles'), { timeout: 5000 })
      .toBe('2,000 / 60,000'); // the cap: min(maxParticles, particleBudget), the wasm kernel's
    await expect.poll(() => page.textContent('#phase')).toBe('running');
    const { lit, total } = await countLitPixels(page);
    // 2000 dots of ~3 px across: thousands of lit pixels, far from all of them.
    expect(lit).toBeGreaterThan(2000);
    expect(lit).toBeLessThan(total / 2);
    await saveScreenshot(page, 'lobby-page.png');
    await page.close();
  });

  it('two pages on the same URL show the same lobby and particle count while the tick advances', async () => {
    const a = await open('/lobby/shared');
    const b = await open('/lobby/shared');
    const first = await Promise.all(
      [a, b].map((page) =>
        waitForClient(
          page,
          (d) => d.state === 'live' && d.status?.clients === 2,
          10_000,
          'both joined',
        ),
      ),
    );
    expect(first[0].clientId).not.toBe(first[1].clientId);
    expect(first.map((s) => s.particles)).toEqual([2000, 2000]);
    expect(first.map((s) => s.status?.particles)).toEqual([2000, 2000]);
    const later = await Promise.all(
      [a, b].map((page, i) =>
        waitForClient(page, (d) => d.tick > first[i].tick + 60, 10_000, 'a second of ticks'),
      ),
    );
    expect(later.map((s) => s.particles)).toEqual([2000, 2000]);
    for (const page of [a, b]) {
      await expect.poll(() => page.textContent('#clients')).toBe('2');
      const tick = Number(await page.textContent('#tick'));
      expect(tick).toBeGreaterThan(0);
    }
    // Both draw the same server ticks: their newest ticks are within a few frames.
    const [sa, sb] = await Promise.all([snapshot(a), snapshot(b)]);
    expect(Math.abs(sa.tick - sb.tick)).toBeLessThan(30);
    await a.close();
    await b.close();
  });

  it('holding the pointer attracts the flock on the server, at a capped input rate, and shows the ack', async () => {
    const bot = await joinLobby(server, 'steer');
    await waitFor(() => bot.frames > 2, 5000, 'bot frames');
    const page = await open('/lobby/steer');
    const s = await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 2000,
      10_000,
      'live',
    );
    const before = near(bot, 500, 500, 100);
    const point = worldToScreen(s, 500, 500);

    await page.mouse.move(point.x, point.y);
    await page.mouse.down();
    const held = await waitForClient(page, (d) => d.inputsSent >= 1, 5000, 'first input sent');
    // One second of pointer moves, ten at every turn of the event loop
    // (hundreds in all): inputs stay near 30 a second.
    const wiggle = (await page.evaluate(`(async () => {
      const canvas = document.getElementById('view');
      const start = performance.now();
      let events = 0;
      while (performance.now() - start < 1000) {
        for (let i = 0; i < 10; i++, events++) {
          canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: ${point.x} + (events % 3) - 1, clientY: ${point.y}, bubbles: true }));
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return { events, seconds: (performance.now() - start) / 1000, sent: window.__swarmhost.inputsSent };
    })()`)) as { events: number; seconds: number; sent: number };
    expect(wiggle.events).toBeGreaterThan(200);
    expect(wiggle.sent - held.inputsSent).toBeGreaterThan(10);
    expect(wiggle.sent - held.inputsSent).toBeLessThanOrEqual(Math.ceil(30 * wiggle.seconds) + 2);

    // Hold still for ~3 s of ticks: the flock gathers at the pointer.
    const tick = bot.decoder!.tick;
    await waitFor(() => bot.decoder!.tick > tick + 180, 15_000, '180 ticks of attraction');
    const after = near(bot, 500, 500, 100);
    expect(after).toBeGreaterThan(Math.max(before * 2, 100));
    await page.mouse.up();

    // The release is sent and acknowledged, and the HUD shows it.
    const done = await waitForClient(
      page,
      (d) => d.seqSent >= 1 && d.ack === d.seqSent,
      5000,
      'release acknowledged',
    );
    await expect
      .poll(() => page.textContent('#inputs'))
      .toBe(`#${done.seqSent} / #${done.seqSent}`);
    bot.close();
    await page.close();
  }, 40_000);

  it('space spawns a burst that every client sees', async () => {
    const page = await open('/lobby/burst');
    await waitForClient(page, (d) => d.state === 'live' && d.particles === 2000, 10_000, 'live');
    await page.mouse.move(200, 200);
    await page.keyboard.press(' ');
    await waitForClient(page, (d) => d.particles === 2200 && d.ack >= 0, 5000, 'burst of 200');
    await expect
      .poll(() => page.textContent('#particles'), { timeout: 5000 })
      .toBe('2,200 / 60,000');
    await page.close();
  });

  it('pans, zooms and wraps the view seamlessly across the world edge', async () => {
    const page = await open('/lobby/view');
    const s = await waitForClient(
      page,
      (d) => d.state === 'live' && d.particles === 2000 && d.renderTick > 0,
      10_000,
      'live',
    );
    // The default view shows the world once across (lobby-view.test.ts).
    // Zoom in 1.5x at the centre (exp(270 px x 0.0015)): the view is 667 x 500
    // of the 1000 x 1000 world, one copy, with a third of the flock in it.
    await page.mouse.move(s.camera.viewWidth / 2, s.camera.viewHeight / 2);
    await page.mouse.wheel(0, -270);
    const zoomed = await waitForClient(
      page,
      (d) => d.camera.zoom > s.camera.zoom * 1.45,
      5000,
      'zoomed in',
    );
    expect(zoomed.camera.zoom).toBeCloseTo(s.camera.zoom * 1.5, 1);
    expect(zoomed.copies).toBe(1);
    expect(zoomed.visible).toBeLessThan(1500);

    // Alt-drag the world right until its x = 0 edge (the seam) is in the
    // middle of the screen.
    const dragTo = zoomed.camera.centerX * zoomed.camera.zoom;
    await page.keyboard.down('Alt');
    await page.mouse.move(100, 300);
    await page.mouse.down();
    await page.mouse.move(100 + dragTo, 300, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up('Alt');
    const panned = await waitForClient(
      page,
      (d) => d.camera.centerX < 1 || d.camera.centerX > 999,
      5000,
      'panned to the seam',
    );
    expect(panned.inputsSent).toBe(0); // panning is not steering
    expect(panned.copies).toBe(2);
    await waitForClient(
      page,
      (d) => d.copies === 2 && d.visible > 500,
      5000,
      'particles on both sides',
    );
    // Both halves, one each side of the seam, are full of particles.
    const { left, right } = await countLitPixels(page);
    expect(left).toBeGreaterThan(500);
    expect(right).toBeGreaterThan(500);
    expect(Math.min(left, right) / Math.max(left, right)).toBeGreaterThan(0.3);

    // F goes back to the default view.
    await page.keyboard.press('f');
    await waitForClient(
      page,
      (d) => Math.abs(d.camera.zoom - s.camera.zoom) < 1e-9 && d.camera.centerX === 500,
      5000,
      'fit',
    );
    await page.close();
  });

  it('renders at the device pixel ratio and follows resizes', async () => {
    const page = await open('/lobby/dpr');
    await waitForClient(page, (d) => d.state === 'live', 10_000, 'live');
    const size = () =>
      page.evaluate(() => {
        const canvas = document.getElementById('view') as HTMLCanvasElement;
        return {
          css: [canvas.clientWidth, canvas.clientHeight],
          backing: [canvas.width, canvas.height],
        };
      });
    await expect.poll(size).toEqual({ css: [800, 600], backing: [800, 600] });
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setDeviceMetricsOverride', {
      width: 500,
      height: 400,
      deviceScaleFactor: 2,
      mobile: false,
    });
    await expect.poll(size).toEqual({ css: [500, 400], backing: [1000, 800] });
    const s = await snapshot(page);
    expect([s.camera.viewWidth, s.camera.viewHeight]).toEqual([500, 400]);
    await page.close();
  });

  it('says so when WebGL2 is not available, and does not connect', async () => {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.addInitScript(() => {
      const original = HTMLCanvasElement.prototype.getContext;
      // biome-ignore lint/suspicious/noExplicitAny: patching a DOM overload set for the test
      (HTMLCanvasElement.prototype as any).getContext = function (
        this: HTMLCanvasElement,
        type: string,
        ...rest: unknown[]
      ) {
        // biome-ignore lint/suspicious/noExplicitAny: see above
        return type === 'webgl2' ? null : (original as any).call(this, type, ...rest);
      };
    });
    await page.goto(`${server.http}/lobby/nogl`);
    await expect.poll(() => page.textContent('#banner-text')).toMatch(/WebGL2 is not available/);
    expect(await page.isVisible('#banner')).toBe(true);
    expect((await snapshot(page)).state).toBe('unsupported');
    expect(server.app.directory.get('nogl')).toBeUndefined();
    await page.close();
  });
});

describeBrowser('lobby page refusals', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer({ defaultParticles: 500, maxClientsPerLobby: 1 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows the server reason for a full lobby instead of retrying at once', async () => {
    const bot = await joinLobby(server, 'full');
    const page = await browser.context.newPage();
    await page.goto(`${server.http}/lobby/full`);
    const s = await waitForClient(page, (d) => d.state === 'waiting', 10_000, 'waiting state');
    expect(s.reason).toMatch(/full/);
    await expect
      .poll(() => page.textContent('#banner-text'))
      .toMatch(/full.*4002.*trying again in/);
    // It waits at least 15 s before asking again: nothing new within 2 s.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await snapshot(page)).state).toBe('waiting');
    expect((await snapshot(page)).sessions).toBe(0);
    bot.close();
    await page.close();
  });
});
