/**
 * Checks pre-encoded batches handed to `appendBatch` before a byte is written (Kafka `UnifiedLog.analyzeAndValidateRecords`
 * plus the per-batch checks of `LogValidator`). Everything is validated first, so a bad batch anywhere
 * in the input leaves the log unchanged.
 *
 * | check                                                        | error                    |
 * | ------------------------------------------------------------ | ------------------------ |
 * | not a Uint8Array, or empty                                   | `ERR_INVALID_ARGUMENT`   |
 * | a batch larger than `maxMessageBytes`                        | `ERR_RECORD_TOO_LARGE`   |
 * | bad frame (length, magic > 2), trailing partial batch        | `ERR_CORRUPT_RECORD`     |
 * | magic 0 or 1 (legacy formats are read, not appended)         | `ERR_INVALID_ARGUMENT`   |
 * | CRC-32C mismatch                                             | `ERR_CORRUPT_RECORD`     |
 * | recordsCount != lastOffsetDelta + 1, or <= 0                 | `ERR_CORRUPT_RECORD`     |
 * | uncompressed records whose lengths do not fill the payload   | `ERR_CORRUPT_RECORD`     |
 * | control batch (clients may not write them, as in Kafka)      | `ERR_INVALID_ARGUMENT`   |
 * | LogAppendTime set by the producer (Kafka rejects it too)     | `ERR_INVALID_ARGUMENT`   |
 *
 * The records of a compressed batch are not decompressed here: that would cost more than the append
 * itself, and the CRC already guarantees the bytes are the producer's. Their structure is checked when
 * they are read, where damage is a `CorruptRecordError`, never data.
 */
import { nativeAddon } from '../addon.js';
import { assert } from '../assert.js';
import { CorruptRecordError, InvalidArgumentError, RecordTooLargeError, UnsafeIntegerError } from '../errors.js';
import { readInt64, viewOf } from '../int64.js';
import { FRAME_CORRUPT, FRAME_PARTIAL, describeCorruptFrame, frameSize } from '../record/batch-reader.js';
import * as L from '../record/layout.js';
import { DefaultRecordBatch } from '../record/record-batch.js';
import { readVarint } from '../record/varint.js';

/** One validated batch of the input. */
export interface IncomingBatch {
  /** The batch's bytes inside the caller's buffer (not copied). */
  readonly bytes: Uint8Array;
  /** Where the batch starts in the caller's buffer, for error positions. */
  readonly position: number;
  readonly compression: number;
  readonly lastOffsetDelta: number;
  readonly recordCount: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
}

/**
 * Frames and checks every batch header in `bytes` (everything in the table but the CRC and the record
 * walk, which {@link verifyIncomingBatch} does); returns the batches in order.
 *
 * The fields are read through one DataView over the input rather than a `DefaultRecordBatch` per batch:
 * this runs once per `appendBatch`, after the previous call's 1 MiB write has left the caches cold, where
 * each getter and view of the batch object cost its own misses (probed: 5-9 us for one batch, ~1 us warm).
 */
export function frameIncomingBatches(bytes: unknown, maxMessageBytes: number): IncomingBatch[] {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('appendBatch takes a Uint8Array of v2 batches');
  if (bytes.byteLength === 0) throw new InvalidArgumentError('appendBatch of zero bytes');
  const view = viewOf(bytes);
  const batches: IncomingBatch[] = [];
  let position = 0;
  while (position < bytes.byteLength) {
    const size = frameSize(bytes, position, bytes.byteLength, Number.MAX_SAFE_INTEGER);
    if (size === FRAME_PARTIAL) {
      throw new CorruptRecordError(`truncated batch: ${bytes.byteLength - position} bytes left`, { position, actual: bytes.byteLength - position });
    }
    if (size === FRAME_CORRUPT) throw new CorruptRecordError(describeCorruptFrame(bytes, position, Number.MAX_SAFE_INTEGER), { position });
    if (size > maxMessageBytes) {
      throw new RecordTooLargeError(`batch of ${size} bytes exceeds maxMessageBytes ${maxMessageBytes}`, { position, expected: maxMessageBytes, actual: size });
    }
    batches.push(checkHeader(bytes, view, position, size));
    position += size;
  }
  return batches;
}

/** The int64 at `at` of the input; past 2^53 it is the error `DefaultRecordBatch` gives, at that position. */
function int64At(view: DataView, at: number, field: string): number {
  const value = readInt64(view, at);
  if (value === undefined) throw new UnsafeIntegerError(`batch ${field} does not fit in a safe integer`, { position: at });
  return value;
}

/** The header checks of one framed batch at `position` of the input (see the table above). */
function checkHeader(input: Uint8Array, view: DataView, position: number, size: number): IncomingBatch {
  const magic = input[position + L.MAGIC_OFFSET];
  if (magic !== L.MAGIC_V2) throw new InvalidArgumentError(`appendBatch takes magic v2 batches, got magic ${magic}`, { position, actual: magic });
  const count = view.getInt32(position + L.RECORDS_COUNT_OFFSET);
  const lastOffsetDelta = view.getInt32(position + L.LAST_OFFSET_DELTA_OFFSET);
  if (count <= 0 || count !== lastOffsetDelta + 1) {
    throw new CorruptRecordError(`record count ${count} does not match last offset delta ${lastOffsetDelta}`, {
      position,
      expected: lastOffsetDelta + 1,
      actual: count,
    });
  }
  const attributes = input[position + L.ATTRIBUTES_OFFSET + 1]!; // the low byte of the int16
  if ((attributes & L.CONTROL_FLAG_MASK) !== 0) throw new InvalidArgumentError('clients may not append control batches', { position });
  if ((attributes & L.TIMESTAMP_TYPE_MASK) !== 0) throw new InvalidArgumentError('producers may not set LogAppendTime', { position });
  return {
    bytes: new Uint8Array(input.buffer, input.byteOffset + position, size),
    position,
    compression: attributes & L.COMPRESSION_CODEC_MASK,
    lastOffsetDelta,
    recordCount: count,
    maxTimestamp: int64At(view, position + L.MAX_TIMESTAMP_OFFSET, 'maxTimestamp'),
    producerId: int64At(view, position + L.PRODUCER_ID_OFFSET, 'producerId'),
    producerEpoch: view.getInt16(position + L.PRODUCER_EPOCH_OFFSET),
    baseSequence: view.getInt32(position + L.BASE_SEQUENCE_OFFSET),
  };
}

/** Frames, checks and verifies every batch: {@link frameIncomingBatches} then {@link verifyIncomingBatch}. */
export function validateIncomingBatches(bytes: unknown, maxMessageBytes: number): IncomingBatch[] {
  const batches = frameIncomingBatches(bytes, maxMessageBytes);
  for (const batch of batches) verifyIncomingBatch(batch);
  return batches;
}

/**
 * Inputs at least this large are verified beside their write ({@link verifyIncomingBatchesBeside}): the
 * worker takes ~50 us to wake on this VM, which a write of 256 KiB (~70 us) hides; below it the CRC and walk
 * inline (~15 us for 256 KiB: ~22 + ~36 us per MiB) cost less than waiting for the worker.
 */
export const BESIDE_VERIFY_MIN_BYTES = 256 * 1024;

/**
 * Reused for every call: the addon writes its results over it, so a verification allocates nothing (a
 * Float64Array this large lives off the JS heap, which the addon would otherwise have to move it to).
 */
let layoutScratch = new Float64Array(3 * 64);

/**
 * Runs {@link verifyIncomingBatch} of every batch of `bytes`, and `write` if given: beside each other when
 * `beside` (the addon's `verifyBatchesBeside`, for inputs of {@link BESIDE_VERIFY_MIN_BYTES} or more; the
 * caller sets it only for a file layer whose writes only read the bytes), or the checks first. Throws what `write` throws, or the `CorruptRecordError` the
 * synchronous check gives for the first batch that fails (after `write` has run: the caller cuts it).
 */
export function verifyIncomingBatchesAround(bytes: Uint8Array, batches: readonly IncomingBatch[], write: (() => void) | undefined, beside: boolean): void {
  const native = beside && write !== undefined && bytes.byteLength >= BESIDE_VERIFY_MIN_BYTES ? nativeAddon() : undefined;
  if (native === undefined || write === undefined) {
    for (const batch of batches) verifyIncomingBatch(batch);
    write?.();
    return;
  }
  const layout = layoutFor(batches.length);
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    layout[i * 3] = batch.position;
    layout[i * 3 + 1] = batch.bytes.byteLength;
    layout[i * 3 + 2] = batch.compression === 0 ? batch.recordCount : -1;
  }
  native.verifyBatchesBeside(bytes, layout, write);
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    const b = batch.bytes;
    const stored = ((b[L.CRC_OFFSET]! << 24) | (b[L.CRC_OFFSET + 1]! << 16) | (b[L.CRC_OFFSET + 2]! << 8) | b[L.CRC_OFFSET + 3]!) >>> 0;
    const walked = batch.compression !== 0 || layout[i * 3 + 1] === b.byteLength;
    if (layout[i * 3] === stored && walked) continue;
    verifyIncomingBatch(batch); // throws the precise error
    assert(false, `native verification failed batch ${i} where the JS checks passed`);
  }
}

/** The scratch layout's first `batches` triples (one view kept for the common single batch). */
function layoutFor(batches: number): Float64Array {
  if (layoutScratch.length < batches * 3) layoutScratch = new Float64Array(batches * 3);
  if (batches === 1) {
    if (singleLayout?.buffer !== layoutScratch.buffer) singleLayout = layoutScratch.subarray(0, 3);
    return singleLayout;
  }
  return layoutScratch.subarray(0, batches * 3);
}
let singleLayout: Float64Array | undefined;

/** The CRC-32C, and for uncompressed batches the record lengths. Throws `CorruptRecordError`. */
export function verifyIncomingBatch(batch: IncomingBatch): void {
  new DefaultRecordBatch(batch.bytes, { position: batch.position }).ensureValid();
  if (batch.compression === 0) checkRecordLengths(batch.bytes, batch.recordCount, batch.position);
}

/**
 * Walks the records' length prefixes only: `count` records must fill the payload exactly. The native addon
 * walks first (~36 us for a 1 MiB batch of 100-byte records; this JS loop measured ~90-100 us);
 * when it finds a problem, or is not built, the JS walk below runs and reports it precisely.
 */
export function checkRecordLengths(bytes: Uint8Array, count: number, position: number): void {
  const native = nativeAddon();
  const nativeEnd = native?.recordLengthsEnd(bytes, L.RECORDS_OFFSET, bytes.byteLength, count);
  if (nativeEnd === bytes.byteLength) return;
  walkRecordLengths(bytes, count, position);
  assert(nativeEnd === undefined, `native record walk failed at ${nativeEnd} where the JS walk passed`);
}

/**
 * The JS walk. Record lengths of typical events (64-8191 bytes) are 2-byte varints; those and 1-byte ones
 * are read inline.
 */
function walkRecordLengths(bytes: Uint8Array, count: number, position: number): void {
  const end = bytes.byteLength;
  let at = L.RECORDS_OFFSET;
  for (let i = 0; i < count; i++) {
    let length: number | undefined;
    const b0 = at < end ? bytes[at]! : 0x80;
    const b1 = at + 1 < end ? bytes[at + 1]! : 0x80;
    if (b0 < 0x80) {
      length = (b0 >>> 1) ^ -(b0 & 1);
      at += 1;
    } else if (b1 < 0x80) {
      const raw = (b0 & 0x7f) | (b1 << 7);
      length = (raw >>> 1) ^ -(raw & 1);
      at += 2;
    } else {
      const cursor = { position: at };
      length = readVarint(bytes, cursor, end);
      at = cursor.position;
    }
    if (length === undefined || length <= 0 || at + length > end) {
      throw new CorruptRecordError(`record ${i} has a bad length`, { position: position + at });
    }
    at += length;
  }
  if (at !== end) throw new CorruptRecordError(`${count} records do not fill the batch`, { position: position + at });
}
