/**
 * The msgpack envelope: one binary WebSocket message holds one msgpack map.
 * Plain maps only (no msgpackr records or structures), so any msgpack
 * implementation can talk to us. Bulk particle data rides inside as one bin.
 */
import { Packr, Unpackr } from 'msgpackr';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Encodes a message. The result is a fresh view safe to hold and send. */
export function encodeMessage(message: object): Uint8Array {
  return packr.pack(message);
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** Decodes one message; never throws (undecodable bytes are a close 1007 upstream). */
export function decodeMessage(bytes: Uint8Array): Decoded {
  try {
    return { ok: true, value: unpackr.unpack(bytes) };
  } catch (error) {
    return { ok: false, reason: `undecodable msgpack: ${(error as Error).message}` };
  }
}
