/**
 * The view path end to end without sockets: TileEncoder (server) against
 * ViewDecoder (client), over random frame sequences (fast-check): particles
 * that drift, jump across tiles and the seam (so members enter and leave
 * tiles between prior and base), spawn; views that move, change size,
 * vanish (whole world) and come back; bases and priors the client holds,
 * at unequal gaps (rate classes 60..10 Hz: 1..6 ticks, and past the
 * prediction bound). After every frame the decoder holds exactly the
 * particles of the view's tiles, at exactly the server's codes. Also:
 * encodes are shared.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ViewDecoder } from '../../../protocol/view-decoder.js';
import { gridBitsFor, tileHolds } from '../../../protocol/view-grid.js';
import { type ClientView, TileEncoder } from '../../../src/tile-encoder.js';

type Rect = { x: number; y: number; w: number; h: number };

interface Step {
  /** Per particle: [dx, dy] in codes; big ones cross tiles, any wraps the seam. */
  moves: [number, number][];
  spawn: number;
  /** A new view, the whole world (null), or the last view again, panned by [dx, dy] units. */
  view: Rect | null | [number, number];
  /** Frames the server skips before this one (a lower rate, or backpressure). */
  gap: number;
}

const WORLD = 1000;

function stepArb(maxParticles: number): fc.Arbitrary<Step> {
  const move = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(fc.integer({ min: -12, max: 12 }), fc.integer({ min: -12, max: 12 })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.integer({ min: -20000, max: 20000 }),
        fc.integer({ min: -20000, max: 20000 }),
      ),
    },
  );
  const size = fc.double({ min: 1, max: WORLD, noNaN: true });
  const at = fc.double({ min: 0, max: WORLD - 0.001, noNaN: true });
  return fc.record({
    moves: fc.array(move, { minLength: maxParticles, maxLength: maxParticles }),
    spawn: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 20 }) },
    ),
    view: fc.oneof(
      { weight: 3, arbitrary: fc.record({ x: at, y: at, w: size, h: size }) },
      { weight: 1, arbitrary: fc.constant(null) },
      // Held views (panning or still) reach deltas and second-order chunks.
      {
        weight: 5,
        arbitrary: fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: -40, max: 40 })),
      },
    ),
    gap: fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }) },
      { weight: 1, arbitrary: fc.integer({ min: 250, max: 300 }) },
    ),
  });
}

/** `rect` moved by [dx, dy] units on the torus. */
const pan = (rect: Rect, [dx, dy]: [number, number]): Rect => ({
  ...rect,
  x: (rect.x + dx + WORLD) % WORLD,
  y: (rect.y + dy + WORLD) % WORLD,
});

/** A step that keeps every particle nearly still and views a quarter of the world. */
const HELD_VIEW_STEP: Step = {
  moves: Array.from({ length: 80 }, (_, i): [number, number] => [i % 3, -(i % 2)]),
  spawn: 0,
  view: { x: 100, y: 100, w: 500, h: 500 },
  gap: 0,
};

describe('TileEncoder → ViewDecoder', () => {
  for (const bits of [6, 14, 16]) {
    it(`round-trips random frames and view changes at ${bits} bits`, () => {
      /** Frames whose chunks were deltas, and second-order ones: the property must reach them. */
      let deltaFrames = 0;
      let secondOrderFrames = 0;
      const B = 2 ** bits;
      const g = gridBitsFor(bits);
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 60 }),
          fc.array(stepArb(80), { minLength: 1, maxLength: 12 }),
          fc.integer({ min: 0, max: 2 ** 31 }),
          (initial, steps, seed) => {
            let rand = seed;
            const next = () => (rand = (rand * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
            let positions = new Uint16Array(2 * initial);
            for (let j = 0; j < positions.length; j++) positions[j] = Math.floor(next() * B);
            const encoder = new TileEncoder(bits, WORLD, 8);
            const decoder = new ViewDecoder(bits);
            let tick = 0;
            type Frame = { tick: number; count: number; positions: Uint16Array };
            let sent: Frame | undefined;
            /** The frame sent before `sent` (the feed's priorSeq). */
            let prior: Frame | undefined;
            let view: ClientView | undefined;
            let rect = null as Rect | null;
            for (const step of steps) {
              const count = positions.length / 2 + step.spawn;
              const moved = new Uint16Array(2 * count);
              for (let i = 0; i < count; i++) {
                if (2 * i < positions.length) {
                  const [dx, dy] = step.moves[i % step.moves.length];
                  moved[2 * i] = (((positions[2 * i] + dx) % B) + B) % B;
                  moved[2 * i + 1] = (((positions[2 * i + 1] + dy) % B) + B) % B;
                } else {
                  moved[2 * i] = Math.floor(next() * B);
                  moved[2 * i + 1] = Math.floor(next() * B);
                }
              }
              positions = moved;
              tick += 1 + step.gap;
              const frame = { tick, count, positions };
              if (Array.isArray(step.view)) {
                // Pan the last view (a whole-world client stays whole-world).
                if (rect) rect = pan(rect, step.view);
              } else rect = step.view;
              if (!rect) {
                // Whole world: the client forgets its view; the next one starts afresh.
                // (Its ViewDecoder is not reset: the lobby client's is not either.)
                view = undefined;
                prior = sent;
                sent = frame;
                continue;
              }
              const tiles = encoder.cover(rect);
              view = {
                tiles,
                held: view?.held ?? new Set(),
                priorHeld: view?.priorHeld ?? new Set(),
              };
              const encoded = encoder.encode(view, frame, sent, prior);
              decoder.apply(tick, encoded.base, count, encoded.data, encoded.prior);
              if (encoded.base !== undefined) deltaFrames++;
              if (encoded.prior !== undefined) secondOrderFrames++;
              view.priorHeld = view.held;
              view.held = encoded.held;
              // As the feed: after a frame of keys only, no prior is named.
              prior = encoded.base !== undefined ? sent : undefined;
              sent = frame;
              for (let i = 0; i < count; i++) {
                const x = positions[2 * i];
                const y = positions[2 * i + 1];
                const inView = tiles.some((t) => tileHolds(t, x, y, bits, g));
                expect(decoder.present[i]).toBe(inView ? 1 : 0);
                if (inView) {
                  expect(decoder.positions[2 * i]).toBe(x);
                  expect(decoder.positions[2 * i + 1]).toBe(y);
                }
              }
              expect(decoder.count).toBe(count);
            }
          },
        ),
        // Always among the runs: a view held six frames running (a
        // first-order delta, then four second-order ones), so reaching them
        // never rests on chance (at 6 bits random runs reached none once in CI).
        { numRuns: 60, examples: [[40, Array(6).fill(HELD_VIEW_STEP), 7]] },
      );
      expect(deltaFrames).toBeGreaterThan(bits === 6 ? 0 : 5);
      expect(secondOrderFrames).toBeGreaterThan(bits === 6 ? 0 : 2);
    });
  }

  it('encodes each tile once per (tile, prior, base, tick) for every client that needs it', () => {
    const counts = { key: 0, delta: 0 };
    const encoder = new TileEncoder(14, WORLD, 8, (kind) => counts[kind]++);
    const positions = new Uint16Array(2 * 5000);
    // Spread over the world (codes j·7919 put every particle on one line, missing the view).
    let rand = 7;
    for (let j = 0; j < positions.length; j++) {
      rand = (rand * 1103515245 + 12345) % 2 ** 31;
      positions[j] = rand >>> 17;
    }
    const f1 = { tick: 1, count: 5000, positions };
    const f2 = { tick: 2, count: 5000, positions: positions.map((v) => (v + 3) % 16384) };
    const rect = { x: 900, y: 10, w: 316, h: 316 };
    const a: ClientView = { tiles: encoder.cover(rect), held: new Set(), priorHeld: new Set() };
    const b: ClientView = { tiles: encoder.cover(rect), held: new Set(), priorHeld: new Set() };
    const ka = encoder.encode(a, f1, undefined);
    const kb = encoder.encode(b, f1, undefined);
    expect(ka.held.size).toBeGreaterThan(20);
    expect(counts.key).toBe(ka.held.size);
    expect(kb.data).toEqual(ka.data);
    a.held = ka.held;
    b.held = kb.held;
    const da = encoder.encode(a, f2, f1);
    const db = encoder.encode(b, f2, f1);
    expect(counts.delta).toBe(ka.held.size);
    expect(da.prior).toBeUndefined();
    expect(db.data).toEqual(da.data);
    // Both held the tiles at f1 and f2: second-order chunks, again one encode per tile.
    const f3 = { tick: 3, count: 5000, positions: f2.positions.map((v) => (v + 3) % 16384) };
    for (const [view, sent] of [
      [a, da],
      [b, db],
    ] as const) {
      view.priorHeld = view.held;
      view.held = sent.held;
    }
    const sa = encoder.encode(a, f3, f2, f1);
    const sb = encoder.encode(b, f3, f2, f1);
    expect(sa.prior).toBe(1);
    expect(sb.data).toEqual(sa.data);
    expect(counts.delta).toBe(2 * ka.held.size);
    // A client that did not hold the tiles at f1 shares the first-order chunks instead.
    const c: ClientView = { tiles: a.tiles, held: a.held, priorHeld: new Set() };
    expect(encoder.encode(c, f3, f2, f1).prior).toBeUndefined();
    expect(counts.delta).toBe(3 * ka.held.size);
  });
});
