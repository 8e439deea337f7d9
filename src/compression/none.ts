/** Codec 0: no compression. */
import type { CompressionCodec } from './codec.js';

export const noneCodec: CompressionCodec = Object.freeze({
  id: 0,
  name: 'none',
  compress: (input: Uint8Array) => input,
  decompress: (input: Uint8Array) => input,
});
