/**
 * The per-frame codecs bench:compression compares: each compresses one
 * frame's payload on its own (no state across frames, so the result can be
 * shared by every client that gets that (base, tick)) and decompresses it
 * as a client would. Only node:zlib: deflate raw, brotli, and zstd where
 * the running Node has it (zlib.zstdCompressSync, Node 22.15+/23.8+).
 */
import zlib from 'node:zlib';

export interface Codec {
  name: string;
  compress(data: Uint8Array): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
}

/** The identity: the row every ratio is taken against. */
export const NONE: Codec = { name: 'none', compress: (d) => d, decompress: (d) => d };

/**
 * Brotli's window, log2 bytes. Low, as the issue asks: a frame is at most
 * 4 B x particles (40 KB at 10k), so a larger window finds nothing more and
 * costs the client memory.
 */
const BROTLI_LGWIN = 16;

/** zstd in node:zlib (Node >= 22.15); @types/node 20 does not declare it. */
interface ZstdZlib {
  zstdCompressSync(data: Uint8Array, options: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(data: Uint8Array): Buffer;
  constants: { ZSTD_c_compressionLevel: number };
}

/** The zstd functions of this Node, or undefined before they existed. */
export function nodeZstd(): ZstdZlib | undefined {
  const z = zlib as unknown as Partial<ZstdZlib>;
  return typeof z.zstdCompressSync === 'function' &&
    typeof z.zstdDecompressSync === 'function' &&
    z.constants?.ZSTD_c_compressionLevel !== undefined
    ? (z as ZstdZlib)
    : undefined;
}

export interface CodecChoice {
  deflateLevels: readonly number[];
  brotliQualities: readonly number[];
  zstdLevels: readonly number[];
}

/** Every codec of `choice` this Node can run, `none` first. */
export function perFrameCodecs(choice: CodecChoice): Codec[] {
  const codecs: Codec[] = [NONE];
  for (const level of choice.deflateLevels)
    codecs.push({
      name: `deflate-${level}`,
      compress: (d) => zlib.deflateRawSync(d, { level }),
      decompress: (d) => zlib.inflateRawSync(d),
    });
  // Bit-packed deltas hold few repeats for LZ77 to find; what deflate saves
  // on them is mostly its Huffman stage, which this row prices alone.
  codecs.push({
    name: 'deflate huffman-only',
    compress: (d) => zlib.deflateRawSync(d, { level: 1, strategy: zlib.constants.Z_HUFFMAN_ONLY }),
    decompress: (d) => zlib.inflateRawSync(d),
  });
  for (const quality of choice.brotliQualities)
    codecs.push({
      name: `brotli-${quality} (lgwin ${BROTLI_LGWIN})`,
      compress: (d) =>
        zlib.brotliCompressSync(d, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: quality,
            [zlib.constants.BROTLI_PARAM_LGWIN]: BROTLI_LGWIN,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: d.byteLength,
          },
        }),
      decompress: (d) => zlib.brotliDecompressSync(d),
    });
  const zstd = nodeZstd();
  if (zstd)
    for (const level of choice.zstdLevels)
      codecs.push({
        name: `zstd-${level}`,
        compress: (d) =>
          zstd.zstdCompressSync(d, { params: { [zstd.constants.ZSTD_c_compressionLevel]: level } }),
        decompress: (d) => zstd.zstdDecompressSync(d),
      });
  return codecs;
}
