/**
 * World checkpoints: a world rebuilt from a snapshot (after a structured
 * clone, as between threads) continues bit-identically to the one that never
 * stopped, whatever was done before and after; the property is shown able to
 * fail by breaking one field of the snapshot at a time; a bad snapshot is
 * refused with a RangeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { World, type WorldSnapshot } from '../../../../lobbies/world/world.js';
import { stateBits } from '../../../support/world-bits.js';

const DT = 1 / 60;

type Op =
  | { op: 'step'; n: number }
  | { op: 'spawn'; x: number; y: number; count: number }
  | { op: 'force'; owner: number; x: number; y: number; mode: 'attract' | 'repel' | 'none' };

const coord = fc.double({ min: -2000, max: 2000, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  // Single steps weigh most: snapshots land on odd and even step counts.
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('step'), n: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('spawn'),
      x: coord,
      y: coord,
      count: fc.integer({ min: 0, max: 60 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('force'),
      owner: fc.integer({ min: 1, max: 6 }),
      x: coord,
      y: coord,
      mode: fc.constantFrom('attract', 'repel', 'none'),
    }),
  },
) as fc.Arbitrary<Op>;

const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  // Small, dense worlds: neighbours, forces and the steering slice all bite.
  size: fc.constantFrom(300, 400.5),
  particles: fc.integer({ min: 0, max: 250 }),
  before: fc.array(opArb, { maxLength: 12 }),
  after: fc.array(opArb, { minLength: 1, maxLength: 12 }),
});

type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function apply(world: World, ops: Op[]): void {
  for (const o of ops) {
    if (o.op === 'step') for (let s = 0; s < o.n; s++) world.step(DT);
    else if (o.op === 'spawn') world.spawn(o.x, o.y, o.count);
    else world.setForce(o.owner, o.x, o.y, o.mode);
  }
}

/** Bit patterns of the live state, so -0 vs 0 and NaN count as differences. */
function bits(w: World): number[][] {
  return stateBits(w).map((a) => [...a]);
}

/**
 * The world resumed from a (structured-cloned, possibly tampered-with)
 * snapshot ends in the same bits as the world that never stopped.
 */
function resumesIdentically(tamper: (s: WorldSnapshot) => void = () => {}) {
  return fc.property(caseArb, (c: Case) => {
    const maxParticles = c.particles + 400;
    const original = new World({
      size: c.size,
      particles: c.particles,
      maxParticles,
      seed: c.seed,
    });
    apply(original, c.before);
    const snapshot = structuredClone(original.snapshot());
    tamper(snapshot);
    const resumed = World.fromSnapshot(snapshot, maxParticles);
    apply(original, c.after);
    apply(resumed, c.after);
    // Bits only: a tampered field must show in the particles, not in a getter.
    expect(bits(resumed)).toEqual(bits(original));
  });
}

describe('World snapshot and fromSnapshot', () => {
  it('a resumed world continues bit-identically to the one that never stopped', () => {
    fc.assert(resumesIdentically(), { numRuns: 150 });
  });

  it('the property fails when the snapshot loses its step count, PRNG state or forces', () => {
    const breaks = (tamper: (s: WorldSnapshot) => void) =>
      fc.check(resumesIdentically(tamper), { numRuns: 300 }).failed;
    // Steps dropped: after an odd count, the wrong half of the particles steers next.
    expect(breaks((s) => (s.steps = 0))).toBe(true);
    // PRNG state dropped: later spawns land elsewhere.
    expect(breaks((s) => (s.prngState = 0))).toBe(true);
    // No forces: particles near a player's point move differently.
    expect(
      breaks((s) => {
        s.forces = { owners: [], x: [], y: [], sign: [] };
      }),
    ).toBe(true);
  });

  it('copies out the state: the snapshot does not change as the world goes on', () => {
    const world = new World({ size: 400, particles: 100, maxParticles: 200, seed: 9 });
    world.setForce(3, 10, 20, 'repel');
    world.step(DT);
    const snapshot = world.snapshot();
    const x0 = snapshot.x[0];
    expect(snapshot).toMatchObject({ size: 400, count: 100, steps: 1 });
    expect(World.fromSnapshot(snapshot).steps).toBe(1);
    expect(snapshot.x.length).toBe(100);
    expect(snapshot.x.buffer).not.toBe(world.x.buffer);
    expect(snapshot.forces).toEqual({ owners: [3], x: [10], y: [20], sign: [-1] });
    world.step(DT);
    world.spawn(1, 1, 50);
    expect(snapshot.x[0]).toBe(x0);
    expect(snapshot.count).toBe(100);
  });

  it('keeps its forces, in owner order, until clearForces', () => {
    const world = new World({ size: 400, particles: 50, maxParticles: 100, seed: 1 });
    for (const owner of [9, 2, 5]) world.setForce(owner, owner * 10, 7, 'attract');
    const resumed = World.fromSnapshot(world.snapshot());
    expect(resumed.forceCount).toBe(3);
    expect(resumed.snapshot().forces.owners).toEqual([2, 5, 9]);
    // Still sorted for setForce's search: a new owner goes in its place.
    resumed.setForce(4, 1, 1, 'repel');
    expect(resumed.snapshot().forces.owners).toEqual([2, 4, 5, 9]);
    resumed.clearForces();
    expect(resumed.forceCount).toBe(0);
    expect(resumed.snapshot().forces).toEqual({ owners: [], x: [], y: [], sign: [] });
  });

  it('takes the capacity it is given, and by default room to grow', () => {
    const world = new World({ size: 400, particles: 120, maxParticles: 120, seed: 1 });
    expect(World.fromSnapshot(world.snapshot(), 500).maxParticles).toBe(500);
    expect(World.fromSnapshot(world.snapshot()).maxParticles).toBe(20_000);
    expect(() => World.fromSnapshot(world.snapshot(), 119)).toThrow(RangeError);
  });

  it('refuses a snapshot no world could have made, with a RangeError', () => {
    const good = () => {
      const world = new World({ size: 400, particles: 20, maxParticles: 40, seed: 5 });
      world.setForce(1, 10, 10, 'attract');
      world.setForce(2, 20, 20, 'repel');
      return world.snapshot();
    };
    const bad: Array<[string, (s: WorldSnapshot) => void]> = [
      ['size 0', (s) => (s.size = 0)],
      ['size NaN', (s) => (s.size = Number.NaN)],
      ['negative count', (s) => (s.count = -1)],
      ['fractional count', (s) => (s.count = 1.5)],
      ['count beyond the arrays', (s) => (s.count = 21)],
      ['a short array', (s) => (s.vy = s.vy.slice(0, 19))],
      ['a plain array', (s) => (s.x = [...s.x] as unknown as Float32Array)],
      ['a NaN velocity', (s) => (s.vx[3] = Number.NaN)],
      ['an infinite velocity', (s) => (s.vy[0] = Number.POSITIVE_INFINITY)],
      ['a position outside', (s) => (s.x[2] = 400)],
      ['a negative position', (s) => (s.y[2] = -1)],
      ['prngState beyond uint32', (s) => (s.prngState = 2 ** 32)],
      ['fractional prngState', (s) => (s.prngState = 0.5)],
      ['negative steps', (s) => (s.steps = -1)],
      ['fractional steps', (s) => (s.steps = 2.5)],
      ['forces out of order', (s) => (s.forces.owners = [2, 1])],
      ['duplicate force owners', (s) => (s.forces.owners = [1, 1])],
      ['a force array too short', (s) => (s.forces.sign = [1])],
      ['a force sign of 0', (s) => (s.forces.sign = [1, 0])],
      ['a force not finite', (s) => (s.forces.x = [10, Number.POSITIVE_INFINITY])],
      ['no forces', (s) => (s.forces = undefined as unknown as WorldSnapshot['forces'])],
    ];
    expect(() => World.fromSnapshot(good(), 40)).not.toThrow();
    for (const [what, tamper] of bad) {
      const s = good();
      tamper(s);
      expect(() => World.fromSnapshot(s, 40), what).toThrow(RangeError);
    }
    // More particles than the capacity asked for.
    expect(() => World.fromSnapshot(good(), 10)).toThrow(/do not fit maxParticles 10/);
  });
});
