/**
 * A lobby checkpoint as bytes for Redis, and back. One msgpack map (plain
 * maps, as on the wire) whose particle arrays ride as raw little-endian
 * float32 bins: 16 bytes a particle, copied once each way. Decoding checks
 * every field and length, so a checkpoint from another version, a bad
 * write or a hostile Redis is refused (the lobby starts from its seed,
 * counted) instead of resuming a broken world.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { LobbyCheckpoint } from '../../lobbies/index.js';

/** Bumped whenever the layout changes: an older or newer checkpoint is refused, not misread. */
export const CHECKPOINT_FORMAT = 1;

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
});

// Float32Arrays are written in the machine's byte order; every platform we
// ship on is little-endian, and a big-endian one must not silently misread.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
  throw new Error('checkpoint-codec: big-endian platforms are not supported');

const bytesOf = (array: Float32Array): Uint8Array =>
  new Uint8Array(array.buffer, array.byteOffset, array.byteLength);

export function encodeCheckpoint(checkpoint: LobbyCheckpoint): Uint8Array {
  const { world } = checkpoint;
  return packr.pack({
    format: CHECKPOINT_FORMAT,
    id: checkpoint.id,
    seed: checkpoint.seed,
    tick: checkpoint.tick,
    epoch: checkpoint.epoch,
    size: world.size,
    count: world.count,
    prngState: world.prngState,
    steps: world.steps,
    x: bytesOf(world.x),
    y: bytesOf(world.y),
    vx: bytesOf(world.vx),
    vy: bytesOf(world.vy),
    forces: world.forces,
    pendingSpawns: checkpoint.pendingSpawns,
  });
}

export type DecodedCheckpoint =
  | { ok: true; checkpoint: LobbyCheckpoint }
  | { ok: false; reason: string };

/**
 * Decodes and validates; never throws. `maxParticles` and `worldSize` are
 * this instance's: a world of another size cannot continue here.
 */
export function decodeCheckpoint(
  bytes: Uint8Array,
  expectedId: string,
  maxParticles: number,
  worldSize?: number,
): DecodedCheckpoint {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    return { ok: false, reason: `undecodable: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null) return { ok: false, reason: 'not a map' };
  const v = value as Record<string, unknown>;
  if (v.format !== CHECKPOINT_FORMAT)
    return { ok: false, reason: `format ${String(v.format)}, expected ${CHECKPOINT_FORMAT}` };
  if (v.id !== expectedId) return { ok: false, reason: `it is lobby ${String(v.id)}'s` };
  for (const field of ['seed', 'tick', 'epoch', 'count', 'prngState', 'steps'] as const) {
    const n = v[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      return { ok: false, reason: `${field} is not a non-negative integer` };
  }
  if (typeof v.size !== 'number' || !(v.size > 0) || !Number.isFinite(v.size))
    return { ok: false, reason: 'size is not a positive number' };
  if (worldSize !== undefined && v.size !== worldSize)
    return { ok: false, reason: `its world is ${v.size} wide, this instance's ${worldSize}` };
  const count = v.count as number;
  if (count > maxParticles)
    return {
      ok: false,
      reason: `${count} particles exceed this instance's cap of ${maxParticles}`,
    };
  const arrays: Float32Array[] = [];
  for (const field of ['x', 'y', 'vx', 'vy'] as const) {
    const raw = v[field];
    if (!(raw instanceof Uint8Array) || raw.byteLength !== count * 4)
      return { ok: false, reason: `${field} does not hold ${count} float32s` };
    // A copy into a buffer of its own: the decoder's bins are views into one
    // buffer, maybe unaligned (and a Buffer's slice() would not copy).
    arrays.push(new Float32Array(new Uint8Array(raw).buffer));
  }
  const forces = v.forces as LobbyCheckpoint['world']['forces'] | undefined;
  if (
    typeof forces !== 'object' ||
    forces === null ||
    !['owners', 'x', 'y', 'sign'].every((key) =>
      Array.isArray((forces as unknown as Record<string, unknown>)[key]),
    )
  )
    return { ok: false, reason: 'forces are malformed' };
  const spawns = v.pendingSpawns;
  if (
    !Array.isArray(spawns) ||
    !spawns.every(
      (spawn) =>
        typeof spawn === 'object' &&
        spawn !== null &&
        Number.isFinite(spawn.x) &&
        Number.isFinite(spawn.y) &&
        Number.isInteger(spawn.count) &&
        spawn.count >= 0,
    )
  )
    return { ok: false, reason: 'pending spawns are malformed' };
  const [x, y, vx, vy] = arrays;
  return {
    ok: true,
    checkpoint: {
      id: expectedId,
      seed: v.seed as number,
      tick: v.tick as number,
      epoch: v.epoch as number,
      world: {
        size: v.size,
        count,
        prngState: v.prngState as number,
        steps: v.steps as number,
        x,
        y,
        vx,
        vy,
        forces,
      },
      pendingSpawns: spawns as LobbyCheckpoint['pendingSpawns'],
    },
  };
}
