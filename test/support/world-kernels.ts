/**
 * The world kernels tests run on: the JS one and the wasm one, loaded as
 * the server loads it (the global setup builds it). A wasm kernel that
 * does not load fails the test that asks for it, never skips it.
 */
import { loadWorldKernel } from '../../lobbies/world-kernel-loader.js';
import { JS_KERNEL, type WorldKernel } from '../../lobbies/world/wasm-kernel.js';

let wasm: WorldKernel | undefined;

export function wasmKernel(): WorldKernel {
  if (!wasm) {
    const loaded = loadWorldKernel('wasm');
    if (loaded.fallback) throw new Error(loaded.fallback);
    wasm = loaded.kernel;
  }
  return wasm;
}

/** [name, kernel] for describe.each: every flock-quality bound holds on both. */
export const KERNELS: ReadonlyArray<[name: 'js' | 'wasm', kernel: () => WorldKernel]> = [
  ['js', () => JS_KERNEL],
  ['wasm', wasmKernel],
];
