/**
 * Codec 2: snappy, via the `snappy` package (native, loaded on first use).
 *
 * Kafka's Java client writes xerial snappy-java's stream framing (`SnappyOutputStream`), which seglog
 * writes too:
 *
 * ```text
 *  header   82 53 4E 41 50 50 59 00 · version int32 BE (1) · min compatible version int32 BE (1)
 *  blocks   compressed length int32 BE · raw snappy block (of at most 32 KiB of input), repeated
 * ```
 *
 * Readers accept that framing (with headers repeated mid-stream, as concatenated streams have) and also
 * raw snappy without a header, which non-Java clients (sarama, librdkafka) write for v2 batches: input
 * that does not start with the magic is one raw block. Every raw block starts with its uncompressed
 * length as a varint, which is checked against the output bound before anything is allocated.
 */
import { CompressionError } from '../errors.js';
import type { CompressionCodec, DecompressContext } from './codec.js';
import { lazyModule } from './native.js';

interface SnappyBinding {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer;
}

const snappy = lazyModule<SnappyBinding>('snappy', 'snappy');

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
const XERIAL_HEADER_BYTES = XERIAL_MAGIC.length + 4 + 4;
const BLOCK_LENGTH_BYTES = 4;
/** snappy-java's default block size: 32 KiB of input per block. */
const XERIAL_BLOCK_INPUT_BYTES = 32 * 1024;

function startsWithMagic(input: Uint8Array, at: number): boolean {
  if (input.byteLength - at < XERIAL_MAGIC.length) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (input[at + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length a raw snappy block declares (unsigned varint), or -1 if unreadable. */
function declaredLength(block: Uint8Array): number {
  let value = 0;
  for (let i = 0, scale = 1; i < 5 && i < block.byteLength; i++, scale *= 128) {
    value += (block[i]! & 0x7f) * scale;
    if (block[i]! < 0x80) return value;
  }
  return -1;
}

function uncompressBlock(block: Uint8Array, budget: number): Buffer {
  const length = declaredLength(block);
  if (length < 0) throw new CompressionError('snappy: unreadable block length');
  if (length > budget) throw new CompressionError(`snappy: block of ${length} bytes exceeds the decompression limit`);
  try {
    return snappy().uncompressSync(block, { asBuffer: true });
  } catch (error) {
    throw new CompressionError(`snappy: ${(error as Error).message}`, { cause: error });
  }
}

function compressXerial(input: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, XERIAL_MAGIC.length);
  header.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, XERIAL_MAGIC.length + 4);
  parts.push(header);
  for (let at = 0; at < input.byteLength; at += XERIAL_BLOCK_INPUT_BYTES) {
    const block = snappy().compressSync(input.subarray(at, Math.min(at + XERIAL_BLOCK_INPUT_BYTES, input.byteLength)));
    const length = Buffer.alloc(BLOCK_LENGTH_BYTES);
    length.writeInt32BE(block.byteLength, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function decompressXerial(input: Uint8Array, maxBytes: number): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const blocks: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (at < input.byteLength) {
    if (startsWithMagic(input, at)) {
      if (input.byteLength - at < XERIAL_HEADER_BYTES) throw new CompressionError('snappy: truncated xerial header');
      at += XERIAL_HEADER_BYTES;
      continue;
    }
    if (input.byteLength - at < BLOCK_LENGTH_BYTES) throw new CompressionError('snappy: truncated block length');
    const length = view.getInt32(at);
    at += BLOCK_LENGTH_BYTES;
    if (length < 0 || at + length > input.byteLength) throw new CompressionError(`snappy: block length ${length} runs past the input`);
    const block = uncompressBlock(input.subarray(at, at + length), maxBytes - total);
    total += block.byteLength;
    blocks.push(block);
    at += length;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total);
}

export const snappyCodec: CompressionCodec = Object.freeze({
  id: 2,
  name: 'snappy',
  compress: (input: Uint8Array) => compressXerial(input),
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array {
    if (startsWithMagic(input, 0)) return decompressXerial(input, context.maxBytes);
    return uncompressBlock(input, context.maxBytes);
  },
});
