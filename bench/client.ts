/**
 * `npm run bench:client`: the browser client's cost per frame in headless
 * Chromium (Debian's /usr/bin/chromium via playwright-core), against a real
 * server in this process, for each lobby size:
 *
 * - decode: handling one server message (msgpack, frame decode, copy into
 *   the interpolation buffer), per message and per rendered frame (more
 *   than one message per frame when rendering is slower than 60 fps);
 * - interpolate: playout clock + interpolation of every particle, per frame;
 * - draw: culling, upload and the draw call (CPU side), per frame;
 * - decode per message + interpolate per frame: the client's CPU cost of one
 *   frame when it renders at the server's rate (the 2 ms budget);
 * - the render fps achieved, the frames per second received, and the server
 *   ticks per second (frames the server skipped for us are the difference).
 *
 * The 0-particle row is the baseline: what this browser's rendering pipeline
 * achieves with nothing to draw (in headless Chromium without a GPU that is
 * SwiftShader, a software rasterizer, plus a software compositor).
 *
 * The client measures itself (performance.now around each step) and exposes
 * cumulative totals in window.__swarmhost; the bench diffs two snapshots.
 *
 * It closes the browser, removes its profile and closes the server on
 * every path, and exits when it has printed its table.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { buildClient, type DebugSnapshot } from '../client/index.js';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { optionsHelp, readOptions, runMain } from './cli-options.js';

const OPTIONS = {
  sizes: {
    kind: 'intList',
    arg: 'a,b,c',
    default: [0, 10_000, 50_000],
    min: 0,
    max: 1_000_000,
    doc: 'lobby sizes in particles, one lobby each; 0 is the rendering baseline',
  },
  seconds: {
    kind: 'int',
    arg: 'T',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'measured seconds per row',
  },
  warmup: {
    kind: 'int',
    arg: 'W',
    default: 3,
    min: 0,
    max: 600,
    doc: 'seconds each lobby runs in the page before it is measured',
  },
  width: { kind: 'int', arg: 'PX', default: 1280, min: 64, max: 7680, doc: 'viewport width' },
  height: { kind: 'int', arg: 'PX', default: 720, min: 64, max: 4320, doc: 'viewport height' },
} as const;

const USAGE = `Usage: npm run bench:client -- [options]

The browser client's cost per frame in headless Chromium (/usr/bin/chromium)
against a real server in this process, per lobby size, in the default view
and zoomed in 2x: decode per message and per rendered frame, interpolate
and draw per frame, render fps, frames received and server ticks per
second, download rate.

${optionsHelp(OPTIONS)}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const f = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

async function main(): Promise<number> {
  const options = readOptions(process.argv.slice(2), OPTIONS);
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const { sizes: SIZES, seconds: SECONDS, warmup: WARMUP } = options.values;
  const VIEWPORT = { width: options.values.width, height: options.values.height };

  await buildClient();
  const config = defaultConfig({
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    maxParticles: Math.max(1, ...SIZES),
    // Creating lobbies over REST needs the admin token.
    adminToken: randomBytes(16).toString('hex'),
    // Every size gets its lobby, whatever the default admission budget.
    particleBudget: Math.max(
      defaultConfig().particleBudget,
      SIZES.reduce((sum, size) => sum + size, 0),
    ),
  });
  const admin = { authorization: `Bearer ${config.adminToken}` };
  const app = await buildApp(config, { logger: false });
  const profile = mkdtempSync(join(tmpdir(), 'swarmhost-bench-'));
  let context: BrowserContext | undefined;
  try {
    await app.fastify.listen({ host: '127.0.0.1', port: 0 });
    const address = app.fastify.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
    });
    const page = await context.newPage();
    await run({
      page,
      context,
      base,
      admin,
      sizes: SIZES,
      seconds: SECONDS,
      warmup: WARMUP,
      viewport: VIEWPORT,
    });
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await app.fastify.close();
  }
  return 0;
}

interface Run {
  page: Page;
  context: BrowserContext;
  base: string;
  admin: Record<string, string>;
  sizes: number[];
  seconds: number;
  warmup: number;
  viewport: { width: number; height: number };
}

/** Prints the header and one row per lobby size and view. */
async function run({
  page,
  context,
  base,
  admin,
  sizes: SIZES,
  seconds: SECONDS,
  warmup: WARMUP,
  viewport: VIEWPORT,
}: Run): Promise<void> {
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl
      ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER))
      : 'no WebGL2';
  });
  const version = context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));

  console.log(
    `# bench:client  ${SECONDS} s measured after ${WARMUP} s warm-up, viewport ${VIEWPORT.width}x${VIEWPORT.height} at DPR 1`,
  );
  console.log(`# Chromium ${version}; WebGL renderer: ${renderer}`);
  console.log(
    `# ${cpus().length} CPUs, load average ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} at start; server in this process\n`,
  );
  console.log(
    '| particles | view | decode ms/message (mean, p95) | decode ms/render frame | interpolate ms/frame (mean, p95) | draw ms/frame (mean, p95) | decode/message + interpolate/frame ms | render fps | frames received/s | server ticks/s | download kB/s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');

  const read = () => page.evaluate(() => window.__swarmhost!) as Promise<DebugSnapshot>;

  /** Diffs two debug snapshots SECONDS apart and prints one table row. */
  async function measure(particles: number, view: string): Promise<void> {
    const a = await read();
    const started = performance.now();
    await sleep(SECONDS * 1000);
    const b = await read();
    const seconds = (performance.now() - started) / 1000;
    const per = (key: 'decode' | 'interpolate' | 'draw') =>
      (b.perf[key].totalMs - a.perf[key].totalMs) /
      Math.max(1, b.perf[key].count - a.perf[key].count);
    const renderFrames = b.perf.renderFrames - a.perf.renderFrames;
    const decodePerRender =
      (b.perf.decode.totalMs - a.perf.decode.totalMs) / Math.max(1, renderFrames);
    console.log(
      `| ${particles.toLocaleString('en')} | ${view} (${b.visible.toLocaleString('en')} drawn, ${b.copies} ${b.copies === 1 ? 'copy' : 'copies'}) | ` +
        `${f(per('decode'))}, ${f(b.perf.decode.p95Ms)} | ${f(decodePerRender)} | ` +
        `${f(per('interpolate'))}, ${f(b.perf.interpolate.p95Ms)} | ${f(per('draw'))}, ${f(b.perf.draw.p95Ms)} | ` +
        `${f(per('decode') + per('interpolate'))} | ${f(renderFrames / seconds, 1)} | ` +
        `${f((b.framesReceived - a.framesReceived) / seconds, 1)} | ${f((b.tick - a.tick) / seconds, 1)} | ` +
        `${f((b.bytesReceived - a.bytesReceived) / seconds / 1000, 0)} |`,
    );
  }

  for (const particles of SIZES) {
    const id = `bench-${particles}`;
    const created = await fetch(`${base}/lobbies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ id, particles }),
    });
    if (created.status !== 201) throw new Error(`POST /lobbies answered ${created.status}`);
    await page.goto(`${base}/lobby/${id}`);
    const deadline = Date.now() + 20_000;
    while (!((await read()).state === 'live' && (await read()).particles === particles)) {
      if (Date.now() > deadline)
        throw new Error(`lobby ${id} did not go live: ${JSON.stringify(await read())}`);
      await sleep(100);
    }
    await sleep(WARMUP * 1000);
    // The default view: the world once across the longer side (at 16:9, 56% of it in view).
    await measure(particles, 'default view');
    if (particles === 0) continue;
    // Zoom in 2x at the centre (wheel: e^(462 * 0.0015) = 2): about 86% of
    // the flock is culled.
    await page.mouse.move(VIEWPORT.width / 2, VIEWPORT.height / 2);
    await page.mouse.wheel(0, -462);
    await sleep(1000);
    await measure(particles, 'zoomed 2x');
    await fetch(`${base}/lobbies/${id}`, { method: 'DELETE', headers: admin });
  }
}

runMain('bench:client', main);
