/**
 * The compression codecs of Kafka's record formats, by the id stored in a batch's attribute bits 0-2
 * (Kafka `CompressionType`). Each codec writes exactly the framing Kafka's Java client writes, and reads
 * every framing real producers emit (see each codec's file).
 *
 * The interface is small and synchronous on purpose (STYLE 18): record iteration is a synchronous
 * generator, and every backend here (node:zlib, snappy, lz4, zstd-napi) has a synchronous call that runs
 * in a few microseconds per 100 KiB batch, cheaper than a thread-pool round trip.
 */

/** Kafka's codec ids. */
export const CompressionType = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;

/** A codec name, as users pass it in options. */
export type CompressionName = keyof typeof CompressionType;

/** A codec id, 0-4. */
export type CompressionId = (typeof CompressionType)[CompressionName];

/** What a decompressor needs to know beyond the bytes. */
export interface DecompressContext {
  /**
   * The magic byte of the batch or wrapper message. LZ4 data from magic v0 carries Kafka's pre-0.10
   * header checksum (computed over the frame magic too), which readers of v0 must not verify.
   */
  readonly magic: number;
  /** Stop with a `CompressionError` once the output would pass this many bytes (a decompression bomb). */
  readonly maxBytes: number;
}

/** Options for compression. */
export interface CompressOptions {
  /**
   * Codec-specific level, validated against Kafka's topic-config ranges: gzip 1-9 (or -1), lz4 1-17,
   * zstd -131072..22; snappy has none. An out-of-range level is an `InvalidArgumentError`.
   * @defaultValue the codec's Kafka default (gzip -1 = zlib's 6, lz4 9, zstd 3)
   */
  readonly level?: number;
  /**
   * The magic byte of the batch or wrapper message being written. Only lz4 uses it: for magic 0 it writes
   * the pre-0.10 header checksum (over the frame magic too, header `04 22 4D 18 60 40 1A`), as Kafka's
   * writer does for v0 messages, so that pre-0.10 readers, which verify that broken checksum, accept it.
   * @defaultValue 2 (the correct checksum)
   */
  readonly magic?: number;
}

/**
 * Compression started before its input is complete, by a writer that appends to one buffer (the record
 * batch builder): once `claimBytes` are written it calls {@link claim} (which readies a second thread;
 * false: no second thread, go on without), then {@link publish} with the buffer and the bytes final so
 * far, again each time the bytes written reach the position `publish` returned (`Infinity`: no more),
 * and once everything is written {@link CompressionCodec.compressInto} with the same buffer, which uses
 * the work done meanwhile when the input is the same memory as the last `publish` and redoes it
 * otherwise. From the first `publish` until `compressInto` or {@link cancel} returns, every buffer
 * published from must stay referenced and its published bytes unchanged: another thread reads them. A
 * writer that gives up in between calls `cancel`.
 */
export interface CompressAhead {
  readonly claimBytes: number;
  /** Inputs expected to stay below this size gain nothing from the pipeline: the writer skips it. */
  readonly worthBytes: number;
  claim(): boolean;
  publish(input: Uint8Array, end: number): number;
  cancel(): void;
}

/**
 * One codec. Implementations are frozen objects, stateless apart from lazily loaded native bindings (and
 * zstd's reused contexts), and synchronous.
 */
export interface CompressionCodec {
  readonly id: CompressionId;
  readonly name: CompressionName;
  /**
   * Compresses `input` in Kafka's framing for this codec. The result may be a view into a larger buffer
   * (lz4, zstd) or, for `none`, `input` itself: copy it into the batch rather than keeping it.
   * @throws InvalidArgumentError (`ERR_INVALID_ARGUMENT`) for a level outside the codec's Kafka range.
   * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`) when the codec's native module fails to load.
   */
  compress(input: Uint8Array, options?: CompressOptions): Uint8Array;
  /**
   * Most bytes {@link compressInto} writes for `inputBytes` of input. Present with `compressInto` only.
   */
  compressBound?(inputBytes: number): number;
  /**
   * Compresses `input` into `output` from `offset` on (which must have `compressBound(input.byteLength)`
   * bytes of room) and returns the end of what it wrote: the record batch builder compresses straight
   * behind a batch header in a reused buffer, with no allocation and no copy. Optional: codecs whose
   * library only returns new buffers leave it out, and callers fall back to {@link compress}.
   */
  compressInto?(input: Uint8Array, output: Uint8Array, offset: number, options?: CompressOptions): number;
  /**
   * For a codec of independent blocks (lz4): a way to start compressing the input while the rest of it is
   * still being written, or `undefined` when this codec, level or platform has none. The record batch
   * builder uses it; see {@link CompressAhead}.
   */
  compressAhead?(options?: CompressOptions): CompressAhead | undefined;
  /**
   * Decompresses a whole stream (`input` may be a view at any offset). Output never exceeds
   * `context.maxBytes`, and hostile input makes no codec allocate more than about twice that, apart from
   * libzstd's streaming window (at most 128 MiB, its default limit; see zstd.ts).
   * @throws CompressionError (`ERR_COMPRESSION`, with `position` in `input` where known) on any framing,
   * length, checksum or data error, on a truncated stream, and on output above `context.maxBytes`.
   * @throws UnsupportedCodecError (`ERR_UNSUPPORTED_CODEC`) when the codec's native module fails to load.
   */
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array;
}
