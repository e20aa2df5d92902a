/**
 * Picks the kernel that steps every world of this process (SWARMHOST_KERNEL):
 * reads and compiles the wasm kernel once, proves it by stepping a small
 * world on it, and falls back to the JS kernel, with the reason, when that
 * fails. The compiled WebAssembly.Module goes to the lobby hosts, and
 * through workerData to each worker thread, which instantiates it per world
 * without compiling again.
 *
 * Lives outside lobbies/world because it reads a file (node:fs); the world
 * itself stays isomorphic.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JS_KERNEL, type WorldKernel } from './world/wasm-kernel.js';
import { World } from './world/world.js';

export type KernelSetting = 'wasm' | 'js';

/**
 * Where `npm run build:kernel` puts the module: beside its source when
 * running from source, under dist/ when running the compiled server.
 */
export const WORLD_KERNEL_WASM = fileURLToPath(
  new URL('./world/kernel/boids-kernel.wasm', import.meta.url),
);

export interface LoadedKernel {
  kernel: WorldKernel;
  /** Set when wasm was asked for and the JS kernel runs instead: why, for one log line. */
  fallback?: string;
}

/** The kernel for `requested`; never throws (a wasm that fails to load means the JS kernel). */
export function loadWorldKernel(
  requested: KernelSetting,
  wasmPath: string = WORLD_KERNEL_WASM,
): LoadedKernel {
  if (requested === 'js') return { kernel: JS_KERNEL };
  try {
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    const kernel: WorldKernel = { kind: 'wasm', module };
    proveKernel(kernel);
    return { kernel };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      kernel: JS_KERNEL,
      fallback: `the wasm world kernel could not be loaded from ${wasmPath} (${reason}): lobbies run the JS kernel (npm run build:kernel builds the wasm one; SWARMHOST_KERNEL=js chooses JS without this warning)`,
    };
  }
}

/** Steps a small world, forces included, so a module that instantiates but cannot step fails here. */
function proveKernel(kernel: WorldKernel): void {
  const world = new World({ size: 400, particles: 50, maxParticles: 64, seed: 1, kernel });
  world.setForce(1, 200, 200, 'attract');
  world.step(1 / 60);
  for (let i = 0; i < world.count; i++) {
    if (!(world.x[i] >= 0 && world.x[i] < world.size)) {
      throw new Error(`a probe step left particle ${i} at x = ${world.x[i]}`);
    }
  }
}
