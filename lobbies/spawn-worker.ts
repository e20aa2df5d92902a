/**
 * Starts a worker thread from a .js file, or from a .ts source (tests,
 * `npm run dev`, the benchmarks) through tsx's loader, which a worker does
 * not inherit from its parent.
 */
import { createRequire } from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // require.resolve finds tsx's CommonJS build; its ESM twin sits beside it.
  const tsx = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const boot = `import(${JSON.stringify(new URL(`file://${tsx}`).href)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
