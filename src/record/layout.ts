/**
 * Byte layouts of Kafka's record formats (STYLE 3). Every offset is derived from the one before it, so the
 * table below and the constants cannot drift apart. All integers are big-endian.
 *
 * ## Record batch, magic v2 (Kafka `DefaultRecordBatch`), 61-byte header
 *
 * ```text
 *  off size field                 notes
 *    0   8  baseOffset  int64     offset of the first record; a producer sends 0, the log patches it
 *    8   4  batchLength int32     bytes after this field = total size - 12
 *   12   4  partitionLeaderEpoch  -1 if unknown; NOT covered by the CRC
 *   16   1  magic int8            2; at 16 in every format, so readers branch on it
 *   17   4  crc uint32            CRC-32C of bytes [21, end of batch)
 *   21   2  attributes int16      see below
 *   23   4  lastOffsetDelta int32 lastOffset = baseOffset + lastOffsetDelta
 *   27   8  baseTimestamp int64   first record's timestamp (or the delete horizon if bit 6)
 *   35   8  maxTimestamp int64    max record timestamp (CreateTime) or the broker's (LogAppendTime)
 *   43   8  producerId int64      -1 = none
 *   51   2  producerEpoch int16   -1 = none
 *   53   4  baseSequence int32    -1 = none
 *   57   4  recordsCount int32
 *   61   …  records               raw, or one compressed stream of them
 * ```
 *
 * Why the CRC starts at 21: the fields before it (base offset, length, leader epoch) are assigned by the
 * broker after the producer sealed the batch. Leaving them out lets the log assign offsets by patching
 * `baseOffset` in place, without recomputing the CRC and without touching compressed bytes.
 *
 * Attributes (only the low byte is used):
 *
 * ```text
 *   bit  7 6 5 4 3 2 1 0
 *        0 | | | | └─┴─┴── codec: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
 *          | | | └──────── timestamp type: 0 CreateTime, 1 LogAppendTime
 *          | | └────────── transactional
 *          | └──────────── control batch
 *          └────────────── delete horizon present (baseTimestamp holds it; set by the cleaner)
 * ```
 *
 * ## Legacy message, magic v0 / v1 (Kafka `LegacyRecord`), inside a log entry
 *
 * ```text
 *  entry: offset int64 (0) · size int32 (8) · message (12)
 *  message:  off v0            v1
 *             0  crc uint32    crc uint32         CRC-32 (IEEE) of [4, end of message)
 *             4  magic 0       magic 1
 *             5  attributes    attributes         bits 0-2 codec, bit 3 timestamp type (v1)
 *             6  keyLength     timestamp int64
 *          6/14  key, valueLength int32, value    lengths -1 = null
 * ```
 */

// ---- log entry prefix, shared by every format ----
export const BASE_OFFSET_OFFSET = 0;
export const BASE_OFFSET_LENGTH = 8;
export const LENGTH_OFFSET = BASE_OFFSET_OFFSET + BASE_OFFSET_LENGTH;
export const LENGTH_LENGTH = 4;
/** offset + size: bytes before a batch's length-counted part (Kafka `LOG_OVERHEAD`). */
export const LOG_OVERHEAD = LENGTH_OFFSET + LENGTH_LENGTH;

// ---- v2 batch header ----
export const PARTITION_LEADER_EPOCH_OFFSET = LOG_OVERHEAD;
export const PARTITION_LEADER_EPOCH_LENGTH = 4;
export const MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + PARTITION_LEADER_EPOCH_LENGTH;
export const MAGIC_LENGTH = 1;
export const CRC_OFFSET = MAGIC_OFFSET + MAGIC_LENGTH;
export const CRC_LENGTH = 4;
export const ATTRIBUTES_OFFSET = CRC_OFFSET + CRC_LENGTH;
export const ATTRIBUTES_LENGTH = 2;
export const LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + ATTRIBUTES_LENGTH;
export const LAST_OFFSET_DELTA_LENGTH = 4;
export const BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + LAST_OFFSET_DELTA_LENGTH;
export const BASE_TIMESTAMP_LENGTH = 8;
export const MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + BASE_TIMESTAMP_LENGTH;
export const MAX_TIMESTAMP_LENGTH = 8;
export const PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + MAX_TIMESTAMP_LENGTH;
export const PRODUCER_ID_LENGTH = 8;
export const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + PRODUCER_ID_LENGTH;
export const PRODUCER_EPOCH_LENGTH = 2;
export const BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + PRODUCER_EPOCH_LENGTH;
export const BASE_SEQUENCE_LENGTH = 4;
export const RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + BASE_SEQUENCE_LENGTH;
export const RECORDS_COUNT_LENGTH = 4;
export const RECORDS_OFFSET = RECORDS_COUNT_OFFSET + RECORDS_COUNT_LENGTH;
/** Size of the v2 batch header (Kafka `RECORD_BATCH_OVERHEAD`). */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** The CRC covers [CRC_COVERED_START, end). */
export const CRC_COVERED_START = ATTRIBUTES_OFFSET;
/** Bytes a reader needs to learn a batch's size and format (Kafka `HEADER_SIZE_UP_TO_MAGIC`). */
export const HEADER_SIZE_UP_TO_MAGIC = MAGIC_OFFSET + MAGIC_LENGTH;

export const MAGIC_V0 = 0;
export const MAGIC_V1 = 1;
export const MAGIC_V2 = 2;

// ---- v2 attributes ----
export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

// ---- v2 sentinel values ----
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
export const NO_TIMESTAMP = -1;

// ---- legacy message (offsets within the message, after the 12-byte entry prefix) ----
export const LEGACY_CRC_OFFSET = 0;
export const LEGACY_CRC_LENGTH = 4;
export const LEGACY_MAGIC_OFFSET = LEGACY_CRC_OFFSET + LEGACY_CRC_LENGTH;
export const LEGACY_ATTRIBUTES_OFFSET = LEGACY_MAGIC_OFFSET + MAGIC_LENGTH;
export const LEGACY_ATTRIBUTES_LENGTH = 1;
export const LEGACY_TIMESTAMP_OFFSET = LEGACY_ATTRIBUTES_OFFSET + LEGACY_ATTRIBUTES_LENGTH;
export const LEGACY_TIMESTAMP_LENGTH = 8;
export const LEGACY_KEY_LENGTH_OFFSET_V0 = LEGACY_TIMESTAMP_OFFSET;
export const LEGACY_KEY_LENGTH_OFFSET_V1 = LEGACY_TIMESTAMP_OFFSET + LEGACY_TIMESTAMP_LENGTH;
export const LEGACY_LENGTH_FIELD = 4;
/** Smallest v0 message: crc, magic, attributes, key length, value length (Kafka `RECORD_OVERHEAD_V0`). */
export const LEGACY_RECORD_OVERHEAD_V0 = LEGACY_KEY_LENGTH_OFFSET_V0 + 2 * LEGACY_LENGTH_FIELD;
/** Smallest v1 message (Kafka `RECORD_OVERHEAD_V1`). */
export const LEGACY_RECORD_OVERHEAD_V1 = LEGACY_KEY_LENGTH_OFFSET_V1 + 2 * LEGACY_LENGTH_FIELD;
/** Legacy attributes: bits 0-2 codec, bit 3 timestamp type (v1 only). */
export const LEGACY_CODEC_MASK = 0x07;
export const LEGACY_TIMESTAMP_TYPE_MASK = 0x08;

/** Timestamp types of a batch. */
export type TimestampType = 'CreateTime' | 'LogAppendTime';
