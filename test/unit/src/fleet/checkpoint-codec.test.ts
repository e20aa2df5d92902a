import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { LobbyCheckpoint } from '../../../../lobbies/index.js';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
} from '../../../../src/fleet/checkpoint-codec.js';

const floats = (count: number) =>
  fc.float32Array({ minLength: count, maxLength: count, noDefaultInfinity: true, noNaN: true });

const checkpointArb = fc.integer({ min: 0, max: 64 }).chain((count) =>
  fc.record({
    id: fc.constant('room-1'),
    seed: fc.nat(0xffff_ffff),
    tick: fc.nat(2 ** 40),
    epoch: fc.nat(100),
    world: fc.record({
      size: fc.constantFrom(1000, 512.5),
      count: fc.constant(count),
      prngState: fc.nat(0xffff_ffff),
      steps: fc.nat(2 ** 40),
      x: floats(count),
      y: floats(count),
      vx: floats(count),
      vy: floats(count),
      forces: fc.constant({ owners: [3], x: [1.5], y: [2.5], sign: [1] }),
    }),
    pendingSpawns: fc.array(
      fc.record({
        x: fc.double({ noNaN: true, min: 0, max: 1000 }),
        y: fc.double({ noNaN: true, min: 0, max: 1000 }),
        count: fc.nat(500),
      }),
      { maxLength: 3 },
    ),
  }),
) as fc.Arbitrary<LobbyCheckpoint>;

describe('checkpoint codec', () => {
  it('round-trips every field bit for bit', () => {
    fc.assert(
      fc.property(checkpointArb, (checkpoint) => {
        const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint), 'room-1', 100_000);
        expect(decoded.ok).toBe(true);
        if (!decoded.ok) return;
        const back = decoded.checkpoint;
        expect(back.tick).toBe(checkpoint.tick);
        expect(back.world.steps).toBe(checkpoint.world.steps);
        expect(back.world.prngState).toBe(checkpoint.world.prngState);
        for (const field of ['x', 'y', 'vx', 'vy'] as const) {
          // Compared as bytes: -0 and every float32 bit pattern must survive.
          expect(new Uint8Array(back.world[field].buffer)).toEqual(
            new Uint8Array(checkpoint.world[field].buffer),
          );
        }
        expect(back.pendingSpawns).toEqual(checkpoint.pendingSpawns);
      }),
      { numRuns: 200 },
    );
  });

  it('reads arrays that sit at an odd offset in the decoded buffer', () => {
    const world = {
      size: 1000,
      count: 3,
      prngState: 1,
      steps: 1,
      x: new Float32Array([1, 2, 3]),
      y: new Float32Array(3),
      vx: new Float32Array(3),
      vy: new Float32Array(3),
      forces: { owners: [], x: [], y: [], sign: [] },
    };
    const checkpoint: LobbyCheckpoint = {
      id: 'a',
      seed: 1,
      tick: 7,
      epoch: 0,
      world,
      pendingSpawns: [],
    };
    const decoded = decodeCheckpoint(encodeCheckpoint(checkpoint), 'a', 10);
    expect(decoded.ok && Array.from(decoded.checkpoint.world.x)).toEqual([1, 2, 3]);
  });

  it('refuses checkpoints it cannot trust, saying why', () => {
    const good = fc.sample(
      checkpointArb.filter((c) => c.world.count > 2),
      1,
    )[0];
    const bytes = encodeCheckpoint(good);
    const packr = new Packr({ useRecords: false });
    const tamper = (patch: Record<string, unknown>) =>
      decodeCheckpoint(
        packr.pack({ ...(new Packr({ useRecords: false }).unpack(bytes) as object), ...patch }),
        'room-1',
        100_000,
      );
    expect(decodeCheckpoint(bytes, 'room-2', 100_000)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("lobby room-1's"),
    });
    expect(decodeCheckpoint(bytes, 'room-1', 2)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('cap'),
    });
    expect(tamper({ format: CHECKPOINT_FORMAT + 1 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('format'),
    });
    expect(tamper({ x: new Uint8Array(5) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('x does not hold'),
    });
    expect(tamper({ tick: -1 })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('tick'),
    });
    expect(tamper({ size: 0 })).toMatchObject({ ok: false });
    expect(tamper({ pendingSpawns: [{ x: 1, y: 1, count: 1.5 }] })).toMatchObject({ ok: false });
    expect(tamper({ forces: null })).toMatchObject({ ok: false });
    expect(decodeCheckpoint(new Uint8Array([0xc1]), 'room-1', 10).ok).toBe(false);
    expect(decodeCheckpoint(new Uint8Array([]), 'room-1', 10).ok).toBe(false);
  });

  it('costs 16 bytes a particle plus a small header', () => {
    const count = 10_000;
    const world = {
      size: 1000,
      count,
      prngState: 1,
      steps: 1,
      x: new Float32Array(count),
      y: new Float32Array(count),
      vx: new Float32Array(count),
      vy: new Float32Array(count),
      forces: { owners: [], x: [], y: [], sign: [] },
    };
    const bytes = encodeCheckpoint({
      id: 'a',
      seed: 1,
      tick: 1,
      epoch: 0,
      world,
      pendingSpawns: [],
    });
    expect(bytes.byteLength).toBeGreaterThanOrEqual(16 * count);
    expect(bytes.byteLength).toBeLessThan(16 * count + 512);
  });
});
