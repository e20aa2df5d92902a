/**
 * The msgpack envelope: one binary WebSocket message holds one msgpack map.
 * Plain maps only (no msgpackr records or structures), so any msgpack
 * implementation can talk to us. Bulk particle data rides inside as one bin.
 */
import { C1, Packr, Unpackr } from 'msgpackr';
import { quoteClientText } from './client-text.js';

const packr = new Packr({ useRecords: false });
// Integers arrive as plain numbers whatever their msgpack width: Python's
// msgpack (and others) write any value >= 2^32 as uint64, which msgpackr
// would otherwise hand over as a BigInt. Beyond 2^53 precision is lost,
// which range checks then refuse as out_of_range.
//
// No structured-clone extensions (0x69/0x70: shared and cyclic references):
// a few hundred bytes of references to references unfold into an
// exponentially large value, and msgpackr's "end of buffer not reached"
// error serialises the whole of it, freezing the process for seconds.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  structuredClone: false,
});

/** Encodes a message. The result is a fresh view safe to hold and send. */
export function encodeMessage(message: object): Uint8Array {
  return packr.pack(message);
}

export type Decoded = { ok: true; value: unknown } | { ok: false; reason: string };

/** Decodes one message; never throws (undecodable bytes are a close 1007 upstream). */
export function decodeMessage(bytes: Uint8Array): Decoded {
  try {
    const value: unknown = unpackr.unpack(bytes);
    // 0xc1 is the one byte msgpack never uses; msgpackr hands back a marker
    // object for it instead of failing.
    if (value === C1 || (isMap(value) && Object.values(value).includes(C1))) {
      return { ok: false, reason: 'undecodable msgpack: reserved byte 0xc1' };
    }
    return { ok: true, value };
  } catch (error) {
    // The decoder's message may quote the bytes it choked on: escape it.
    return {
      ok: false,
      reason: `undecodable msgpack: ${quoteClientText(String((error as Error)?.message), 64)}`,
    };
  }
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !ArrayBuffer.isView(value);
