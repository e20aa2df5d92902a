/**
 * Builds the browser client into static files: `dist/client/` holds the two
 * pages (index.html, lobby.html) and `dist/client/assets/` their bundles and
 * stylesheet. esbuild bundles client/src with the protocol/ code it imports
 * (one codec for server, bots and browser) and msgpackr's browser build.
 *
 *   tsx client/build.ts            (part of `npm run build`)
 *
 * The server serves these files itself (src/routes/page-routes.ts): no CDN.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const CLIENT_OUT_DIR = here('../dist/client/');

/** Browsers with WebGL2, ES2022 and pointer events: current Chromium, Firefox, Safari. */
const TARGETS = ['chrome100', 'firefox100', 'safari16'];

export async function buildClient(outDir = CLIENT_OUT_DIR): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(`${outDir}/assets`, { recursive: true });
  await build({
    entryPoints: { lobby: here('src/main.ts'), landing: here('src/landing.ts') },
    outdir: `${outDir}/assets`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: TARGETS,
    minify: true,
    sourcemap: 'linked',
    // Source maps point at the repository's files, not copies.
    sourcesContent: false,
    logLevel: 'warning',
  });
  await Promise.all([
    copyFile(here('static/index.html'), `${outDir}/index.html`),
    copyFile(here('static/lobby.html'), `${outDir}/lobby.html`),
    copyFile(here('static/style.css'), `${outDir}/assets/style.css`),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildClient();
  process.stdout.write(`client built into ${CLIENT_OUT_DIR}\n`);
}
