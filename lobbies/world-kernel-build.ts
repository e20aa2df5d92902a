/**
 * Builds the wasm world kernel: AssemblyScript (lobbies/world/kernel/
 * boids-kernel.ts) to lobbies/world/kernel/boids-kernel.wasm, beside its
 * source, where the loader finds it when running from source (tests, tsx),
 * and to the same place under dist/ when the server has been compiled
 * there (`npm run build` runs tsc first). Both outputs are gitignored.
 *
 * `npm run build:kernel` runs this file; the test setup calls
 * `ensureWorldKernel`, so a fresh clone's `npm test` builds it on demand.
 * asc comes from npm (assemblyscript, a devDependency): no other toolchain.
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_MAXIMUM_PAGES } from './world/kernel-layout.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'lobbies/world/kernel/boids-kernel.ts');
export const KERNEL_WASM = join(ROOT, 'lobbies/world/kernel/boids-kernel.wasm');
const DIST_WASM = join(ROOT, 'dist/lobbies/world/kernel/boids-kernel.wasm');

/**
 * asc flags: no GC or allocator (the kernel allocates nothing), memory
 * imported (each world brings its own), no bounds asserts, fully optimized,
 * SIMD on (Node >= 16 has it). The memory is shared (threads), so that a
 * world's partition threads step it in place and the world's views into it
 * survive its growth; a shared memory declares its maximum, and an
 * imported one may not exceed what the module declares: see
 * KERNEL_MAXIMUM_PAGES for why this much.
 */
const ASC_FLAGS = [
  '--runtime',
  'stub',
  '--importMemory',
  '--sharedMemory',
  '--maximumMemory',
  String(KERNEL_MAXIMUM_PAGES),
  '--noAssert',
  '-O3',
  '--enable',
  'simd',
  '--enable',
  'threads',
];

/** Compiles the kernel; throws with asc's diagnostics when it fails. */
export async function buildWorldKernel(): Promise<void> {
  const asc = await import('assemblyscript/asc');
  let diagnostics = '';
  const sink = {
    write(text: string): boolean {
      diagnostics += text;
      return true;
    },
  };
  const { error } = await asc.main([SOURCE, '--outFile', KERNEL_WASM, ...ASC_FLAGS], {
    stdout: sink,
    stderr: sink,
  });
  if (error)
    throw new Error(`asc could not build the world kernel: ${error.message}\n${diagnostics}`);
  if (existsSync(join(ROOT, 'dist/lobbies'))) {
    mkdirSync(dirname(DIST_WASM), { recursive: true });
    copyFileSync(KERNEL_WASM, DIST_WASM);
  }
}

/** Builds the kernel unless a .wasm newer than its source and its flags (this file) is already there. */
export async function ensureWorldKernel(): Promise<void> {
  const built = existsSync(KERNEL_WASM) ? statSync(KERNEL_WASM).mtimeMs : -1;
  const inputs = [SOURCE, fileURLToPath(import.meta.url)];
  if (inputs.every((input) => built >= statSync(input).mtimeMs)) return;
  await buildWorldKernel();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWorldKernel();
  console.log(`world kernel: ${KERNEL_WASM}${existsSync(DIST_WASM) ? ` and ${DIST_WASM}` : ''}`);
}
