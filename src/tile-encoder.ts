/**
 * One lobby's view path (viewport subscriptions): the tile index of each
 * frame, built only when some client has a view and at most once per tick,
 * and the per-tile chunks, encoded once per (tile, tick) as keys and once
 * per (tile, prior, base, tick) as deltas (first order: no prior) and
 * shared by every client that needs them. A client's view frame is its tiles' chunks, assembled per client
 * (a copy of a few hundred bytes; the encodes are what is shared).
 *
 * The byte layout and the position coding are protocol/'s (view-codec.ts).
 */
import {
  assembleViewData,
  buildTileIndex,
  canPredict,
  encodeTileDelta,
  encodeTileKey,
  frameDataTail,
  gridBitsFor,
  holdsTile,
  type TileIndex,
  tileCover,
  tileMembers,
  type EncodedChunk,
  type ViewChunk,
  type ViewRect,
} from '../protocol/index.js';
import type { EpochFrame } from './frame-encoder.js';

export type TileEncodeKind = 'key' | 'delta';
/** Every kind of tile encode (a label of swarmhost_tile_encodes_total). */
export const TILE_ENCODE_KINDS: readonly TileEncodeKind[] = ['key', 'delta'];

/** A client's subscription: the tiles covering its view, and those its last view frame held. */
export interface ClientView {
  /** Ascending tile ids. */
  tiles: readonly number[];
  /**
   * Tiles of the last view frame sent (non-empty ones): a tile they cover
   * (itself, its parent, or all four children) is sent as a delta chunk.
   */
  held: Set<number>;
  /**
   * Tiles of the view frame sent before that one (empty if that frame was
   * not a view frame): a delta chunk for a tile these cover too is second
   * order, against the prior frame.
   */
  priorHeld: Set<number>;
}

export interface EncodedView {
  /** The base tick of its delta chunks; undefined when every chunk is a key. */
  base: number | undefined;
  /** The prior tick of its second-order delta chunks; undefined when it has none. */
  prior: number | undefined;
  /** The frame's `data` (view layout), and the same as the msgpack tail of a frame message. */
  data: Uint8Array;
  tail: Uint8Array;
  /** The tiles this frame holds: the client's `held` once it is sent. */
  held: Set<number>;
  /** Particles in it. */
  particles: number;
}

/** The memo key of key chunks; deltas are keyed by deltaKey. */
const KEY = -1;

/**
 * Memo key of a delta chunk: the base tick and the prior's gap behind it
 * (1..255; 0 for first order) in one number, as FrameEncoder keys its
 * payloads. Exact while base ticks stay below 2**45.
 */
const deltaKey = (base: number, gap: number): number => base * 256 + gap;

export class TileEncoder {
  readonly #bits: number;
  readonly #g: number;
  readonly #worldSize: number;
  readonly #keep: number;
  readonly #onEncode: (kind: TileEncodeKind, seconds: number) => void;
  /** Tile index by "epoch:tick", oldest first (insertion order). */
  #indexes = new Map<string, TileIndex>();
  #tick = Number.NaN;
  /** This tick's chunk bodies: by deltaKey(base, prior gap) (KEY for keys), then by tile. */
  #chunks = new Map<number, Map<number, EncodedChunk>>();

  /**
   * @param keep tile indexes to keep: the frame ring's length, so any base
   *   still in the ring finds its index without rebuilding it.
   */
  constructor(
    bits: number,
    worldSize: number,
    keep: number,
    onEncode: (kind: TileEncodeKind, seconds: number) => void = () => {},
  ) {
    this.#bits = bits;
    this.#g = gridBitsFor(bits);
    this.#worldSize = worldSize;
    this.#keep = Math.max(2, keep);
    this.#onEncode = onEncode;
  }

  /** The tiles covering `rect` (a client's subscription). */
  cover(rect: ViewRect): number[] {
    return tileCover(rect, this.#worldSize, this.#g);
  }

  /**
   * `frame` as `view` needs it: a delta chunk for each tile it held at
   * `base` (when base is usable), second order when it held it at `prior`
   * too (the frame it was sent before base, when prior can predict), a key
   * chunk for the others, nothing for tiles with no particles.
   */
  encode(
    view: ClientView,
    frame: EpochFrame,
    base: EpochFrame | undefined,
    prior?: EpochFrame,
  ): EncodedView {
    if (frame.tick !== this.#tick) {
      this.#chunks.clear();
      this.#tick = frame.tick;
    }
    const usable =
      base !== undefined &&
      view.held.size > 0 &&
      (base.epoch ?? 0) === (frame.epoch ?? 0) &&
      base.tick < frame.tick &&
      base.count <= frame.count;
    const predict =
      usable &&
      prior !== undefined &&
      view.priorHeld.size > 0 &&
      (prior.epoch ?? 0) === (frame.epoch ?? 0) &&
      canPredict(prior, base, frame);
    const index = this.#index(frame);
    const baseIndex = usable ? this.#index(base) : undefined;
    const priorIndex = predict ? this.#index(prior) : undefined;
    const chunks: ViewChunk[] = [];
    const held = new Set<number>();
    let particles = 0;
    let deltas = false;
    let secondOrder = false;
    for (const tile of view.tiles) {
      const members = index.start[tile + 1] - index.start[tile];
      if (members === 0) continue;
      particles += members;
      held.add(tile);
      if (baseIndex && holdsTile(view.held, tile, this.#g)) {
        deltas = true;
        const fromPrior = priorIndex !== undefined && holdsTile(view.priorHeld, tile, this.#g);
        if (fromPrior) secondOrder = true;
        chunks.push({
          tile,
          ...this.#delta(tile, base!, baseIndex, frame, index, fromPrior ? prior : undefined),
        });
      } else {
        chunks.push({ tile, ...this.#key(tile, frame, index) });
      }
    }
    // The frame's tiles are coded against those the client held at base.
    const heldAtBase = deltas ? [...view.held].sort((a, b) => a - b) : [];
    const data = assembleViewData(this.#g, chunks, heldAtBase);
    return {
      base: deltas ? base!.tick : undefined,
      prior: secondOrder ? prior!.tick : undefined,
      data,
      tail: frameDataTail(data),
      held,
      particles,
    };
  }

  #key(tile: number, frame: EpochFrame, index: TileIndex): EncodedChunk {
    return this.#memo(KEY, tile, 'key', () =>
      encodeTileKey(frame.positions, tileMembers(index, tile), this.#width(tile), frame.count),
    );
  }

  /** Bits of a tile-local code: coarse tiles are g bits a side, fine ones g + 1. */
  #width(tile: number): number {
    return this.#bits - (tile < 1 << (2 * this.#g) ? this.#g : this.#g + 1);
  }

  #delta(
    tile: number,
    base: EpochFrame,
    baseIndex: TileIndex,
    frame: EpochFrame,
    index: TileIndex,
    prior: EpochFrame | undefined,
  ): EncodedChunk {
    const g0 = prior ? base.tick - prior.tick : 0;
    return this.#memo(deltaKey(base.tick, g0), tile, 'delta', () =>
      encodeTileDelta(
        base.positions,
        tileMembers(baseIndex, tile),
        frame.positions,
        tileMembers(index, tile),
        this.#bits,
        this.#width(tile),
        frame.count,
        prior && {
          positions: prior.positions,
          members: tileMembers(this.#index(prior), tile),
          g0,
          g1: frame.tick - base.tick,
        },
      ),
    );
  }

  #memo(key: number, tile: number, kind: TileEncodeKind, encode: () => EncodedChunk): EncodedChunk {
    let byTile = this.#chunks.get(key);
    if (!byTile) this.#chunks.set(key, (byTile = new Map()));
    const cached = byTile.get(tile);
    if (cached) return cached;
    const started = performance.now();
    const body = encode();
    this.#onEncode(kind, (performance.now() - started) / 1000);
    byTile.set(tile, body);
    return body;
  }

  /** The frame's tile index, built on first use and kept for `keep` frames. */
  #index(frame: EpochFrame): TileIndex {
    const key = `${frame.epoch ?? 0}:${frame.tick}`;
    const cached = this.#indexes.get(key);
    if (cached) return cached;
    const index = buildTileIndex(frame.positions, frame.count, this.#bits, this.#g);
    this.#indexes.set(key, index);
    if (this.#indexes.size > this.#keep) {
      this.#indexes.delete(this.#indexes.keys().next().value as string);
    }
    return index;
  }
}
