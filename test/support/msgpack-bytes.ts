/**
 * msgpack written byte by byte, for messages a msgpack library would never
 * produce: an integer in exactly the width asked for (a uint64 holding 1, a
 * negative int8), whatever the smallest encoding would be.
 */

export const INT_WIDTHS = [
  'fixint',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'int8',
  'int16',
  'int32',
  'int64',
] as const;
export type IntWidth = (typeof INT_WIDTHS)[number];

/** Which widths can hold `value`. */
export function widthsFor(value: bigint): IntWidth[] {
  const fits: Record<IntWidth, [bigint, bigint]> = {
    fixint: [-32n, 127n],
    uint8: [0n, 0xffn],
    uint16: [0n, 0xffffn],
    uint32: [0n, 0xffff_ffffn],
    uint64: [0n, 0xffff_ffff_ffff_ffffn],
    int8: [-0x80n, 0x7fn],
    int16: [-0x8000n, 0x7fffn],
    int32: [-0x8000_0000n, 0x7fff_ffffn],
    int64: [-0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn],
  };
  return INT_WIDTHS.filter((w) => value >= fits[w][0] && value <= fits[w][1]);
}

/** One msgpack integer in the given width. */
export function packInt(width: IntWidth, value: bigint): Buffer {
  const b = Buffer.alloc(9);
  switch (width) {
    case 'fixint':
      return Buffer.from([Number(BigInt.asUintN(8, value))]);
    case 'uint8':
      return Buffer.from([0xcc, Number(value)]);
    case 'uint16':
      b[0] = 0xcd;
      b.writeUInt16BE(Number(value), 1);
      return b.subarray(0, 3);
    case 'uint32':
      b[0] = 0xce;
      b.writeUInt32BE(Number(value), 1);
      return b.subarray(0, 5);
    case 'uint64':
      b[0] = 0xcf;
      b.writeBigUInt64BE(value, 1);
      return b;
    case 'int8':
      return Buffer.from([0xd0, Number(BigInt.asUintN(8, value))]);
    case 'int16':
      b[0] = 0xd1;
      b.writeInt16BE(Number(value), 1);
      return b.subarray(0, 3);
    case 'int32':
      b[0] = 0xd2;
      b.writeInt32BE(Number(value), 1);
      return b.subarray(0, 5);
    case 'int64':
      b[0] = 0xd3;
      b.writeBigInt64BE(value, 1);
      return b;
  }
}

/** A msgpack string (str8/str16 as its UTF-8 length needs). */
export function packString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < 32) return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
  if (bytes.length < 256) return Buffer.concat([Buffer.from([0xd9, bytes.length]), bytes]);
  const head = Buffer.from([0xda, 0, 0]);
  head.writeUInt16BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/**
 * A msgpack map of string keys; a value is a string, a finite JS number
 * (packed as float64) or bytes already packed (packInt's output).
 */
export function packMap(entries: Record<string, string | number | Buffer>): Buffer {
  const keys = Object.keys(entries);
  const parts: Buffer[] = [Buffer.from([0x80 | keys.length])];
  for (const key of keys) {
    parts.push(packString(key));
    const value = entries[key];
    if (Buffer.isBuffer(value)) parts.push(value);
    else if (typeof value === 'string') parts.push(packString(value));
    else {
      const f = Buffer.alloc(9);
      f[0] = 0xcb;
      f.writeDoubleBE(value, 1);
      parts.push(f);
    }
  }
  return Buffer.concat(parts);
}
