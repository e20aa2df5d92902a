/**
 * SWARMHOST_KERNEL's loader: js is js; wasm is the compiled module, proven
 * by a step; a wasm kernel that cannot be read, compiled or instantiated
 * means the JS kernel and one reason to log.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorldKernel, WORLD_KERNEL_WASM } from '../../../lobbies/world-kernel-loader.js';

describe('loadWorldKernel', () => {
  it('gives the JS kernel for js, without reading the wasm', () => {
    expect(loadWorldKernel('js', '/nonexistent/boids-kernel.wasm')).toEqual({
      kernel: { kind: 'js' },
    });
  });

  it('gives the compiled module for wasm, from where the build puts it', () => {
    const loaded = loadWorldKernel('wasm');
    expect(loaded.fallback).toBeUndefined();
    expect(loaded.kernel.kind).toBe('wasm');
    expect(WORLD_KERNEL_WASM.endsWith('lobbies/world/kernel/boids-kernel.wasm')).toBe(true);
  });

  it('falls back to JS, saying why, when the file is missing', () => {
    const loaded = loadWorldKernel('wasm', '/nonexistent/boids-kernel.wasm');
    expect(loaded.kernel).toEqual({ kind: 'js' });
    expect(loaded.fallback).toMatch(/could not be loaded from \/nonexistent\/boids-kernel\.wasm/);
    expect(loaded.fallback).toMatch(/ENOENT/);
    expect(loaded.fallback).toMatch(/lobbies run the JS kernel/);
  });

  it('falls back to JS when the file is not a wasm module, or not this kernel', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kernel-'));
    const garbage = join(dir, 'garbage.wasm');
    writeFileSync(garbage, 'not wasm');
    expect(loadWorldKernel('wasm', garbage).kernel.kind).toBe('js');
    // A valid module with no exports: it compiles, but cannot step a world.
    const empty = join(dir, 'empty.wasm');
    writeFileSync(empty, new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const loaded = loadWorldKernel('wasm', empty);
    expect(loaded.kernel.kind).toBe('js');
    expect(loaded.fallback).toMatch(/could not be loaded .*not the boids kernel/);
  });

  it('falls back to JS when the module is another version of the kernel (a stale build)', async () => {
    // Every export the kernel has, but a configureLayout that takes one
    // offset more, as the build before the sample arrays left the layout:
    // it must be refused before it writes by another layout.
    const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}: i32`).join(', ');
    const source = [
      `export function configureLayout(${params(21)}): void {}`,
      `export function configureForces(${params(4)}): void {}`,
      `export function configureWorld(${params(14)}): void {}`,
      `export function step(${params(5)}): void {}`,
      `export function prepare(${params(1)}): void {}`,
      `export function stepCells(${params(6)}): void {}`,
      `export function scatter(${params(2)}): void {}`,
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'kernel-'));
    writeFileSync(join(dir, 'stale.ts'), source);
    const asc = await import('assemblyscript/asc');
    const { error } = await asc.main(
      [join(dir, 'stale.ts'), '--outFile', join(dir, 'stale.wasm'), '--runtime', 'stub'],
      { stdout: { write: () => true }, stderr: { write: () => true } },
    );
    expect(error).toBeNull();
    const loaded = loadWorldKernel('wasm', join(dir, 'stale.wasm'));
    expect(loaded.kernel.kind).toBe('js');
    expect(loaded.fallback).toMatch(
      /not this version of the boids kernel: its configureLayout takes 21 offsets, this layout has 20/,
    );
  });
});
