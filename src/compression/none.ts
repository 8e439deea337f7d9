/**
 * Codec 0: no compression. Both directions return the input itself, not a copy: callers already copy a
 * compressed payload into its batch, so a copy here would be a second, useless one.
 *
 * The decompression bound still applies, so that every codec honours `DecompressContext.maxBytes` the same
 * way, and a caller can rely on it without special-casing codec 0.
 */
import { CompressionError } from '../errors.js';
import type { CompressionCodec, DecompressContext } from './codec.js';

/** The identity codec (id 0). */
export const noneCodec: CompressionCodec = Object.freeze({
  id: 0,
  name: 'none',
  compress: (input: Uint8Array) => input,
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array {
    if (input.byteLength > context.maxBytes) {
      throw new CompressionError(`none: ${input.byteLength} bytes exceed the decompression limit of ${context.maxBytes}`, {
        expected: context.maxBytes,
        actual: input.byteLength,
      });
    }
    return input;
  },
});
