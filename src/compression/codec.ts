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
  /** Codec-specific level; each codec documents its range and default (Kafka's defaults). */
  readonly level?: number;
}

/** One codec. Implementations are stateless apart from lazily loaded native bindings. */
export interface CompressionCodec {
  readonly id: CompressionId;
  readonly name: CompressionName;
  /** Compresses `input` into a new buffer, in Kafka's framing for this codec. */
  compress(input: Uint8Array, options?: CompressOptions): Uint8Array;
  /** Decompresses a whole stream. Throws `CompressionError` on any framing or data error. */
  decompress(input: Uint8Array, context: DecompressContext): Uint8Array;
}
