/**
 * Vitest global setup: builds the wasm world kernel when it is missing or
 * older than its source, so a fresh clone's `npm test` (no `npm run build`
 * first) runs the wasm kernel's tests and servers on the wasm kernel.
 */
import { ensureWorldKernel } from '../../lobbies/world-kernel-build.js';

export default async function setup(): Promise<void> {
  await ensureWorldKernel();
}
