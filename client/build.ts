/**
 * Builds the browser client into static files: `dist/client/` holds the two
 * pages (index.html, lobby.html) and `dist/client/assets/` their bundles and
 * stylesheet. esbuild bundles client/src with the protocol/ code it imports
 * (one codec for server, bots and browser) and msgpackr's browser build.
 *
 *   tsx client/build.ts            (part of `npm run build`)
 *   tsx client/build.ts --watch    (rebuilds on every change; `npm run dev` runs it)
 *
 * The server serves these files itself (src/routes/page-routes.ts): no CDN.
 */
import { type FSWatcher, watch } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, context, type Plugin } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export const CLIENT_OUT_DIR = here('../dist/client/');

/** Browsers with WebGL2, ES2022 and pointer events: current Chromium, Firefox, Safari. */
const TARGETS = ['chrome100', 'firefox100', 'safari16'];

/** Files copied as they are: client/static/<name> to dist/client/<path>. */
const STATIC_FILES: ReadonlyArray<[string, string]> = [
  ['index.html', 'index.html'],
  ['lobby.html', 'lobby.html'],
  ['style.css', 'assets/style.css'],
];

const PROTOCOL_DIR = here('../protocol/');
const RESOLVING = Symbol('protocol-is-pure');

/**
 * Lets esbuild drop protocol/ modules a page does not use. The client imports
 * protocol/ through protocol/index.ts, which re-exports the whole wire format;
 * without this, modules with top-level work (envelope.ts's msgpackr encoder)
 * would ride along in every bundle: the landing page would grow from 1.5 to 35 kB.
 * protocol/ has no import-time effects that matter (isomorphic, no globals).
 */
const protocolIsPure: Plugin = {
  name: 'protocol-is-pure',
  setup(build) {
    build.onResolve({ filter: /^\./ }, async (args) => {
      if (args.pluginData === RESOLVING) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: RESOLVING,
      });
      if (resolved.errors.length > 0 || !resolved.path.startsWith(PROTOCOL_DIR)) return undefined;
      return { path: resolved.path, sideEffects: false };
    });
  },
};

const bundleOptions = (outDir: string): BuildOptions => ({
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
  plugins: [protocolIsPure],
});

async function clean(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(`${outDir}/assets`, { recursive: true });
}

async function copyStatic(outDir: string): Promise<void> {
  await Promise.all(
    STATIC_FILES.map(([from, to]) => copyFile(here(`static/${from}`), `${outDir}/${to}`)),
  );
}

export async function buildClient(outDir = CLIENT_OUT_DIR): Promise<void> {
  await clean(outDir);
  await build(bundleOptions(outDir));
  await copyStatic(outDir);
}

export interface ClientWatcher {
  /** Stops watching (the built files stay). */
  stop(): Promise<void>;
}

/**
 * Builds the client, then rebuilds the bundles whenever a file they import
 * changes and copies the static files again whenever one changes. Resolves
 * once the first build is complete, so a server started next serves pages.
 * `onBuilt` hears of every build after the first (errors are esbuild's to print).
 */
export async function watchClient(
  outDir = CLIENT_OUT_DIR,
  onBuilt: (errors: number) => void = () => {},
): Promise<ClientWatcher> {
  await clean(outDir);
  let first: (() => void) | undefined;
  const firstBuilt = new Promise<void>((resolve) => (first = resolve));
  const options = bundleOptions(outDir);
  const ctx = await context({
    ...options,
    plugins: [
      ...(options.plugins ?? []),
      {
        name: 'report',
        setup(build) {
          build.onEnd((result) => {
            if (first) {
              first();
              first = undefined;
            } else onBuilt(result.errors.length);
          });
        },
      },
    ],
  });
  await copyStatic(outDir);
  // esbuild watches what the bundles import; the static files are ours to watch.
  const statics: FSWatcher = watch(here('static'), () => {
    copyStatic(outDir).then(
      () => onBuilt(0),
      (error: Error) => process.stderr.write(`client: copying static files: ${error.message}\n`),
    );
  });
  await ctx.watch();
  await firstBuilt;
  return {
    stop: async () => {
      statics.close();
      await ctx.dispose();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--watch')) {
    const watcher = await watchClient(CLIENT_OUT_DIR, (errors) =>
      process.stdout.write(errors === 0 ? 'client rebuilt\n' : 'client build failed\n'),
    );
    process.stdout.write(`client built into ${CLIENT_OUT_DIR}; watching for changes\n`);
    const stop = () => void watcher.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    await buildClient();
    process.stdout.write(`client built into ${CLIENT_OUT_DIR}\n`);
  }
}
