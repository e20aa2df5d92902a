/**
 * The wasm world kernel: it replays bit-identically with itself (same seed,
 * and across snapshot / fromSnapshot), and today it also gives the JS
 * kernel's bits exactly, in every branch of a step (forces across the
 * seams, crowded and stride-sampled cells, the steering budget, dead stops,
 * tiny and huge dt). Flock quality on it is in world.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { JS_KERNEL, type WorldKernel } from '../../../../lobbies/world/wasm-kernel.js';
import { World, type WorldOptions } from '../../../../lobbies/world/world.js';
import { wasmKernel } from '../../../support/world-kernels.js';
import { stateBits } from '../../../support/world-bits.js';

const DT = 1 / 60;

/** Bit patterns of the live state, so -0 vs 0 and NaN count as differences. */
function bits(w: World): Uint32Array[] {
  return stateBits(w);
}

function stepped(w: World, steps: number, dt = DT): World {
  for (let s = 0; s < steps; s++) w.step(dt);
  return w;
}

/** A session touching every input: forces across the seams, spawns near them, removals. */
function session(kernel: WorldKernel, options: Partial<WorldOptions> = {}): World {
  const w = new World({ particles: 2000, seed: 42, ...options, kernel });
  w.setForce(2, 100, 100, 'attract');
  w.setForce(1, 990, 20, 'repel');
  stepped(w, 40);
  expect(w.spawn(500, 999.5, 200)).toBe(true);
  w.setForce(7, 0, 0, 'attract');
  stepped(w, 40);
  w.setForce(2, 600, 400, 'repel');
  w.setForce(7, 0, 0, 'none');
  w.removeForce(1);
  expect(w.spawn(0.2, 0.3, 300)).toBe(true);
  return stepped(w, 40);
}

describe('the wasm world kernel', () => {
  it('steps worlds that say so', () => {
    expect(new World({ particles: 10, seed: 1, kernel: wasmKernel() }).kernel).toBe('wasm');
    expect(new World({ particles: 10, seed: 1 }).kernel).toBe('js');
  });

  it('is bit-identical with itself for the same seed and calls', () => {
    const a = session(wasmKernel());
    expect(bits(a)).toEqual(bits(session(wasmKernel())));
    // And the run did something: another seed ends elsewhere.
    expect(bits(a)).not.toEqual(bits(session(wasmKernel(), { seed: 43 })));
  });

  it('continues bit-identically from a snapshot taken mid-run', () => {
    const straight = new World({ particles: 3000, seed: 9, kernel: wasmKernel() });
    straight.setForce(4, 500, 500, 'attract');
    stepped(straight, 33);
    const snapshot = straight.snapshot();
    const resumed = World.fromSnapshot(snapshot, undefined, undefined, wasmKernel());
    expect(resumed.kernel).toBe('wasm');
    for (const w of [straight, resumed]) {
      w.setForce(9, 20, 980, 'repel');
      stepped(w, 37);
      expect(w.spawn(998, 2, 50)).toBe(true);
      stepped(w, 20);
    }
    expect(bits(resumed)).toEqual(bits(straight));
    expect(resumed.steps).toBe(straight.steps);
  });

  it('gives the JS kernel bits exactly over a whole session', () => {
    expect(bits(session(wasmKernel()))).toEqual(bits(session(JS_KERNEL)));
  });

  it('continues a JS world from its snapshot as the JS kernel would (and back)', () => {
    const js = new World({ particles: 1500, seed: 3 });
    stepped(js, 25);
    const onWasm = World.fromSnapshot(js.snapshot(), undefined, undefined, wasmKernel());
    stepped(js, 30);
    stepped(onWasm, 30);
    expect(bits(onWasm)).toEqual(bits(js));
    const backOnJs = World.fromSnapshot(onWasm.snapshot());
    stepped(backOnJs, 10);
    stepped(js, 10);
    expect(bits(backOnJs)).toEqual(bits(js));
  });

  it.each([
    ['crowded cells (half-radius quadrants)', { maxCandidates: 64 }],
    ['stride-sampled clumps', { maxCandidates: 12 }],
    ['no candidate cap', { maxCandidates: 0 }],
    ['the steering budget (every 4th step)', { steerBudget: 1000 }],
    ['steering every step', { steerInterval: 1 }],
  ] as const)('matches the JS kernel in %s', (_what, params) => {
    // 4000 particles in 300 x 300: about 44k in the default world.
    const run = (kernel: WorldKernel) => {
      const w = new World({ size: 300, particles: 4000, seed: 6, params, kernel });
      w.setForce(1, 299, 1, 'attract');
      return stepped(w, 24);
    };
    expect(bits(run(wasmKernel()))).toEqual(bits(run(JS_KERNEL)));
  });

  it('matches the JS kernel at the edges: dead stops, a hair below 0, tiny and huge dt', () => {
    const run = (kernel: WorldKernel) => {
      const w = new World({
        size: 200.5,
        particles: 0,
        maxParticles: 200,
        seed: 1,
        params: { maxCandidates: 12, forceRadius: 60.5 },
        kernel,
      });
      w.spawn(100, 100, 60);
      w.spawn(1, 1, 50);
      w.spawn(150, 155, 1);
      w.setForce(2, 2, 190, 'repel');
      stepped(w, 2);
      // Written between steps, as tests and the JIT warm-up do: the wasm
      // kernel takes the arrays as they are at each step.
      w.x[110] = 150;
      w.y[110] = 155;
      w.vx[110] = 0;
      w.vy[110] = 0;
      w.step(DT);
      w.x[109] = 0;
      w.y[109] = 0;
      w.vx[109] = -20;
      w.vy[109] = -20;
      w.step(1e-9);
      w.step(500.5);
      w.step(0);
      return w;
    };
    expect(bits(run(wasmKernel()))).toEqual(bits(run(JS_KERNEL)));
  });

  it('makes room for more forces than it started with (its memory grows)', () => {
    const run = (kernel: WorldKernel) => {
      const w = new World({ particles: 2000, seed: 12, kernel });
      stepped(w, 3);
      // 300 forces: the wasm memory starts with room for 64.
      for (let f = 0; f < 300; f++) w.setForce(f, (f * 37) % 1000, (f * 91) % 1000, 'attract');
      stepped(w, 5);
      for (let f = 0; f < 300; f += 2) w.removeForce(f);
      return stepped(w, 5);
    };
    expect(bits(run(wasmKernel()))).toEqual(bits(run(JS_KERNEL)));
  });
});
