/**
 * The shape of a world checkpoint (`WorldSnapshot`) and its validation. A
 * snapshot may come from another instance, through Redis, so a resume checks
 * it as input: a bad one fails the resume with a RangeError, never makes a
 * world that breaks mid-step. World.snapshot / World.fromSnapshot (world.ts)
 * make and take them.
 *
 * Runs anywhere: no imports.
 */

/**
 * Everything a world's future depends on, as plain structured-clone-able
 * data (a lobby checkpoint carries it between threads and instances).
 * Params are not in it: every lobby's world runs on the defaults.
 */
export interface WorldSnapshot {
  size: number;
  count: number;
  /** The PRNG's whole state (uint32): spawns after a resume draw what they would have. */
  prngState: number;
  /** Steps taken: selects which particles steer on the next step (the steering slice). */
  steps: number;
  /** Particle state, length === count: copies, never views of a live world's arrays. */
  x: Float32Array;
  y: Float32Array;
  vx: Float32Array;
  vy: Float32Array;
  /** Active forces, ascending by owner; x, y wrapped into the world; sign 1 attracts, -1 repels. */
  forces: { owners: number[]; x: number[]; y: number[]; sign: number[] };
}

const MAX_UINT32 = 0xffffffff;

/**
 * Throws a RangeError naming the first thing wrong with a snapshot. It may
 * come from another instance (through Redis), so it is checked as input: a
 * bad one must fail the resume, never make a world that breaks mid-step.
 */
export function checkSnapshot(s: WorldSnapshot): void {
  const fail = (what: string): never => {
    throw new RangeError(`world snapshot: ${what}`);
  };
  if (typeof s !== 'object' || s === null) fail('not an object');
  const { size, count, prngState, steps } = s;
  if (typeof size !== 'number' || !Number.isFinite(size) || size <= 0)
    fail(`size must be a positive finite number, got ${size}`);
  if (!Number.isInteger(count) || count < 0)
    fail(`count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(prngState) || prngState < 0 || prngState > MAX_UINT32)
    fail(`prngState must be a uint32, got ${prngState}`);
  if (!Number.isSafeInteger(steps) || steps < 0)
    fail(`steps must be a non-negative integer, got ${steps}`);
  for (const key of ['x', 'y', 'vx', 'vy'] as const) {
    const a = s[key];
    if (!(a instanceof Float32Array)) fail(`${key} must be a Float32Array`);
    if (a.length !== count) fail(`${key} has ${a.length} values for ${count} particles`);
    const position = key === 'x' || key === 'y';
    for (let i = 0; i < count; i++) {
      const v = a[i];
      // Positions live in [0, size): the grid indexes cells by them.
      if (position ? !(v >= 0 && v < size) : !Number.isFinite(v))
        fail(`${key}[${i}] = ${v} is not ${position ? `in [0, ${size})` : 'finite'}`);
    }
  }
  const forces = s.forces;
  if (typeof forces !== 'object' || forces === null) fail('forces must be an object');
  const { owners, x, y, sign } = forces;
  if (![owners, x, y, sign].every(Array.isArray)) fail('forces must hold four arrays');
  const n = owners.length;
  if (x.length !== n || y.length !== n || sign.length !== n)
    fail('forces arrays must have one entry per owner');
  for (let f = 0; f < n; f++) {
    if (!Number.isFinite(owners[f])) fail(`force owner ${owners[f]} is not finite`);
    // Sorted, unique owners: setForce's binary search depends on it.
    if (f > 0 && !(owners[f] > owners[f - 1])) fail('force owners must be strictly ascending');
    // Finite is all: the kernel takes nearest-image distances, and the wrap
    // itself can leave a point a hair outside [0, size] (-5e-324 wraps to itself).
    if (!Number.isFinite(x[f]) || !Number.isFinite(y[f]))
      fail(`force ${owners[f]} at (${x[f]}, ${y[f]}) is not a finite point`);
    if (sign[f] !== 1 && sign[f] !== -1) fail(`force sign must be 1 or -1, got ${sign[f]}`);
  }
}
