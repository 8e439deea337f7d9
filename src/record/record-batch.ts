/**
 * A magic v2 record batch as lazy getters over a view of its bytes (Kafka `DefaultRecordBatch`). Nothing is
 * copied or decoded until asked: header fields are read on access, records are parsed as they are iterated,
 * and a compressed payload is decompressed only when `records()` runs. The layout is in `layout.ts`.
 */
import { codecById } from '../compression/registry.js';
import type { CompressionId, CompressionName } from '../compression/codec.js';
import { CorruptRecordError, UnsafeIntegerError } from '../errors.js';
import { readInt64, viewOf } from '../int64.js';
import { DECOMPRESSED_BYTES_MAX, INT32_MAX } from '../limits.js';
import { crc32c } from './crc32c.js';
import * as L from './layout.js';
import type { LogRecord, RecordContext } from './record.js';
import { RecordIterator } from './record-iterator.js';

/** Where a batch came from, for error messages. */
export interface BatchSource {
  /** The file the batch was read from, if any. */
  readonly file?: string | undefined;
  /** The batch's position in that file (or in the decoded buffer). */
  readonly position?: number | undefined;
}

/** What every batch offers, whatever its magic. {@link DefaultRecordBatch} is v2; legacy is v0/v1. */
export interface RecordBatch {
  readonly magic: number;
  /** Offset of the first record. For a legacy compressed wrapper this needs decompression. */
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** `lastOffset + 1`: where the next batch starts. */
  readonly nextOffset: number;
  /** Total bytes of the batch, log-entry prefix included. */
  readonly sizeInBytes: number;
  readonly compression: CompressionId;
  readonly compressionName: CompressionName;
  readonly timestampType: L.TimestampType;
  /** Largest record timestamp (CreateTime) or the broker's append time (LogAppendTime); -1 if none. */
  readonly maxTimestamp: number;
  /** Control batches carry transaction markers; consumers skip their records. */
  readonly isControl: boolean;
  readonly isTransactional: boolean;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly partitionLeaderEpoch: number;
  /** Records in the batch (for a legacy compressed wrapper this decompresses it). */
  readonly recordCount: number;
  /** The batch's bytes exactly as stored (a view, not a copy). */
  readonly bytes: Uint8Array;
  /** Size, magic and checksum hold. Never throws. */
  isValid(): boolean;
  /** Throws `CorruptRecordError` (with expected and actual CRC) unless {@link isValid}. */
  ensureValid(): void;
  /** The records, decompressing first if needed. Control batches yield their control record. */
  records(): IterableIterator<LogRecord>;
}

const kCompressionNames: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** A v2 batch over `bytes`, which must hold exactly one batch (the caller framed it). */
export class DefaultRecordBatch implements RecordBatch {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  readonly #source: BatchSource;

  constructor(bytes: Uint8Array, source: BatchSource = {}) {
    this.bytes = bytes;
    this.#view = viewOf(bytes);
    this.#source = source;
  }

  get magic(): number {
    return this.bytes[L.MAGIC_OFFSET]!;
  }
  get sizeInBytes(): number {
    return this.bytes.byteLength;
  }
  get baseOffset(): number {
    return this.#int64(L.BASE_OFFSET_OFFSET, 'baseOffset');
  }
  get lastOffsetDelta(): number {
    return this.#view.getInt32(L.LAST_OFFSET_DELTA_OFFSET);
  }
  get lastOffset(): number {
    return this.baseOffset + this.lastOffsetDelta;
  }
  get nextOffset(): number {
    return this.lastOffset + 1;
  }
  get partitionLeaderEpoch(): number {
    return this.#view.getInt32(L.PARTITION_LEADER_EPOCH_OFFSET);
  }
  /** The stored CRC-32C (unsigned). */
  get checksum(): number {
    return this.#view.getUint32(L.CRC_OFFSET);
  }
  get attributes(): number {
    return this.#view.getInt16(L.ATTRIBUTES_OFFSET) & 0xff;
  }
  get compression(): CompressionId {
    return (this.attributes & L.COMPRESSION_CODEC_MASK) as CompressionId;
  }
  get compressionName(): CompressionName {
    return kCompressionNames[this.compression] ?? 'none';
  }
  get timestampType(): L.TimestampType {
    return this.attributes & L.TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime';
  }
  get isTransactional(): boolean {
    return (this.attributes & L.TRANSACTIONAL_FLAG_MASK) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & L.CONTROL_FLAG_MASK) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & L.DELETE_HORIZON_FLAG_MASK) !== 0;
  }
  /** The timestamp of the first record (the base for the deltas). */
  get baseTimestamp(): number {
    return this.#int64(L.BASE_TIMESTAMP_OFFSET, 'baseTimestamp');
  }
  /** The cleaner's delete horizon when {@link hasDeleteHorizon}, else -1. */
  get deleteHorizonMs(): number {
    return this.hasDeleteHorizon ? this.baseTimestamp : L.NO_TIMESTAMP;
  }
  get maxTimestamp(): number {
    return this.#int64(L.MAX_TIMESTAMP_OFFSET, 'maxTimestamp');
  }
  get producerId(): number {
    return this.#int64(L.PRODUCER_ID_OFFSET, 'producerId');
  }
  get producerEpoch(): number {
    return this.#view.getInt16(L.PRODUCER_EPOCH_OFFSET);
  }
  get baseSequence(): number {
    return this.#view.getInt32(L.BASE_SEQUENCE_OFFSET);
  }
  /** `baseSequence + lastOffsetDelta`, wrapping from 2^31 - 1 to 0 as Kafka does; -1 without a sequence. */
  get lastSequence(): number {
    const base = this.baseSequence;
    if (base < 0) return L.NO_SEQUENCE;
    const delta = this.lastOffsetDelta;
    return base > INT32_MAX - delta ? delta - (INT32_MAX - base) - 1 : base + delta;
  }
  get recordCount(): number {
    return this.#view.getInt32(L.RECORDS_COUNT_OFFSET);
  }

  /** The CRC-32C of the covered bytes, computed now. */
  computeChecksum(): number {
    return crc32c(this.bytes, L.CRC_COVERED_START, this.bytes.byteLength);
  }

  isValid(): boolean {
    return this.#invalidReason() === undefined;
  }

  ensureValid(): void {
    const reason = this.#invalidReason();
    if (reason === undefined) return;
    const crcMismatch = reason === 'crc';
    throw new CorruptRecordError(
      crcMismatch
        ? `batch CRC mismatch: stored ${hex(this.checksum)}, computed ${hex(this.computeChecksum())}`
        : `invalid batch: ${reason}`,
      {
        file: this.#source.file,
        position: this.#source.position,
        ...(crcMismatch ? { expected: this.checksum, actual: this.computeChecksum() } : {}),
      },
    );
  }

  #invalidReason(): string | undefined {
    const size = this.bytes.byteLength;
    if (size < L.RECORD_BATCH_OVERHEAD) return `size ${size} below the ${L.RECORD_BATCH_OVERHEAD}-byte header`;
    if (this.#view.getInt32(L.LENGTH_OFFSET) !== size - L.LOG_OVERHEAD) return 'length field does not match';
    if (this.magic !== L.MAGIC_V2) return `magic ${this.magic} is not 2`;
    return this.checksum === this.computeChecksum() ? undefined : 'crc';
  }

  records(): IterableIterator<LogRecord> {
    const count = this.recordCount;
    if (count < 0) this.#corrupt(`negative record count ${count}`);
    const ctx: RecordContext = {
      baseOffset: this.baseOffset,
      baseTimestamp: this.baseTimestamp,
      logAppendTime: this.timestampType === 'LogAppendTime' ? this.maxTimestamp : -1,
      position: this.#source.position === undefined ? -1 : this.#source.position + L.RECORDS_OFFSET,
      file: this.#source.file,
    };
    if (this.compression === 0) return new RecordIterator(this.bytes, L.RECORDS_OFFSET, count, this.lastOffsetDelta, ctx);
    const payload = codecById(this.compression).decompress(this.bytes.subarray(L.RECORDS_OFFSET), {
      magic: L.MAGIC_V2,
      maxBytes: DECOMPRESSED_BYTES_MAX,
    });
    // Positions inside a decompressed payload are not file positions: report the batch's own.
    return new RecordIterator(payload, 0, count, this.lastOffsetDelta, { ...ctx, position: -1 });
  }

  #int64(position: number, field: string): number {
    const value = readInt64(this.#view, position);
    if (value === undefined) {
      throw new UnsafeIntegerError(`batch ${field} does not fit in a safe integer`, {
        file: this.#source.file,
        position: (this.#source.position ?? 0) + position,
      });
    }
    return value;
  }

  #corrupt(what: string): never {
    throw new CorruptRecordError(`invalid batch: ${what}`, { file: this.#source.file, position: this.#source.position });
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
