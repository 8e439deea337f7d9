/**
 * Codec 1: gzip (RFC 1952), from `node:zlib`. Kafka writes one gzip member with `GZIPOutputStream`; readers
 * accept concatenated members too (zlib does). Level 1-9, default zlib's 6 (Kafka's -1). Output past the
 * caller's bound stops zlib (`maxOutputLength`), so a gzip bomb costs at most that much memory.
 */
import zlib from 'node:zlib';
import { CompressionError } from '../errors.js';
import type { CompressionCodec, CompressOptions, DecompressContext } from './codec.js';

export const gzipCodec: CompressionCodec = Object.freeze({
  id: 1,
  name: 'gzip',
  compress(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
    return zlib.gzipSync(input, options.level === undefined ? {} : { level: options.level });
  },
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array {
    try {
      return zlib.gunzipSync(input, { maxOutputLength: context.maxBytes });
    } catch (error) {
      throw new CompressionError(`gzip: ${(error as Error).message}`, { cause: error });
    }
  },
});
