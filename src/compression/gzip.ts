/**
 * Codec 1: gzip (RFC 1952), from `node:zlib` (built in, so nothing to load lazily).
 *
 * ```text
 *  member   1F 8B · CM 08 (deflate) · FLG · MTIME int32 LE · XFL · OS · [FEXTRA][FNAME][FCOMMENT][FHCRC]
 *           · deflate data · CRC-32 of the content int32 LE · ISIZE (content length mod 2^32) int32 LE
 *  stream   member, member, ...     (Kafka writes one; RFC 1952 allows several back to back)
 * ```
 *
 * Writing: Kafka's `GZIPOutputStream` writes one member; so does zlib. The bytes differ from Java's only in
 * the header's OS byte and in deflate choices, which every reader ignores. Level 1-9, or -1 for zlib's
 * default (6), Kafka's default.
 *
 * Reading is member-concatenation safe: zlib decodes every member in turn (as Java's `GZIPInputStream`
 * does), verifies each member's CRC-32 and ISIZE, and `maxOutputLength` bounds the total over all
 * members, so a bomb split across many members stops at the bound like one member does; zlib allocates
 * at most that much. After the last member, zero padding is skipped; any other trailing bytes fail with
 * `ERR_COMPRESSION`. That is stricter than `GZIPInputStream`, which stops silently at bytes that do not
 * form a member header: inside a CRC-checked batch such bytes can only come from a writer bug, and
 * dropping them silently would hide it.
 */
import { constants as bufferConstants } from 'node:buffer';
import zlib from 'node:zlib';
import { CompressionError } from '../errors.js';
import type { CompressionCodec, CompressOptions, DecompressContext } from './codec.js';
import { resolveLevel, type LevelRange } from './level.js';

/** Kafka's `compression.gzip.level`: 1-9, or -1 (`Deflater.DEFAULT_COMPRESSION`, zlib's level 6). */
const GZIP_LEVELS: LevelRange = { codec: 'gzip', min: 1, max: 9, default: -1, alsoAllowed: -1 };

function gzip(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
  return zlib.gzipSync(input, { level: resolveLevel(GZIP_LEVELS, options.level) });
}

function gunzip(input: Uint8Array, context: DecompressContext): Uint8Array {
  // zlib wants 1 <= maxOutputLength <= kMaxLength; a bound of 0 is enforced after the call instead.
  const maxOutputLength = Math.min(Math.max(context.maxBytes, 1), bufferConstants.MAX_LENGTH);
  let out: Buffer;
  try {
    out = zlib.gunzipSync(input, { maxOutputLength });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CompressionError(`gzip: output exceeds the decompression limit of ${context.maxBytes} bytes`, {
        expected: context.maxBytes,
        cause: error,
      });
    }
    throw new CompressionError(`gzip: ${(error as Error).message}`, { cause: error });
  }
  if (out.byteLength > context.maxBytes) {
    throw new CompressionError(`gzip: output exceeds the decompression limit of ${context.maxBytes} bytes`, {
      expected: context.maxBytes,
      actual: out.byteLength,
    });
  }
  return out;
}

/** The gzip codec (id 1). Stateless; `node:zlib` is part of Node, so nothing loads on first use. */
export const gzipCodec: CompressionCodec = Object.freeze({
  id: 1,
  name: 'gzip',
  compress: gzip,
  decompress: gunzip,
});
