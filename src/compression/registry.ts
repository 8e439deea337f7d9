/**
 * Codecs by Kafka id and by name. The table is frozen: there is no process-wide registration (STYLE 18);
 * each codec loads its native module on first use.
 */
import { UnsupportedCodecError } from '../errors.js';
import { CompressionType, type CompressionCodec, type CompressionId, type CompressionName } from './codec.js';
import { gzipCodec } from './gzip.js';
import { lz4Codec } from './lz4.js';
import { noneCodec } from './none.js';
import { snappyCodec } from './snappy.js';
import { zstdCodec } from './zstd.js';

const kCodecs: readonly CompressionCodec[] = Object.freeze([noneCodec, gzipCodec, snappyCodec, lz4Codec, zstdCodec]);

/** The codec with Kafka id `id`. Throws `ERR_UNSUPPORTED_CODEC` for ids Kafka does not define. */
export function codecById(id: number): CompressionCodec {
  const codec = kCodecs[id];
  if (codec === undefined) throw new UnsupportedCodecError(`unknown compression codec id ${id}`, { actual: id });
  return codec;
}

/** The codec named `name`. */
export function codecByName(name: CompressionName): CompressionCodec {
  return codecById(compressionIdOf(name));
}

/** The Kafka id of a codec given by name or id. Throws `ERR_UNSUPPORTED_CODEC` otherwise. */
export function compressionIdOf(codec: CompressionName | CompressionId | number | string): CompressionId {
  if (typeof codec === 'number' && Number.isInteger(codec) && codec >= 0 && codec < kCodecs.length) return codec as CompressionId;
  if (typeof codec === 'string' && Object.hasOwn(CompressionType, codec)) return CompressionType[codec as CompressionName];
  throw new UnsupportedCodecError(`unknown compression codec ${JSON.stringify(codec)}`, { actual: codec });
}
