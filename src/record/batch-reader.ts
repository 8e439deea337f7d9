/**
 * Frames batches in a buffer (Kafka `ByteBufferLogInputStream` / `FileLogInputStream`): reads the 17 bytes up
 * to the magic byte, checks the declared size, and hands out one batch view per frame, of any magic.
 *
 * Framing decision table (`frameSize`):
 *
 * | bytes left / header                               | result              |
 * | ------------------------------------------------- | ------------------- |
 * | fewer than 17 bytes                               | `FRAME_PARTIAL`     |
 * | size field below the v0 minimum (14), e.g. zeroes | `FRAME_CORRUPT`     |
 * | magic above 2                                     | `FRAME_CORRUPT`     |
 * | v1 below 22 bytes / v2 below the 61-byte header   | `FRAME_CORRUPT`     |
 * | total size above the caller's maximum             | `FRAME_CORRUPT`     |
 * | declared size runs past the end of the buffer     | `FRAME_PARTIAL`     |
 * | otherwise                                         | total size in bytes |
 *
 * A partial frame is a torn tail when it ends a file, and the expected end of a read that stopped mid-batch
 * (Kafka's read contract); whether that is an error is the caller's choice.
 */
import { CorruptRecordError } from '../errors.js';
import { int32At, int64At } from '../int64.js';
import { BATCH_BYTES_MAX } from '../limits.js';
import * as L from './layout.js';
import { LegacyRecordBatch } from './legacy-record-batch.js';
import { DefaultRecordBatch, type BatchSource, type RecordBatch } from './record-batch.js';

/** `frameSize` result: the buffer ends before the batch does. */
export const FRAME_PARTIAL = 0;
/** `frameSize` result: the header cannot start a valid batch. */
export const FRAME_CORRUPT = -1;

/**
 * Total size of the batch starting at `position` (log-entry prefix included), or {@link FRAME_PARTIAL} /
 * {@link FRAME_CORRUPT}. Reads only the header; the CRC is the batch's job.
 */
export function frameSize(bytes: Uint8Array, position: number, end: number, maxBatchBytes: number): number {
  if (end - position < L.HEADER_SIZE_UP_TO_MAGIC) return FRAME_PARTIAL;
  return frameSizeOfHeader(bytes, position, end, maxBatchBytes);
}

function frameSizeOfHeader(bytes: Uint8Array, position: number, end: number, maxBatchBytes: number): number {
  const length = int32At(bytes, position + L.LENGTH_OFFSET);
  const magic = bytes[position + L.MAGIC_OFFSET]!;
  if (length < L.LEGACY_RECORD_OVERHEAD_V0 || magic > L.MAGIC_V2) return FRAME_CORRUPT;
  const total = length + L.LOG_OVERHEAD;
  if (magic === L.MAGIC_V1 && length < L.LEGACY_RECORD_OVERHEAD_V1) return FRAME_CORRUPT;
  if (magic === L.MAGIC_V2 && total < L.RECORD_BATCH_OVERHEAD) return FRAME_CORRUPT;
  if (total > maxBatchBytes) return FRAME_CORRUPT;
  return position + total > end ? FRAME_PARTIAL : total;
}

/** Says why `frameSize` returned {@link FRAME_CORRUPT} at `position`, for error messages. */
export function describeCorruptFrame(bytes: Uint8Array, position: number, maxBatchBytes: number): string {
  const length = int32At(bytes, position + L.LENGTH_OFFSET);
  const magic = bytes[position + L.MAGIC_OFFSET]!;
  if (magic > L.MAGIC_V2) return `unknown magic ${magic}`;
  if (length + L.LOG_OVERHEAD > maxBatchBytes) return `batch size ${length + L.LOG_OVERHEAD} above the limit ${maxBatchBytes}`;
  return `batch length ${length} too small for magic ${magic}`;
}

/** A batch view over `bytes[position, position + size)`, v2 or legacy by its magic byte. */
export function batchAt(bytes: Uint8Array, position: number, size: number, source: BatchSource = {}): RecordBatch {
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset + position, size);
  return bytes[position + L.MAGIC_OFFSET] === L.MAGIC_V2
    ? new DefaultRecordBatch(view, source)
    : new LegacyRecordBatch(view, source);
}

/** Options of {@link decodeBatches}. */
export interface DecodeOptions {
  /** Check each batch's CRC before yielding it. @defaultValue true */
  readonly verifyCrc?: boolean;
  /**
   * Treat a batch cut off by the end of the buffer as the end of the data instead of an error, as Kafka's
   * readers do with fetch responses and file reads that end mid-batch. @defaultValue false
   */
  readonly allowPartialTail?: boolean;
  /** Largest batch accepted. @defaultValue `BATCH_BYTES_MAX` (1 GiB) */
  readonly maxBatchBytes?: number;
  /** File name and the position of `bytes[0]` in it, for error messages. */
  readonly source?: BatchSource;
}

/**
 * Every batch in `bytes`, any magic, lazily: each is framed and (by default) CRC-checked as the iteration
 * reaches it, and its records are parsed only when asked.
 *
 * @throws `ERR_CORRUPT_RECORD` for a bad frame, a bad CRC, or a truncated last batch (unless
 *   `allowPartialTail`); the error's `position` is the batch's.
 * @example
 * ```ts
 * for (const batch of decodeBatches(bytes)) for (const r of batch.records()) console.log(r.offset);
 * ```
 */
export function* decodeBatches(bytes: Uint8Array, options: DecodeOptions = {}): IterableIterator<RecordBatch> {
  const verifyCrc = options.verifyCrc ?? true;
  const maxBatchBytes = options.maxBatchBytes ?? BATCH_BYTES_MAX;
  const file = options.source?.file;
  const base = options.source?.position ?? 0;
  let position = 0;
  while (position < bytes.byteLength) {
    const size = frameSize(bytes, position, bytes.byteLength, maxBatchBytes);
    if (size === FRAME_PARTIAL) {
      if (options.allowPartialTail) return;
      throw new CorruptRecordError(`truncated batch: ${bytes.byteLength - position} bytes left`, {
        file,
        position: base + position,
      });
    }
    if (size === FRAME_CORRUPT) {
      throw new CorruptRecordError(describeCorruptFrame(bytes, position, maxBatchBytes), { file, position: base + position });
    }
    const batch = batchAt(bytes, position, size, { file, position: base + position });
    if (verifyCrc) batch.ensureValid();
    yield batch;
    position += size;
  }
}

/**
 * Last offset of the framed batch at `position`, read from its header without building a batch object
 * (v2: baseOffset + lastOffsetDelta; legacy: the entry's offset, which is its last). `undefined` when the
 * stored offset is not a safe integer.
 */
export function lastOffsetAt(bytes: Uint8Array, position: number): number | undefined {
  const offset = int64At(bytes, position + L.BASE_OFFSET_OFFSET);
  if (offset === undefined) return undefined;
  if (bytes[position + L.MAGIC_OFFSET] !== L.MAGIC_V2) return offset;
  return offset + int32At(bytes, position + L.LAST_OFFSET_DELTA_OFFSET);
}

/**
 * First offset of the framed batch at `position` from its header: v2 `baseOffset`; for a legacy entry its
 * offset (the last inner offset of a compressed wrapper: its first needs decompression). `undefined` when
 * not a safe integer.
 */
export function firstOffsetAt(bytes: Uint8Array, position: number): number | undefined {
  return int64At(bytes, position + L.BASE_OFFSET_OFFSET);
}

/**
 * Checks that the whole batches framed in `bytes` have increasing offsets (each starts after the previous
 * one ends), reading headers only; also checks the last whole batch against the header of a partial one
 * after it, and every batch against `offsetLimit` (where the next segment begins). The base offset lies
 * outside Kafka's CRC, so this order is the only thing that can expose a damaged one. Returns the position
 * of the first batch that breaks the order, or -1.
 */
export function offsetOrderBreak(bytes: Uint8Array, maxBatchBytes: number, offsetLimit = Infinity): number {
  let previousLast = -1;
  let position = 0;
  while (position < bytes.byteLength) {
    const size = frameSize(bytes, position, bytes.byteLength, maxBatchBytes);
    if (size === FRAME_CORRUPT) return -1; // reported by the decoder with its own message
    const enoughForOffset = bytes.byteLength - position >= L.BASE_OFFSET_LENGTH;
    const first = enoughForOffset ? firstOffsetAt(bytes, position) : undefined;
    if (first !== undefined && first <= previousLast) return position;
    if (size === FRAME_PARTIAL) return -1;
    previousLast = lastOffsetAt(bytes, position) ?? previousLast;
    if (previousLast >= offsetLimit) return position;
    position += size;
  }
  return -1;
}
