/**
 * The view grid and ViewDecoder on hand-made and hostile input: the cover
 * of a rectangle on the torus (seam included), and a decoder that refuses
 * truncated, overlong, garbage and inconsistent data with ViewDecodeError,
 * keeping the state it had.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assembleViewData,
  BitWriter,
  encodeTileDelta,
  encodeTileKey,
  VIEW_CHUNK,
  type ViewChunkFlags,
  ViewDecodeError,
  writeChunkKind,
} from '../../../protocol/view-codec.js';
import { ViewDecoder } from '../../../protocol/view-decoder.js';
import {
  buildTileIndex,
  childTiles,
  holdsTile,
  parentTile,
  tileCount,
  tileCover,
  tileHolds,
} from '../../../protocol/view-grid.js';

const BITS = 14;
const G = 4;
const COARSE = 1 << (2 * G);
const fine = (fx: number, fy: number) => COARSE + fy * 32 + fx;

describe('tile grid', () => {
  it('covers a view inside the world with coarse tiles inside and fine ones along the edge', () => {
    // x in [100, 300]: fine columns 3..9 (31.25 each); coarse columns 2..3 ([125, 250]) lie inside.
    const cover = tileCover({ x: 100, y: 100, w: 200, h: 200 }, 1000, G);
    const coarse = cover.filter((t) => t < COARSE);
    expect(coarse).toEqual([2 * 16 + 2, 2 * 16 + 3, 3 * 16 + 2, 3 * 16 + 3]);
    // Every point of the rectangle is in exactly one tile of the cover.
    for (let x = 100; x <= 300; x += 7) {
      for (let y = 100; y <= 300; y += 7) {
        const q = (v: number) => Math.min(16383, Math.round((v * 16384) / 1000));
        expect(cover.filter((t) => tileHolds(t, q(x), q(y), BITS, G)).length).toBe(1);
      }
    }
  });

  it('wraps across the seam, and a view as wide as the world covers every column', () => {
    const cover = tileCover({ x: 980, y: 990, w: 40, h: 20 }, 1000, G);
    // x: 980..1020 → fine columns 31, 0; y: 990..1010 → fine rows 31, 0.
    expect(cover).toEqual(
      [fine(0, 0), fine(31, 0), fine(0, 31), fine(31, 31)].sort((a, b) => a - b),
    );
    const band = tileCover({ x: 500, y: 0, w: 1000, h: 10 }, 1000, G);
    expect(band.length).toBe(32);
    expect(tileCover({ x: 0, y: 0, w: 1000, h: 1000 }, 1000, G)).toEqual(
      Array.from({ length: COARSE }, (_, i) => i),
    );
  });

  it('indexes both levels, ascending, and knows parents and children', () => {
    const positions = Uint16Array.from([0, 0, 16383, 16383, 600, 10, 100, 20]);
    const index = buildTileIndex(positions, 4, BITS, G);
    expect(index.start.length).toBe(tileCount(G) + 1);
    const of = (t: number) => [...index.members.subarray(index.start[t], index.start[t + 1])];
    expect(of(0)).toEqual([0, 2, 3]);
    // Particle 2 (x 600) is in the second fine column.
    expect(of(fine(0, 0))).toEqual([0, 3]);
    expect(of(fine(1, 0))).toEqual([2]);
    expect(of(255)).toEqual([1]);
    expect(parentTile(fine(3, 5), G)).toBe(2 * 16 + 1);
    expect(childTiles(2 * 16 + 1, G)).toEqual([fine(2, 4), fine(3, 4), fine(2, 5), fine(3, 5)]);
    expect(holdsTile(new Set([2 * 16 + 1]), fine(3, 5), G)).toBe(true);
    expect(holdsTile(new Set(childTiles(7, G)), 7, G)).toBe(true);
    expect(holdsTile(new Set(childTiles(7, G).slice(1)), 7, G)).toBe(false);
  });
});

/** A decoder holding one key frame of tile 0 (particles 0..9 near the origin) at tick 5. */
function primed(): { decoder: ViewDecoder; positions: Uint16Array; members: Uint32Array } {
  const positions = new Uint16Array(20);
  for (let i = 0; i < 10; i++) {
    positions[2 * i] = 10 * i;
    positions[2 * i + 1] = 5 * i;
  }
  const members = Uint32Array.from({ length: 10 }, (_, i) => i);
  const key = encodeTileKey(positions, members, BITS - G, 10);
  const decoder = new ViewDecoder(BITS);
  decoder.apply(5, undefined, 10, assembleViewData(G, [{ tile: 0, ...key }]));
  return { decoder, positions, members };
}

const MEMBERS = Uint32Array.from({ length: 10 }, (_, i) => i);

/** A decoder holding tile 0 at tick 6 (a first-order delta) and at tick 5 (a key): its prior. */
function primedTwice(): { decoder: ViewDecoder; frames: [Uint16Array, Uint16Array] } {
  const { decoder, positions } = primed();
  const p6 = positions.map((v, j) => v + (j % 2 === 0 ? 3 : 1));
  const delta = encodeTileDelta(positions, MEMBERS, p6, MEMBERS, BITS, BITS - G, 10);
  decoder.apply(6, 5, 10, assembleViewData(G, [{ tile: 0, ...delta }], [0]));
  return { decoder, frames: [positions, p6] };
}

/** Tile 0's chunk from tick 6 to 6 + g1, predicted from ticks 5 and 6. */
const secondOrder = ([p5, p6]: [Uint16Array, Uint16Array], next: Uint16Array, g1: number) =>
  encodeTileDelta(p6, MEMBERS, next, MEMBERS, BITS, BITS - G, 10, {
    positions: p5,
    members: MEMBERS,
    g0: 1,
    g1,
  });

/** View data against a base holding tile 0: tile 0 kept (and `added`, if given), one chunk of kind `flags`, its body written by `body`. */
function bitsOf(body: (w: BitWriter) => void, flags: ViewChunkFlags, added?: number): Uint8Array {
  const w = new BitWriter();
  w.field(G, 8);
  w.field(1, 1);
  w.gamma(added === undefined ? 0 : 1);
  if (added !== undefined) w.gamma(added);
  writeChunkKind(w, flags);
  body(w);
  return w.finish();
}

const code = (fn: () => void): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ViewDecodeError);
    return (error as ViewDecodeError).code;
  }
  return 'accepted';
};

describe('ViewDecoder', () => {
  it('applies a delta that moves, drops and admits members', () => {
    const { decoder, positions, members } = primed();
    const next = positions.slice();
    next[0] = 3000; // particle 0 leaves tile 0 (to coarse tile 2)
    next[2] += 7;
    const after = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const delta = encodeTileDelta(positions, members, next, after, BITS, BITS - G, 10);
    expect([VIEW_CHUNK.deltaChanged, VIEW_CHUNK.deltaChangedZeroK]).toContain(delta.flags);
    decoder.apply(6, 5, 10, assembleViewData(G, [{ tile: 0, ...delta }], [0]));
    expect([...decoder.present]).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(decoder.positions[2]).toBe(17);
    expect(decoder.tiles).toEqual([0]);
  });

  it('refuses every truncation, an extra byte and inconsistent data, keeping its state', () => {
    const { decoder, positions, members } = primed();
    const next = positions.map((v) => v + 1);
    const delta = encodeTileDelta(positions, members, next, members, BITS, BITS - G, 10);
    const data = assembleViewData(G, [{ tile: 0, ...delta }], [0]);
    const before = decoder.positions.slice();
    /** `base` null: none (undefined would take the default). */
    const check = (bytes: Uint8Array, tick = 6, base: number | null = 5, n = 10) => {
      const result = code(() => decoder.apply(tick, base ?? undefined, n, bytes));
      expect(result).not.toBe('accepted');
      expect(decoder.tick).toBe(5);
      expect(decoder.positions).toEqual(before);
      expect(decoder.presentCount).toBe(10);
      return result;
    };
    for (let len = 0; len < data.length; len++) {
      check(data.subarray(0, len));
    }
    expect(check(Uint8Array.from([...data, 0]))).toBe('overlong');
    expect(check(data, 6, 4)).toBe('base_mismatch'); // not the tick it holds
    // A delta chunk in a frame without a base (its tile then added, not kept).
    expect(check(assembleViewData(G, [{ tile: 0, ...delta }]), 6, null)).toBe('base_mismatch');
    // Tile 0 kept and added again.
    const addedTwice = bitsOf(() => {}, VIEW_CHUNK.delta, 0);
    expect(check(addedTwice)).toBe('bad_layout');
    expect(check(data, 5, 5)).toBe('bad_header'); // tick not after base
    expect(check(data, 6, 5, 9)).toBe('bad_header'); // fewer particles than at base
    expect(check(data, 6, 5, Number.NaN)).toBe('bad_header');
    expect(check(Uint8Array.from([14, 0]))).toBe('bad_layout'); // grid bits above bits − 1
    // One chunk, tile 0, a changed delta with none leaving or coming.
    const changedNone = bitsOf((w) => {
      w.gamma(0);
      w.gamma(0);
    }, VIEW_CHUNK.deltaChanged);
    expect(check(changedNone)).toBe('bad_layout');
    // A count code with 32 zeros.
    expect(check(Uint8Array.from([G, 0, 0, 0, 0, 0]))).toBe('bad_varint');
    // Non-zero padding after the last chunk.
    // g, tile 0 kept, none added, the chunk's kind and body.
    const kindBits = delta.flags === VIEW_CHUNK.key ? 4 : delta.flags + 1;
    const layoutBits = 8 + 1 + 1 + kindBits + delta.bitLength;
    if (layoutBits % 8 !== 0) {
      const padded = data.slice();
      padded[padded.length - 1] |= 0x80;
      expect(check(padded)).toBe('bad_block');
    }
    // A key chunk for tile 1 with a particle of tile 0: the tile's top bits are implied, so
    // it lands in tile 1; listing particle 0 twice (tile 0 and tile 1) is refused.
    const twice = assembleViewData(G, [
      { tile: 0, ...encodeTileKey(positions, members, BITS - G, 10) },
      { tile: 1, ...encodeTileKey(positions, Uint32Array.from([0]), BITS - G, 10) },
    ]);
    expect(check(twice, 6, null)).toBe('bad_layout');
    // A member index past n.
    expect(
      check(
        assembleViewData(G, [{ tile: 0, ...encodeTileKey(positions, members, BITS - G, 10) }]),
        6,
        null,
        9,
      ),
    ).toBe('bad_layout');
    // The valid frame still applies after all that.
    decoder.apply(6, 5, 10, data);
    expect(decoder.positions[0]).toBe(1);
  });

  it('predicts the members it held at prior second order, and refuses a prior it does not hold', () => {
    const { decoder, frames } = primedTwice();
    const [, p6] = frames;
    // Particles keep their step from 5 to 6 (plus a little), over a gap of 2 ticks now.
    const p8 = p6.map((v, j) => v + 2 * (j % 2 === 0 ? 3 : 1) + (j % 3 === 0 ? 1 : 0));
    const chunk = secondOrder(frames, p8, 2);
    expect(chunk.flags).toBe(VIEW_CHUNK.deltaZeroK);
    const first = encodeTileDelta(p6, MEMBERS, p8, MEMBERS, BITS, BITS - G, 10);
    // The same frame predicted first order costs more.
    expect(chunk.body.length).toBeLessThan(first.body.length);
    const data = assembleViewData(G, [{ tile: 0, ...chunk }], [0]);
    const before = decoder.positions.slice();
    const check = (bytes: Uint8Array, tick: number, base: number | undefined, prior?: number) => {
      const result = code(() => decoder.apply(tick, base, 10, bytes, prior));
      expect(result).not.toBe('accepted');
      expect(decoder.tick).toBe(6);
      expect(decoder.priorTick).toBe(5);
      expect(decoder.positions).toEqual(before);
      return result;
    };
    for (let len = 0; len < data.length; len++) check(data.subarray(0, len), 8, 6, 5);
    expect(check(data, 8, 6, 4)).toBe('prior_mismatch');
    expect(check(data, 8, 6, 6)).toBe('bad_header'); // prior not before base
    expect(check(data, 8, undefined, 5)).toBe('bad_header'); // a prior without a base
    expect(check(data, 6 + 256, 6, 5)).toBe('bad_header'); // a gap past 255
    // Read first order (no prior), the second-order chunk decodes to other codes.
    decoder.apply(8, 6, 10, data);
    expect(decoder.positions.slice(0, 20)).not.toEqual(p8);
    const again = primedTwice().decoder;
    again.apply(8, 6, 10, data, 5);
    expect(again.positions.slice(0, 20)).toEqual(p8);
    expect(again.priorTick).toBe(6);
  });

  it('refuses a Rice parameter of bits or more', () => {
    const { decoder } = primed();
    // Tile 0, flags 1 (with k bytes): k = 15 on both axes, at 14 bits.
    const data = bitsOf((w) => {
      w.field(0xff, 8);
      w.field(0, 32);
    }, VIEW_CHUNK.delta);
    expect(code(() => decoder.apply(6, 5, 10, data))).toBe('bad_block');
    expect(decoder.tick).toBe(5);
  });

  it('never throws anything but ViewDecodeError on garbage, and keeps its state when it refuses', () => {
    const { decoder } = primedTwice();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.option(fc.integer({ min: 0, max: 7 })),
        fc.option(fc.integer({ min: 0, max: 7 })),
        (bytes, base, prior) => {
          const tick = decoder.tick;
          const priorTick = decoder.priorTick;
          const held = decoder.positions.slice();
          const result = code(() =>
            decoder.apply(
              tick + 1,
              base === null ? undefined : tick,
              10,
              bytes,
              prior === null ? undefined : priorTick - prior,
            ),
          );
          if (result !== 'accepted') {
            expect(decoder.tick).toBe(tick);
            expect(decoder.priorTick).toBe(priorTick);
            expect(decoder.positions).toEqual(held);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
