/**
 * Codec 3: lz4, in the LZ4 frame format (v1.5.1) as Kafka writes it (`Lz4BlockOutputStream`), over the
 * block codec and xxHash32 of the `lz4` package (node-lz4, native, loaded on first use). At the default
 * (fast) level, frames are written by seglog's addon instead (native/lz4-frame.c), from the same LZ4
 * sources and to the same bytes, with its blocks split between this thread and the addon's worker; the
 * record batch builder's pipeline through the addon cuts the blocks of a large batch differently (16 KiB,
 * 32 KiB, then 64 KiB, the tail in one or two; see {@link AHEAD}), which any reader accepts.
 *
 * ```text
 *  offset  size  field
 *       0     4  magic 04 22 4D 18   0x184D2204 little-endian (the only little-endian field in Kafka's formats)
 *       4     1  FLG                 bits 7-6 version (01) · 5 block independence · 4 block checksum
 *                                    · 3 content size · 2 content checksum · 1-0 reserved (0)
 *       5     1  BD                  bit 7 reserved · bits 6-4 block max size id (4-7) · bits 3-0 reserved
 *      (6     8  content size, int64 LE, if FLG bit 3; readers skip it)
 *    6|14     1  HC                  (xxh32(FLG .. end of descriptor, seed 0) >> 8) & 0xFF
 *                blocks              size int32 LE, high bit set = stored uncompressed · data
 *                                    · [xxh32(data) int32 LE if FLG bit 4], repeated
 *                end mark            00 00 00 00 · [xxh32(content) int32 LE if FLG bit 2]
 *
 *  Kafka writes FLG 0x60 (version 01, independent blocks, nothing optional), BD 0x40 (64 KiB blocks):
 *  header 04 22 4D 18 60 40 82
 * ```
 *
 * Header checksum quirk: Kafka before 0.10 computed HC over the frame magic too (bytes 0..5, giving header
 * `04 22 4D 18 60 40 1A`; KAFKA-3160, KIP-57). Readers of magic v0 data therefore skip the HC check and
 * v1/v2 readers verify it, as Kafka's do; `compress` writes the quirk when `options.magic` is 0.
 *
 * Readers accept what Kafka's `Lz4BlockInputStream` accepts: block sizes 64 KiB to 4 MiB, a content size
 * (skipped, as Kafka does), block checksums (verified). A content checksum is verified too, where Kafka
 * reads it without checking (KAFKA-20528 proposes checking it): a mismatch means the decompressed content
 * is wrong, which no batch CRC would catch because the CRC covers the compressed bytes. Dependent blocks,
 * dictionary ids, reserved bits and bytes after the end of the frame are rejected.
 *
 * Bounds: each block may hold at most the BD block size, and at most 255 times its compressed size (an
 * LZ4 sequence cannot expand more: each extra match-length byte adds at most 255 output bytes), so the
 * output buffer is sized from the block headers, capped at `maxBytes`, before anything is decompressed.
 */
import { nativeAddon, type Addon } from '../addon.js';
import { CompressionError } from '../errors.js';
import type { CompressAhead, CompressionCodec, CompressOptions, DecompressContext } from './codec.js';
import { resolveLevel, type LevelRange } from './level.js';
import { lazyModule, wrapLibraryErrors } from './native.js';

/** node-lz4's `lib/utils.js`: its native block codec and its native xxHash32 (seed 0). */
interface Lz4Module {
  readonly bindings: {
    compressBound(size: number): number;
    compress(input: Uint8Array, output: Uint8Array): number;
    compressHC(input: Uint8Array, output: Uint8Array): number;
    uncompress(input: Uint8Array, output: Uint8Array): number;
  };
  blockChecksum(data: Uint8Array): number;
}

const lz4 = lazyModule<Lz4Module>({ specifier: 'lz4/lib/utils.js', codec: 'lz4', packageName: 'lz4' });

const MAGIC = 0x184d2204;
const MAGIC_BYTES = 4;
const FLG_OFFSET = 4;
const BD_OFFSET = 5;
const DESCRIPTOR_OFFSET = FLG_OFFSET;
const CONTENT_SIZE_OFFSET = 6;
const CONTENT_SIZE_BYTES = 8;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
/** Bit 1 is reserved; bit 0 is the dictionary-id flag of later frame versions, which Kafka rejects too. */
const FLG_RESERVED = 0x03;
const BD_BLOCK_SIZE_SHIFT = 4;
const BD_RESERVED = 0x8f;
const BLOCK_SIZE_BYTES = 4;
const CHECKSUM_BYTES = 4;
const END_MARK_BYTES = 4;
const UNCOMPRESSED_FLAG = 0x8000_0000;
/** Block max sizes by BD id 4-7: 64 KiB, 256 KiB, 1 MiB, 4 MiB (ids 0-3 are undefined). */
const BLOCK_MAX_BYTES: readonly number[] = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
/** Most output bytes one input byte of an LZ4 block can produce (a 0xFF match-length byte). */
const EXPANSION_MAX = 255;
/** What Kafka writes: FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB). */
const KAFKA_FLG = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENCE;
const KAFKA_BD = 4 << BD_BLOCK_SIZE_SHIFT;
const KAFKA_BLOCK_BYTES = 64 << 10;
const KAFKA_HEADER_BYTES = BD_OFFSET + 2;
/**
 * Kafka's `compression.lz4.level` is 1-17, default 9; level 9 uses lz4-java's fast compressor, any other
 * level its HC compressor. node-lz4 0.6.5's `compressHC` binding ignores the level it is given (it reads
 * argument 4 but accepts at most 3), so every non-9 level compresses at LZ4HC's default level, 9.
 */
const LZ4_LEVELS: LevelRange = { codec: 'lz4', min: 1, max: 17, default: 9 };
const FAST_LEVEL = 9;

function fail(message: string, position: number, details: { expected?: unknown; actual?: unknown } = {}): never {
  throw new CompressionError(`lz4: ${message} (at byte ${position})`, { position, ...details });
}

function xxhash32(data: Uint8Array): number {
  return lz4().blockChecksum(data) >>> 0;
}

/** HC over `descriptor` (FLG .. end of descriptor), or over the magic too for the pre-0.10 quirk. */
function headerChecksum(frame: Uint8Array, descriptorEnd: number, legacy: boolean): number {
  return (xxhash32(frame.subarray(legacy ? 0 : DESCRIPTOR_OFFSET, descriptorEnd)) >>> 8) & 0xff;
}

/**
 * LZ4's bound for one 64 KiB block, `LZ4_COMPRESSBOUND(65536)` of lz4.h (n + n / 255 + 16): what node-lz4's
 * `compressBound(65536)` and the addon's `lz4FrameBound` use (test/compression/lz4-native.test.ts checks).
 */
const KAFKA_BLOCK_BOUND = KAFKA_BLOCK_BYTES + Math.floor(KAFKA_BLOCK_BYTES / 255) + 16;
/** The most input the addon's frame compressor takes in one call (native/lz4-frame.c INPUT_BYTES_MAX). */
const NATIVE_INPUT_BYTES_MAX = 1 << 30;

/** Most bytes a Kafka LZ4 frame of `inputBytes` takes: header, every block at the library's bound, end mark. */
function frameBound(inputBytes: number): number {
  const blocks = Math.ceil(inputBytes / KAFKA_BLOCK_BYTES);
  return KAFKA_HEADER_BYTES + blocks * (BLOCK_SIZE_BYTES + KAFKA_BLOCK_BOUND) + END_MARK_BYTES;
}

function writeUint32LE(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = value >>> 24;
}

/**
 * Writes a Kafka LZ4 frame (header `04 22 4D 18 60 40 82`, or `... 1A` for magic 0) of `input` into `out`
 * from `start`, which has {@link frameBound} bytes of room; returns the end.
 */
function compressFrameInto(input: Uint8Array, out: Uint8Array, start: number, options: CompressOptions = {}): number {
  const level = resolveLevel(LZ4_LEVELS, options.level);
  // The addon writes the same frame with the same LZ4 block compressor, its blocks split between this
  // thread and its worker (native/lz4-frame.c: ~1.4x the records/s for a 1000 x 100 B batch).
  const addon = level === FAST_LEVEL && input.byteLength <= NATIVE_INPUT_BYTES_MAX ? frameAddon() : undefined;
  if (addon !== undefined) return addon.lz4CompressFrame(input, 0, input.byteLength, out, start, options.magic === 0);
  return compressFrameWithLibrary(input, out, start, level, options.magic === 0);
}

/**
 * The incompressible-block test of native/lz4-frame.c (`looks_incompressible`, where the numbers are
 * explained): a block of at least 8 KiB whose first 2 KiB LZ4's fast compressor shrinks by less than 64
 * bytes is stored as it is. Both paths apply it, so they write the same frame.
 */
const SAMPLE_BYTES = 2048;
const SAMPLE_SAVED_MIN = 64;
const SAMPLE_BLOCK_MIN = 8 << 10;

/** True when `block` looks incompressible by its sample; `scratch` has the block's room. */
function looksIncompressible(block: Uint8Array, scratch: Uint8Array): boolean {
  if (block.byteLength < SAMPLE_BLOCK_MIN) return false;
  const sampled = lz4().bindings.compress(block.subarray(0, SAMPLE_BYTES), scratch);
  return sampled <= 0 || sampled > SAMPLE_BYTES - SAMPLE_SAVED_MIN;
}

/** {@link compressFrameInto} over node-lz4's block codecs (no addon, or an HC level). */
function compressFrameWithLibrary(input: Uint8Array, out: Uint8Array, start: number, level: number, legacy: boolean): number {
  const { bindings } = lz4();
  writeUint32LE(out, start, MAGIC);
  out[start + FLG_OFFSET] = KAFKA_FLG;
  out[start + BD_OFFSET] = KAFKA_BD;
  out[start + KAFKA_HEADER_BYTES - 1] = headerChecksum(out.subarray(start), KAFKA_HEADER_BYTES - 1, legacy);
  let at = start + KAFKA_HEADER_BYTES;
  for (let from = 0; from < input.byteLength; from += KAFKA_BLOCK_BYTES) {
    const chunk = input.subarray(from, Math.min(from + KAFKA_BLOCK_BYTES, input.byteLength));
    const target = out.subarray(at + BLOCK_SIZE_BYTES);
    const n = looksIncompressible(chunk, target) ? 0 : level === FAST_LEVEL ? bindings.compress(chunk, target) : bindings.compressHC(chunk, target);
    if (n > 0 && n < chunk.byteLength) {
      writeUint32LE(out, at, n);
      at += BLOCK_SIZE_BYTES + n;
    } else {
      // Kafka stores a block uncompressed when compression does not shrink it (`compressedLength >= size`).
      writeUint32LE(out, at, (chunk.byteLength | UNCOMPRESSED_FLAG) >>> 0);
      out.set(chunk, at + BLOCK_SIZE_BYTES);
      at += BLOCK_SIZE_BYTES + chunk.byteLength;
    }
  }
  writeUint32LE(out, at, 0);
  return at + END_MARK_BYTES;
}

/**
 * Starting block 0 while the batch builder writes the rest (native/lz4-frame.c): measured on a 1000 x
 * 100 B batch, block 0's records are written ~55-75 us into its ~120 us of encoding, and block 0 then
 * compresses on the worker while this thread writes the rest of the records and compresses block 1, so
 * the frame is done ~30-45 us after the encoding instead of ~100-150 us. The worker is woken at 40 KiB,
 * ~25 us of encoding before block 0 is ready, so its ~35-50 us wake-up is mostly hidden too.
 */
const AHEAD: CompressAhead = Object.freeze({
  claimBytes: 4 << 10,
  worthBytes: KAFKA_BLOCK_BYTES + (32 << 10),
  claim: () => frameAddon()!.lz4BesideClaim(),
  publish: (input: Uint8Array, end: number) => {
    const next = frameAddon()!.lz4BesidePublish(input, end);
    return next < 0 ? Infinity : next;
  },
  cancel: () => frameAddon()!.lz4BesideCancel(),
});

/** The addon when it has the frame compressor (not a build older than it). */
function frameAddon(): Addon | undefined {
  const addon = nativeAddon();
  return addon?.lz4CompressFrame === undefined ? undefined : addon;
}

/** A Kafka LZ4 frame of `input` in a new buffer (a view of the used part). */
function compressFrame(input: Uint8Array, options: CompressOptions = {}): Uint8Array {
  const out = Buffer.allocUnsafe(frameBound(input.byteLength));
  return out.subarray(0, compressFrameInto(input, out, 0, options));
}

interface FrameHeader {
  readonly flags: number;
  readonly blockMaxBytes: number;
  /** Position of the first block. */
  readonly dataStart: number;
}

function readHeader(input: Uint8Array, magic: number): FrameHeader {
  if (input.byteLength < KAFKA_HEADER_BYTES) fail('truncated frame header', 0);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail(`bad frame magic 0x${view.getUint32(0, true).toString(16)}`, 0, { expected: MAGIC });
  const flags = input[FLG_OFFSET]!;
  const bd = input[BD_OFFSET]!;
  if ((flags & FLG_VERSION_MASK) !== FLG_VERSION_01) fail(`unsupported frame version in FLG 0x${flags.toString(16)}`, FLG_OFFSET);
  if ((flags & FLG_BLOCK_INDEPENDENCE) === 0) fail('dependent blocks are not supported (Kafka rejects them too)', FLG_OFFSET);
  if ((flags & FLG_RESERVED) !== 0) fail(`reserved bits set in FLG 0x${flags.toString(16)}`, FLG_OFFSET);
  if ((bd & BD_RESERVED) !== 0) fail(`reserved bits set in BD 0x${bd.toString(16)}`, BD_OFFSET);
  const blockMaxBytes = BLOCK_MAX_BYTES[bd >> BD_BLOCK_SIZE_SHIFT] ?? 0;
  if (blockMaxBytes === 0) fail(`unsupported block size id ${bd >> BD_BLOCK_SIZE_SHIFT}`, BD_OFFSET);
  const descriptorEnd = CONTENT_SIZE_OFFSET + ((flags & FLG_CONTENT_SIZE) !== 0 ? CONTENT_SIZE_BYTES : 0);
  if (input.byteLength <= descriptorEnd) fail('truncated frame descriptor', CONTENT_SIZE_OFFSET);
  // Pre-0.10 Kafka hashed the magic too (KAFKA-3160); v0 readers skip the check, as Kafka's do.
  if (magic > 0) {
    const stored = input[descriptorEnd]!;
    const expected = headerChecksum(input, descriptorEnd, false);
    if (stored !== expected) {
      const message = `header checksum mismatch: got ${stored.toString(16)}, expected ${expected.toString(16)}`;
      fail(message, descriptorEnd, { expected, actual: stored });
    }
  }
  return { flags, blockMaxBytes, dataStart: descriptorEnd + 1 };
}

/** One data block of a frame. */
interface Block {
  readonly position: number;
  readonly data: Uint8Array;
  readonly stored: boolean;
  /** Most bytes the block can decompress to. */
  readonly bound: number;
}

/** Walks the blocks up to the end mark, checking sizes and block checksums; returns them and the end. */
function readBlocks(input: Uint8Array, header: FrameHeader): { blocks: Block[]; end: number } {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const withChecksum = (header.flags & FLG_BLOCK_CHECKSUM) !== 0;
  const blocks: Block[] = [];
  let at = header.dataStart;
  for (;;) {
    if (input.byteLength - at < BLOCK_SIZE_BYTES) fail('truncated block size (no end mark)', at);
    const word = view.getUint32(at, true);
    if (word === 0) return { blocks, end: at + END_MARK_BYTES };
    const size = (word & ~UNCOMPRESSED_FLAG) >>> 0;
    const start = at + BLOCK_SIZE_BYTES;
    if (size > header.blockMaxBytes) {
      fail(`block size ${size} exceeds the frame's ${header.blockMaxBytes}`, at, { expected: header.blockMaxBytes, actual: size });
    }
    if (size > input.byteLength - start) fail(`block size ${size} runs past the input`, at, { actual: size });
    const data = input.subarray(start, start + size);
    at = start + size;
    if (withChecksum) {
      if (input.byteLength - at < CHECKSUM_BYTES) fail('truncated block checksum', at);
      if (view.getUint32(at, true) !== xxhash32(data)) fail('block checksum mismatch', at);
      at += CHECKSUM_BYTES;
    }
    const stored = (word & UNCOMPRESSED_FLAG) !== 0;
    blocks.push({ position: start, data, stored, bound: stored ? size : Math.min(header.blockMaxBytes, size * EXPANSION_MAX) });
  }
}

/** Checks the optional content checksum and that nothing follows the frame. */
function readTrailer(input: Uint8Array, header: FrameHeader, end: number, content: Uint8Array): void {
  let at = end;
  if ((header.flags & FLG_CONTENT_CHECKSUM) !== 0) {
    if (input.byteLength - at < CHECKSUM_BYTES) fail('truncated content checksum', at);
    const stored = new DataView(input.buffer, input.byteOffset + at, CHECKSUM_BYTES).getUint32(0, true);
    if (stored !== xxhash32(content)) fail('content checksum mismatch', at);
    at += CHECKSUM_BYTES;
  }
  if (at !== input.byteLength) fail(`${input.byteLength - at} bytes after the end of the frame`, at);
}

/**
 * The frame reader. Two passes: the first walks the block headers (sizes, block checksums, output bound),
 * the second decompresses every block straight into one output buffer, so a Kafka batch costs one
 * allocation and no concatenating copy (it was three allocations and a copy for a 110 KB batch). With the
 * addon, its `lz4DecompressFrame` (native/lz4-decode.c: the same passes in one call, 1.03-1.05x on a
 * 1000 x 100 B batch read) takes the frames Kafka's writers produce first; this runs for the others and
 * for every bad frame, and is the one place that names what is wrong.
 */
function decompressFrame(input: Uint8Array, context: DecompressContext): Uint8Array {
  const header = readHeader(input, context.magic);
  const { blocks, end } = readBlocks(input, header);
  let bound = 0;
  for (const block of blocks) bound += block.bound;
  const capacity = Math.min(bound, context.maxBytes);
  const out = Buffer.allocUnsafe(capacity);
  const { bindings } = lz4();
  let total = 0;
  for (const block of blocks) {
    const room = Math.min(capacity - total, block.bound);
    if (block.stored) {
      if (block.data.byteLength > room) {
        fail(`output exceeds the decompression limit of ${context.maxBytes} bytes`, block.position, { expected: context.maxBytes });
      }
      out.set(block.data, total);
      total += block.data.byteLength;
      continue;
    }
    const n = bindings.uncompress(block.data, out.subarray(total, total + room));
    if (n < 0) {
      const limited = room < block.bound;
      const cause = limited ? `corrupt block, or output above the decompression limit of ${context.maxBytes} bytes` : 'corrupt block';
      fail(cause, block.position);
    }
    total += n;
  }
  // A bound far above the output (a 4 MiB-block frame from another writer holding 100 KB) would pin the
  // whole buffer behind the returned view; one copy releases it. Not below 256 KiB: the pipeline's frames
  // (16, 32 KiB blocks, a tail in two) bound a ~108 KB batch at 256 KiB, and with the copy the lz4 decode
  // bench fell to 2.7-3.3 M records/s in five runs (3.2-5.5 M in three after this); at most ~160 KiB stays
  // pinned. Kafka's 64 KiB frames never take this.
  const copy = total * 2 < capacity && capacity > 4 * KAFKA_BLOCK_BYTES;
  const content = copy ? Buffer.from(out.subarray(0, total)) : out.subarray(0, total);
  readTrailer(input, header, end, content);
  return content;
}

/** The lz4 codec (id 3): writes Kafka's LZ4 frame, reads any frame Kafka's reader accepts. */
export const lz4Codec: CompressionCodec = Object.freeze({
  id: 3,
  name: 'lz4',
  compress: (input: Uint8Array, options?: CompressOptions) => compressFrame(input, options),
  compressBound: frameBound,
  compressInto: (input: Uint8Array, output: Uint8Array, offset: number, options?: CompressOptions) =>
    compressFrameInto(input, output, offset, options),
  compressAhead: (options?: CompressOptions) =>
    resolveLevel(LZ4_LEVELS, options?.level) === FAST_LEVEL && frameAddon() !== undefined ? AHEAD : undefined,
  decompress: (input: Uint8Array, context: DecompressContext) =>
    nativeAddon()?.lz4DecompressFrame?.(input, context.maxBytes) ?? wrapLibraryErrors('lz4', () => decompressFrame(input, context)),
});
