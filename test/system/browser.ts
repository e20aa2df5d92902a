/**
 * Harness for the browser tests: Debian's Chromium driven by playwright-core
 * (never a downloaded browser), a server that can restart on the same port,
 * and helpers that read the client's debug snapshot and count drawn pixels.
 *
 * A missing /usr/bin/chromium fails these tests in CI (CI=true) and skips
 * them, loudly, on a developer machine without it.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import type { DebugSnapshot } from '../../client/src/debug.js';
import { BACKGROUND_RGB } from '../../client/src/renderer.js';
import type { AppOptions } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { startServerOn, type TestServer } from '../support/server.js';

import { CHROMIUM, CHROMIUM_ARGS } from '../../bench/chromium.js';

export { CHROMIUM, CHROMIUM_ARGS };
/** Where tests leave screenshots (gitignored). */
export const ARTIFACTS = 'test-results';

/** `describe` for tests that need Chromium; see the header for what happens without it. */
export function describeBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, body);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it(`needs ${CHROMIUM} (apt-get install chromium)`, () => {
        throw new Error(
          `${CHROMIUM} is missing: the browser tests cannot run (.ci/run installs it)`,
        );
      });
    });
    return;
  }
  console.warn(`\n*** ${CHROMIUM} is missing: skipping "${name}" (apt-get install chromium) ***\n`);
  describe.skip(name, body);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile, removed again on close. */
export async function launchBrowser(viewport = { width: 800, height: 600 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'swarmhost-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A server on 127.0.0.1 at `port` (0: any free one), as startServer makes but restartable on the same port. */
export function startServerAt(
  port: number,
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<TestServer> {
  return startServerOn(port, overrides, options);
}

/** The client's debug snapshot (window.__swarmhost). */
export async function snapshot(page: Page): Promise<DebugSnapshot> {
  const value = await page.evaluate(() => window.__swarmhost);
  if (!value) throw new Error('the page has no window.__swarmhost: is it the lobby client?');
  return value;
}

/** Polls the debug snapshot until `predicate` holds; fails with `label` and the last snapshot. */
export async function waitForClient(
  page: Page,
  predicate: (s: DebugSnapshot) => boolean,
  timeoutMs: number,
  label: string,
): Promise<DebugSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last: DebugSnapshot | undefined;
  for (;;) {
    last = await snapshot(page).catch(() => undefined);
    if (last && predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${label}; last snapshot: ${JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Pixels of the canvas, as screenshotted with the HUD hidden, that differ
 * clearly from the background: what a person sees drawn, in all and in the
 * left and right halves. The PNG is decoded by the page itself (an Image and
 * a 2D canvas), so no PNG library is needed.
 */
export async function countLitPixels(
  page: Page,
): Promise<{ lit: number; left: number; right: number; total: number }> {
  const png = await page
    .locator('#view')
    .screenshot({ style: '#hud, #banner { visibility: hidden !important; }' });
  return page.evaluate(
    async ({ b64, bg }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      const data = ctx.getImageData(0, 0, img.width, img.height).data;
      let left = 0;
      let right = 0;
      for (let i = 0; i < data.length; i += 4) {
        const d =
          Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]);
        if (d <= 48) continue;
        if ((i / 4) % img.width < img.width / 2) left++;
        else right++;
      }
      return { lit: left + right, left, right, total: data.length / 4 };
    },
    { b64: png.toString('base64'), bg: [...BACKGROUND_RGB] },
  );
}

/** Saves a screenshot of the page under test-results/ (a test artifact). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path });
  return path;
}

/** Screen point (CSS px) of a world point in the page's current camera. */
export function worldToScreen(s: DebugSnapshot, x: number, y: number): { x: number; y: number } {
  const { camera } = s;
  return {
    x: camera.viewWidth / 2 + (x - camera.centerX) * camera.zoom,
    y: camera.viewHeight / 2 + (y - camera.centerY) * camera.zoom,
  };
}
