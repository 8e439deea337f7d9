/**
 * Codec 2: snappy, via the `snappy` package (napi-rs, native, loaded on first use).
 *
 * Kafka's Java client writes xerial snappy-java's stream framing (`SnappyOutputStream`), and so does
 * seglog, byte for byte:
 *
 * ```text
 *  offset  size  field
 *       0     8  magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0")
 *       8     4  version, int32 BE = 1
 *      12     4  minimum compatible version, int32 BE = 1
 *      16     4  block length L, int32 BE          ┐ repeated; each block holds at most 32 KiB of input
 *      20     L  raw snappy block                  ┘ (snappy-java's default block size)
 *
 *  raw snappy block = uncompressed length (unsigned varint, <= 5 bytes) · tagged literals and copies
 * ```
 *
 * Readers accept, as snappy-java's `SnappyInputStream` does:
 * - the xerial framing, with a header repeated mid-stream (two streams concatenated);
 * - raw snappy without any header, which non-Java clients (sarama, librdkafka, KafkaJS) write for v2
 *   batches: input that does not start with the magic is one raw block.
 * The header's version fields are not checked (snappy-java rejects a version below 1; no writer emits one).
 *
 * Bounds: every block length is checked against the bytes that remain, and every raw block's declared
 * uncompressed length (its leading varint) is summed and checked against `maxBytes` before anything is
 * decompressed or allocated, so a bomb costs one pass over the block headers.
 */
import { CompressionError } from '../errors.js';
import type { CompressionCodec, DecompressContext } from './codec.js';
import { lazyModule, wrapLibraryErrors } from './native.js';

interface SnappyBinding {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, options: { asBuffer: true }): Buffer;
}

const snappy = lazyModule<SnappyBinding>({ specifier: 'snappy', codec: 'snappy', packageName: 'snappy' });

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_VERSION_OFFSET = XERIAL_MAGIC.byteLength;
const XERIAL_MIN_COMPATIBLE_OFFSET = XERIAL_VERSION_OFFSET + 4;
const XERIAL_HEADER_BYTES = XERIAL_MIN_COMPATIBLE_OFFSET + 4;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
const BLOCK_LENGTH_BYTES = 4;
/** snappy-java's default block size: 32 KiB of input per block. */
const XERIAL_BLOCK_INPUT_BYTES = 32 * 1024;
/** A raw block's uncompressed length is a uint32 varint: at most 5 bytes. */
const LENGTH_VARINT_BYTES_MAX = 5;

/** One raw snappy block of a stream: where it is, and the uncompressed length it declares. */
interface RawBlock {
  readonly start: number;
  readonly end: number;
  readonly declaredBytes: number;
}

function fail(message: string, position: number, details: { expected?: unknown; actual?: unknown } = {}): never {
  throw new CompressionError(`snappy: ${message} (at byte ${position})`, { position, ...details });
}

function startsWithMagic(input: Uint8Array, at: number): boolean {
  if (input.byteLength - at < XERIAL_MAGIC.byteLength) return false;
  for (let i = 0; i < XERIAL_MAGIC.byteLength; i++) if (input[at + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The uncompressed length that the raw block at `start..end` declares (its leading uint32 varint). */
function declaredLength(input: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = 0, scale = 1; i < LENGTH_VARINT_BYTES_MAX && start + i < end; i++, scale *= 128) {
    const byte = input[start + i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value > 0xffff_ffff ? fail(`block length varint ${value} exceeds uint32`, start) : value;
  }
  return fail('unreadable block length varint', start);
}

/** Decompresses one raw block, whose declared length the caller has already bounded. */
function uncompressBlock(input: Uint8Array, block: RawBlock): Buffer {
  const data = input.subarray(block.start, block.end);
  const out = wrapLibraryErrors('snappy', () => snappy().uncompressSync(data, { asBuffer: true }), block.start);
  if (out.byteLength !== block.declaredBytes) {
    fail('block decompressed to a length other than it declares', block.start, { expected: block.declaredBytes, actual: out.byteLength });
  }
  return out;
}

function checkBound(total: number, maxBytes: number, position: number): void {
  if (total > maxBytes) {
    fail(`output of ${total} bytes exceeds the decompression limit of ${maxBytes}`, position, { expected: maxBytes, actual: total });
  }
}

/**
 * Walks a xerial stream's headers and block lengths without decompressing anything: every length must fit
 * in the bytes that remain, and the declared uncompressed lengths must add up to at most `maxBytes`.
 */
function xerialBlocks(input: Uint8Array, maxBytes: number): { blocks: RawBlock[]; total: number } {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const blocks: RawBlock[] = [];
  let total = 0;
  let at = 0;
  while (at < input.byteLength) {
    if (startsWithMagic(input, at)) {
      // A header mid-stream: two xerial streams were concatenated; snappy-java skips it the same way.
      if (input.byteLength - at < XERIAL_HEADER_BYTES) fail('truncated xerial header', at);
      at += XERIAL_HEADER_BYTES;
      continue;
    }
    if (input.byteLength - at < BLOCK_LENGTH_BYTES) fail('truncated block length', at);
    const length = view.getInt32(at);
    const start = at + BLOCK_LENGTH_BYTES;
    if (length <= 0 || length > input.byteLength - start) {
      fail(`block length ${length} does not fit in the ${input.byteLength - start} bytes that remain`, at, { actual: length });
    }
    const declaredBytes = declaredLength(input, start, start + length);
    total += declaredBytes;
    checkBound(total, maxBytes, start);
    blocks.push({ start, end: start + length, declaredBytes });
    at = start + length;
  }
  return { blocks, total };
}

function decompressXerial(input: Uint8Array, maxBytes: number): Uint8Array {
  const { blocks, total } = xerialBlocks(input, maxBytes);
  if (blocks.length === 1) return uncompressBlock(input, blocks[0]!);
  // The library only returns fresh buffers, so each block is copied once into the exactly-sized output.
  const out = Buffer.allocUnsafe(total);
  let written = 0;
  for (const block of blocks) {
    out.set(uncompressBlock(input, block), written);
    written += block.declaredBytes;
  }
  return out;
}

function decompressRaw(input: Uint8Array, maxBytes: number): Uint8Array {
  const block: RawBlock = { start: 0, end: input.byteLength, declaredBytes: declaredLength(input, 0, input.byteLength) };
  checkBound(block.declaredBytes, maxBytes, 0);
  return uncompressBlock(input, block);
}

/** Writes the xerial framing: the 16-byte header, then one length-prefixed raw block per 32 KiB of input. */
function compressXerial(input: Uint8Array): Uint8Array {
  const blocks: Buffer[] = [];
  let total = XERIAL_HEADER_BYTES;
  for (let at = 0; at < input.byteLength; at += XERIAL_BLOCK_INPUT_BYTES) {
    const block = snappy().compressSync(input.subarray(at, Math.min(at + XERIAL_BLOCK_INPUT_BYTES, input.byteLength)));
    blocks.push(block);
    total += BLOCK_LENGTH_BYTES + block.byteLength;
  }
  const out = Buffer.allocUnsafe(total);
  out.set(XERIAL_MAGIC, 0);
  out.writeInt32BE(XERIAL_VERSION, XERIAL_VERSION_OFFSET);
  out.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, XERIAL_MIN_COMPATIBLE_OFFSET);
  let at = XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    out.writeInt32BE(block.byteLength, at);
    out.set(block, at + BLOCK_LENGTH_BYTES);
    at += BLOCK_LENGTH_BYTES + block.byteLength;
  }
  return out;
}

/** The snappy codec (id 2): writes xerial framing, reads xerial framing or raw snappy. */
export const snappyCodec: CompressionCodec = Object.freeze({
  id: 2,
  name: 'snappy',
  compress: (input: Uint8Array) => compressXerial(input),
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array {
    return startsWithMagic(input, 0) ? decompressXerial(input, context.maxBytes) : decompressRaw(input, context.maxBytes);
  },
});
