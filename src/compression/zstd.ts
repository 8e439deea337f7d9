/**
 * Codec 4: zstd, standard zstd frames (Kafka writes them with zstd-jni), via `zstd-napi` (native, loaded on
 * first use; Node 20's zlib has no zstd). Level 3 by default, Kafka's default.
 *
 * Bounded decompression: a frame that declares its content size is checked against the bound before the
 * output is allocated; frames without one are streamed into chunks, stopping once the bound is passed.
 */
import { CompressionError } from '../errors.js';
import type { CompressionCodec, CompressOptions, DecompressContext } from './codec.js';
import { lazyModule } from './native.js';

interface DCtx {
  decompress(out: Uint8Array, input: Uint8Array): number;
  decompressStream(out: Uint8Array, input: Uint8Array): [number, number, number];
}
interface ZstdBinding {
  DCtx: new () => DCtx;
  getFrameContentSize(frame: Uint8Array): number | null;
  findFrameCompressedSize(frame: Uint8Array): number;
}
interface ZstdModule {
  compress(input: Uint8Array, parameters?: { compressionLevel?: number }): Buffer;
}

const zstd = lazyModule<ZstdModule>('zstd-napi', 'zstd');
const binding = lazyModule<ZstdBinding>('zstd-napi/binding', 'zstd');
const DEFAULT_LEVEL = 3;
const STREAM_CHUNK_BYTES = 128 * 1024;

/** Sum of the frames' declared content sizes, or null if a frame does not declare one. */
function declaredSize(input: Uint8Array): number | null {
  let total = 0;
  let frame = input;
  while (frame.byteLength > 0) {
    const size = binding().getFrameContentSize(frame);
    if (size === null) return null;
    total += size;
    frame = frame.subarray(binding().findFrameCompressedSize(frame));
  }
  return total;
}

function decompressBounded(input: Uint8Array, maxBytes: number): Uint8Array {
  const known = declaredSize(input);
  const dctx = new (binding().DCtx)();
  if (known !== null) {
    if (known > maxBytes) throw new CompressionError(`zstd: content of ${known} bytes exceeds the decompression limit`);
    const out = Buffer.allocUnsafe(known);
    if (dctx.decompress(out, input) !== known) throw new CompressionError('zstd: content shorter than declared');
    return out;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  let rest = input;
  while (rest.byteLength > 0) {
    const chunk = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
    const [, produced, consumed] = dctx.decompressStream(chunk, rest);
    if (produced === 0 && consumed === 0) throw new CompressionError('zstd: truncated frame');
    total += produced;
    if (total > maxBytes) throw new CompressionError('zstd: output exceeds the decompression limit');
    chunks.push(chunk.subarray(0, produced));
    rest = rest.subarray(consumed);
  }
  return Buffer.concat(chunks, total);
}

export const zstdCodec: CompressionCodec = Object.freeze({
  id: 4,
  name: 'zstd',
  compress(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
    return zstd().compress(input, { compressionLevel: options.level ?? DEFAULT_LEVEL });
  },
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array {
    try {
      return decompressBounded(input, context.maxBytes);
    } catch (error) {
      if (error instanceof CompressionError) throw error;
      throw new CompressionError(`zstd: ${(error as Error).message}`, { cause: error });
    }
  },
});
