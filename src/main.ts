/**
 * seglog: Apache Kafka's log layer as an embeddable Node.js library. Explicit named re-exports only.
 */
export { Log } from './log/log.js';
export type {
  AppendBatchOptions,
  AppendOptions,
  AppendResult,
  LogEvents,
  ReadOptions,
  RetentionResult,
  SegmentInfo,
  TailOptions,
  WaitOptions,
} from './log/log.js';
export type { Durability, LogConfig, LogOptions } from './log/log-options.js';
export { LogManager, checkLogName } from './log/log-manager.js';
export type { LogManagerOptions } from './log/log-manager.js';
export type { LogMetrics, Percentiles } from './log/log-metrics.js';
export type { RecoveryReport } from './log/log-loader.js';
export { FileRecords } from './log/file-records.js';
export type { WriteToOptions } from './log/file-records.js';

export { encodeBatch, RecordBatchBuilder } from './record/record-batch-builder.js';
export type { EncodeOptions } from './record/record-batch-builder.js';
export { decodeBatches } from './record/batch-reader.js';
export type { DecodeOptions } from './record/batch-reader.js';
export { DefaultRecordBatch } from './record/record-batch.js';
export type { RecordBatch, BatchSource } from './record/record-batch.js';
export { LegacyRecordBatch } from './record/legacy-record-batch.js';
export type { LogRecord, RecordHeader, RecordInput, HeaderInput, BytesInput } from './record/record.js';
export type { TimestampType } from './record/layout.js';
export { crc32c, crc32, crc32cBackend } from './record/crc32c.js';

export { CompressionType } from './compression/codec.js';
export type { CompressionCodec, CompressionId, CompressionName } from './compression/codec.js';

export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { FileSystem, FileHandle, FileStat, MapOptions, OpenMode } from './io/file-system.js';
export { NodeFileSystem } from './io/node-file-system.js';

export {
  ErrorCode,
  LogStorageError,
  isLogStorageError,
  InvalidArgumentError,
  LogClosedError,
  LogLockedError,
  LogFailedError,
  CorruptRecordError,
  CorruptIndexError,
  CorruptCheckpointError,
  CorruptLogError,
  CompressionError,
  UnsupportedCodecError,
  OffsetOutOfRangeError,
  OffsetConflictError,
  RecordTooLargeError,
  UnsafeIntegerError,
  LogIoError,
  AbortedError,
  OutOfOrderSequenceError,
  InvalidProducerEpochError,
  InvalidTimestampError,
  LogNotFoundError,
  LogExistsError,
} from './errors.js';
export type { ErrorCodeValue, ErrorDetails } from './errors.js';
