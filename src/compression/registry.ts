/**
 * Codecs by Kafka id and by name. The table is a frozen array indexed by id: there is no process-wide
 * registration to mutate (STYLE 18; KafkaJS's mutable `Codecs` map is the thing avoided). Importing this
 * module loads no native code: each codec loads its native module on its first use.
 */
import { assert } from '../assert.js';
import { UnsupportedCodecError } from '../errors.js';
import { CompressionType, type CompressionCodec, type CompressionId, type CompressionName } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { noneCodec } from './none.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

/** Indexed by Kafka id; the order is checked below so a reordering cannot silently swap codecs. */
const kCodecs: readonly CompressionCodec[] = Object.freeze([noneCodec, gzipCodec, snappyCodec, lz4Codec, zstdCodec]);

for (const [id, codec] of kCodecs.entries()) {
  assert(codec.id === id && CompressionType[codec.name] === id, `codec table out of order at id ${id}`);
}

/**
 * The codec with Kafka id `id` (the batch attributes' bits 0-2).
 *
 * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`, `actual` = the id) for ids other than 0-4.
 * @example
 * ```ts
 * const codec = codecById(3); // lz4
 * const payload = codec.decompress(codec.compress(Buffer.from('hi')), { magic: 2, maxBytes: 1 << 20 });
 * ```
 */
export function codecById(id: number): CompressionCodec {
  const codec = Number.isInteger(id) ? kCodecs[id] : undefined;
  if (codec === undefined) throw new UnsupportedCodecError(`unknown compression codec id ${id}`, { expected: '0..4', actual: id });
  return codec;
}

/**
 * The codec named `name` (`'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'`).
 *
 * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`) for any other string (from untyped callers).
 * @example
 * ```ts
 * const gzip = codecByName('gzip');
 * ```
 */
export function codecByName(name: CompressionName): CompressionCodec {
  return codecById(compressionIdOf(name));
}

/**
 * The Kafka id of a codec given by name or by id, for options that accept either.
 *
 * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`, `actual` = the argument) for anything else.
 * @example
 * ```ts
 * compressionIdOf('zstd'); // 4
 * compressionIdOf(1); // 1
 * ```
 */
export function compressionIdOf(codec: CompressionName | CompressionId | number | string): CompressionId {
  if (typeof codec === 'number' && Number.isInteger(codec) && codec >= 0 && codec < kCodecs.length) return codec as CompressionId;
  if (typeof codec === 'string' && Object.hasOwn(CompressionType, codec)) return CompressionType[codec as CompressionName];
  throw new UnsupportedCodecError(`unknown compression codec ${JSON.stringify(codec)}`, {
    expected: Object.keys(CompressionType),
    actual: codec,
  });
}
