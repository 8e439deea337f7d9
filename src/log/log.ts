/**
 * The log users open: one directory of segments, laid out as a Kafka partition directory (Kafka
 * `UnifiedLog`). It stands on `LocalLog` (segments, offsets, flushing, truncation) and adds what
 * applications need: input validation, durable appends with group commit, optimistic concurrency,
 * idempotent producers, waiting and tailing readers, retention, consumer offsets, metrics and events.
 *
 * Concurrency contract (STYLE 15): JS runs one thing at a time, and an append is synchronous from its
 * checks to its write, so appends are atomic with respect to each other and to reads without a lock; only
 * an append's optional fsync is awaited, after the write. Operations that await in the middle (flush,
 * truncation, retention, close) run under `LocalLog.mutex`; truncation and close also hold new appends
 * back until they finish. Every method is safe to call at any time.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { CompressionId, CompressionName } from '../compression/codec.js';
import { compressionIdOf } from '../compression/registry.js';
import {
  AbortedError,
  InvalidArgumentError,
  InvalidTimestampError,
  LogClosedError,
  LogFailedError,
  OffsetConflictError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  ioError,
  isLogStorageError,
} from '../errors.js';
import { assert } from '../assert.js';
import { readInt64, viewOf, writeInt64 } from '../int64.js';
import { FUTURE_TIMESTAMP_WARNING_MS } from '../limits.js';
import * as L from '../record/layout.js';
import type { LogRecord, RecordInput } from '../record/record.js';
import { RecordBatchBuilder, type EncodeOptions } from '../record/record-batch-builder.js';
import { DefaultRecordBatch, type RecordBatch } from '../record/record-batch.js';
import { frameIncomingBatches, verifyIncomingBatch, verifyIncomingBatchesAround, type IncomingBatch } from './batch-validation.js';
import { checkConsumerName, ConsumerOffsets } from './consumer-offsets.js';
import { DirLock } from './dir-lock.js';
import type { FileRecords } from './file-records.js';
import { GroupCommit } from './group-commit.js';
import { LocalLog } from './local-log.js';
import type { RecoveryReport } from './log-loader.js';
import { LogCounters, type LogMetrics } from './log-metrics.js';
import { checkDurability, resolveLogConfig, type Durability, type LogConfig, type LogOptions } from './log-options.js';
import type { AppendedBatch } from './log-segment.js';
import { ProducerState } from './producer-state.js';
import { SnapshotFiles } from './producer-snapshots.js';
import { Purgatory } from './purgatory.js';
import { segmentsToDelete } from './retention.js';

/** Options of {@link Log.append}. */
export interface AppendOptions {
  /** Codec for this batch. @defaultValue the log's `compression` option */
  readonly compression?: CompressionName | CompressionId;
  /** Overrides the log's `durability` for this append. */
  readonly durability?: Durability;
  /** Append only if `endOffset` equals this at the moment of the append, else `ERR_OFFSET_CONFLICT`. */
  readonly expectedOffset?: number;
  /** Idempotent producer id: a retried batch with the same sequence is not written twice. */
  readonly producerId?: number;
  /** @defaultValue 0 when `producerId` is set */
  readonly producerEpoch?: number;
  /** Sequence number of the first record (the producer increments it by the record count). */
  readonly baseSequence?: number;
}

/** Options of {@link Log.appendBatch}. */
export interface AppendBatchOptions {
  readonly durability?: Durability;
  readonly expectedOffset?: number;
}

/** Offsets assigned to an append (for a duplicate of an idempotent batch: the original ones). */
export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** True when the batch was a retry of one already in the log: nothing was written. */
  readonly duplicate?: boolean;
}

/** Options of {@link Log.read}. */
export interface ReadOptions {
  /** Most bytes to return (Kafka `max.partition.fetch.bytes`). @defaultValue 1 MiB */
  readonly maxBytes?: number;
  /**
   * Return the first batch whole even if it is larger than `maxBytes`, so a reader can always make
   * progress (Kafka KIP-74). @defaultValue true
   */
  readonly minOneMessage?: boolean;
}

/** Options of {@link Log.waitForData}. */
export interface WaitOptions {
  /** Bytes that must be readable past the offset. @defaultValue 1 */
  readonly minBytes?: number;
  /** Give up after this long and resolve with what is there. @defaultValue Infinity */
  readonly maxWaitMs?: number;
  readonly signal?: AbortSignal;
}

/** Options of {@link Log.tail}. */
export interface TailOptions {
  readonly signal?: AbortSignal;
  /** Bytes read at a time. @defaultValue 1 MiB */
  readonly maxBytes?: number;
}

/** Read-only facts about one segment. */
export interface SegmentInfo {
  readonly baseOffset: number;
  readonly sizeInBytes: number;
  readonly file: string;
  readonly isActive: boolean;
}

/** What a retention pass deleted. */
export interface RetentionResult {
  readonly deletedSegments: number;
  readonly deletedBytes: number;
}

/** The log's events, with their payloads. */
export interface LogEvents {
  /** A new active segment was created. */
  roll: [{ baseOffset: number; previousBaseOffset: number }];
  /** Data up to `offset` (exclusive) is on disk. */
  flush: [{ offset: number; durationMs: number }];
  /** What opening the log found and repaired (also `log.recoveryReport`), emitted once after open. */
  recovery: [RecoveryReport];
  /** `truncateTo` removed data. */
  truncate: [{ offset: number; segmentsDeleted: number }];
  /** Retention or `deleteRecordsBefore` deleted segments; `startOffset` is the new start. */
  retention: [{ deletedSegments: number; deletedBytes: number; startOffset: number }];
  /** Something the operator should know, such as a timestamp far in the future. */
  warning: [{ code: string; message: string; offset?: number; timestamp?: number }];
  /** A background flush or checkpoint failed; the log refuses writes until reopened. */
  failed: [Error];
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const NO_OPTIONS: AppendOptions = Object.freeze({});
const EMPTY_BYTES = new Uint8Array(0);

export class Log extends EventEmitter<LogEvents> {
  /** The log's directory. */
  readonly dir: string;
  readonly #config: LogConfig;
  readonly #lock: DirLock;
  readonly #local: LocalLog;
  readonly #builder = new RecordBatchBuilder();
  readonly #groupCommit: GroupCommit;
  readonly #purgatory = new Purgatory();
  readonly #producers = new ProducerState();
  readonly #snapshots: SnapshotFiles;
  readonly #consumers: ConsumerOffsets;
  readonly #counters = new LogCounters();
  /** One-element arrays that carry a single append's chunk and batch to `LocalLog.append` (no allocation). */
  readonly #oneChunk: Uint8Array[] = [EMPTY_BYTES];
  readonly #oneBatch: AppendedBatch[] = [];
  /** A view over the builder's scratch buffer (replaced when the builder grows it). */
  #scratchView: DataView | undefined;
  #appendedBytes = 0;
  #lastFlushMs: number;
  #lastRetentionMs: number;
  #lastCheckpointMs: number;
  #warnedSegment = -1;
  #appendsHeld: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #failure: Error | undefined;
  #timers: NodeJS.Timeout[] = [];

  private constructor(dir: string, config: LogConfig, lock: DirLock, local: LocalLog, consumers: ConsumerOffsets) {
    super();
    this.dir = dir;
    this.#config = config;
    this.#lock = lock;
    this.#local = local;
    this.#consumers = consumers;
    this.#snapshots = new SnapshotFiles(config.fileSystem, dir);
    this.#lastFlushMs = this.#lastRetentionMs = this.#lastCheckpointMs = config.clock.nowMs();
    this.#groupCommit = new GroupCommit({
      sync: () => this.#local.mutex.run(() => this.#local.syncData()),
      typed: (error) => {
        const failure = isLogStorageError(error) ? error : ioError('fsync', this.dir, error);
        this.#fail(failure);
        return failure;
      },
      latency: this.#counters.groupCommitLatency,
    });
  }

  /**
   * Opens the log in `dir`, creating the directory if missing, recovering after a crash. The recovery
   * report is `log.recoveryReport` and is also emitted as `'recovery'` on the next tick.
   *
   * @throws `ERR_INVALID_ARGUMENT` for bad options; `ERR_LOG_LOCKED` if another open holds the directory;
   *   `ERR_CORRUPT_LOG` for damage in flushed data (unless `repair`); `ERR_CORRUPT_CHECKPOINT`; `ERR_IO`.
   * @example
   * ```ts
   * await using log = await Log.open('/var/lib/app/events');
   * const { baseOffset } = await log.append([{ key: 'user-1', value: 'signed up' }]);
   * ```
   */
  static async open(dir: string, options: LogOptions = {}): Promise<Log> {
    if (typeof dir !== 'string' || dir.length === 0) throw new InvalidArgumentError('dir must be a non-empty string');
    const config = resolveLogConfig(options);
    const absolute = path.resolve(dir);
    try {
      config.fileSystem.mkdir(absolute, config.dirMode);
    } catch (error) {
      throw ioError('mkdir', absolute, error);
    }
    const lock = DirLock.acquire(absolute);
    let local: LocalLog | undefined;
    try {
      let log: Log | undefined;
      local = await LocalLog.load(absolute, config, {
        rolled: (info, flushed) => {
          if (log !== undefined) log.#onRoll(info, flushed);
        },
        flushed: (info) => {
          if (log !== undefined) log.#onFlush(info);
        },
      });
      log = new Log(absolute, config, lock, local, ConsumerOffsets.load(config.fileSystem, absolute, config.repair));
      log.#loadProducerState();
      log.#startTimers();
      process.nextTick(() => log.emit('recovery', log.recoveryReport));
      return log;
    } catch (error) {
      local?.abandon();
      lock.release();
      throw error;
    }
  }

  /** First offset still in the log (moves up with retention and `deleteRecordsBefore`). */
  get startOffset(): number {
    return this.#local.startOffset;
  }
  /** The offset the next appended record gets (Kafka's log end offset). */
  get endOffset(): number {
    return this.#local.endOffset;
  }
  /** Offsets below this are flushed to disk, indexes included. */
  get recoveryPoint(): number {
    return this.#local.recoveryPoint;
  }
  /** Bytes of all segment files. */
  get size(): number {
    return this.#local.segments.sizeInBytes;
  }
  /** The segments, oldest first. */
  get segments(): readonly SegmentInfo[] {
    const all = this.#local.segments.all();
    return all.map((s, i) => Object.freeze({ baseOffset: s.baseOffset, sizeInBytes: s.size, file: s.log.path, isActive: i === all.length - 1 }));
  }
  /** What the last open found and repaired. */
  get recoveryReport(): RecoveryReport {
    return this.#local.recoveryReport;
  }
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }
  /** The validated configuration. */
  get config(): LogConfig {
    return this.#config;
  }

  /**
   * Appends `records` as one v2 batch and returns the offsets it got. Strings are encoded as UTF-8; a
   * record without a timestamp gets the clock's time. Safe to call concurrently: appends are ordered by
   * call, and concurrent `'fsync'` appends share fsyncs.
   *
   * @throws `ERR_INVALID_ARGUMENT` (empty or malformed records), `ERR_RECORD_TOO_LARGE`,
   *   `ERR_OFFSET_CONFLICT`, `ERR_INVALID_TIMESTAMP`, `ERR_OUT_OF_ORDER_SEQUENCE`,
   *   `ERR_INVALID_PRODUCER_EPOCH`, `ERR_LOG_CLOSED`, `ERR_LOG_FAILED`, `ERR_IO` (nothing appended).
   */
  async append(records: readonly RecordInput[], options: AppendOptions = NO_OPTIONS): Promise<AppendResult> {
    this.#ensureOpen();
    const durability = this.#durabilityOption(options.durability);
    // Inline, not in a helper: the check and the synchronous append below must share one microtask.
    while (this.#appendsHeld !== undefined && this.#closing === undefined) await this.#appendsHeld;
    this.#ensureWritable();
    if (!Array.isArray(records) || records.length === 0) throw new InvalidArgumentError('append needs a non-empty array of records');
    const compression = options.compression === undefined ? this.#config.compression : codecOption(options.compression);
    this.#checkExpectedOffset(options.expectedOffset);
    const nowMs = this.#config.clock.nowMs();
    const bytes = this.#builder.buildReusable(records, encodeOptions(options, this.endOffset, compression, nowMs));
    this.#checkBatchSize(bytes.byteLength);
    const batch = this.#builtBatch(bytes, compression);
    this.#checkTimestamps(bytes, batch.maxTimestamp, nowMs);
    if (batch.producerId >= 0) {
      const duplicate = this.#duplicateOf(batch);
      if (duplicate !== undefined) return duplicate;
    }
    const appended: AppendedBatch = { size: bytes.byteLength, lastOffset: this.endOffset + batch.lastOffsetDelta, maxTimestamp: batch.maxTimestamp };
    this.#oneChunk[0] = bytes;
    this.#oneBatch[0] = appended;
    this.#local.append(this.#oneChunk, this.#oneBatch, nowMs);
    this.#afterWrite(batch, appended.lastOffset, appended.maxTimestamp, nowMs);
    this.#recordAppend(1, batch.recordCount, bytes.byteLength);
    const durable = this.#durableWait(durability);
    if (durable !== undefined) await durable;
    return { baseOffset: appended.lastOffset - batch.lastOffsetDelta, lastOffset: appended.lastOffset };
  }

  /**
   * The header fields of a batch the builder just wrote, read from its bytes (no `DefaultRecordBatch`:
   * one fewer object and `DataView` per append; the view over the builder's scratch buffer is kept).
   */
  #builtBatch(bytes: Uint8Array, compression: number): IncomingBatch {
    if (this.#scratchView?.buffer !== bytes.buffer) this.#scratchView = new DataView(bytes.buffer);
    const view = this.#scratchView;
    const at = bytes.byteOffset;
    const maxTimestamp = readInt64(view, at + L.MAX_TIMESTAMP_OFFSET);
    const producerId = readInt64(view, at + L.PRODUCER_ID_OFFSET);
    assert(maxTimestamp !== undefined && producerId !== undefined, 'the builder wrote an unsafe int64');
    return {
      bytes,
      position: 0,
      compression,
      lastOffsetDelta: view.getInt32(at + L.LAST_OFFSET_DELTA_OFFSET),
      recordCount: view.getInt32(at + L.RECORDS_COUNT_OFFSET),
      maxTimestamp,
      producerId,
      producerEpoch: view.getInt16(at + L.PRODUCER_EPOCH_OFFSET),
      baseSequence: view.getInt32(at + L.BASE_SEQUENCE_OFFSET),
    };
  }

  /**
   * Appends pre-encoded v2 batches (for example straight from a Kafka producer) as they are: offsets are
   * assigned by writing the base-offset field, compressed payloads are never recompressed, and the
   * caller's buffer is not modified. Everything is validated before anything becomes visible: for inputs
   * of 256 KiB or more the CRCs and record framing are checked on the native addon's worker thread while
   * this thread writes the bytes (the caller must not modify `bytes` until the promise settles), and a
   * batch that fails leaves the log unchanged. A batch with a producer id is checked against that producer's sequence: a retry
   * returns the original offsets.
   *
   * @throws `ERR_CORRUPT_RECORD` (bad frame, CRC, record count), `ERR_RECORD_TOO_LARGE`,
   *   `ERR_INVALID_ARGUMENT` (not v2, control or LogAppendTime batches), `ERR_OFFSET_CONFLICT`,
   *   `ERR_INVALID_TIMESTAMP`, `ERR_OUT_OF_ORDER_SEQUENCE`, `ERR_LOG_CLOSED`, `ERR_IO`.
   */
  async appendBatch(bytes: Uint8Array, options: AppendBatchOptions = {}): Promise<AppendResult> {
    this.#ensureOpen();
    const durability = this.#durabilityOption(options.durability);
    while (this.#appendsHeld !== undefined && this.#closing === undefined) await this.#appendsHeld;
    this.#ensureWritable();
    const batches = frameIncomingBatches(bytes, this.#config.maxMessageBytes);
    if (batches.length > 1 && batches.some((b) => b.producerId >= 0)) {
      throw new InvalidArgumentError('idempotent batches are appended one per call, as Kafka producers send them');
    }
    this.#checkExpectedOffset(options.expectedOffset);
    const nowMs = this.#config.clock.nowMs();
    const items = batches.map((batch) => ({ bytes: batch.bytes, batch }));
    let verified = false;
    if (batches[0]!.producerId >= 0) {
      for (const batch of batches) verifyIncomingBatch(batch); // a corrupt batch must not pass for a duplicate
      verified = true;
      const duplicate = this.#duplicateOf(batches[0]!);
      if (duplicate !== undefined) return duplicate;
    }
    for (const batch of batches) this.#checkTimestamps(batch.bytes, batch.maxTimestamp, nowMs);
    const { chunks, appended, size } = layoutChunks(items, this.endOffset, L.BASE_OFFSET_LENGTH);
    if (size > this.#config.segmentBytes) {
      throw new RecordTooLargeError(`append of ${size} bytes exceeds segmentBytes ${this.#config.segmentBytes}`, { expected: this.#config.segmentBytes, actual: size });
    }
    // Large inputs are verified on the addon's worker thread while they are written (batch-validation.ts).
    const beside = this.#config.fileSystem.writesOnlyRead === true;
    const verifyAround = (write?: () => void): void => {
      if (verified) write?.();
      else verifyIncomingBatchesAround(bytes, batches, write, beside);
      verified = true;
    };
    this.#local.appendVerified(chunks, appended, verifyAround);
    const lastOffset = appended[appended.length - 1]!.lastOffset;
    this.#afterWrite(batches[0]!, lastOffset, appended[0]!.maxTimestamp, this.#config.clock.nowMs());
    let records = 0;
    for (const batch of batches) records += batch.recordCount;
    this.#recordAppend(batches.length, records, size);
    await this.#durableWait(durability);
    return { baseOffset: appended[0]!.lastOffset - batches[0]!.lastOffsetDelta, lastOffset };
  }

  /** The original offsets when `batch` retries one its idempotent producer already wrote. */
  #duplicateOf(batch: IncomingBatch): AppendResult | undefined {
    const duplicate = this.#producers.check(batch);
    if (duplicate === undefined) return undefined;
    this.#counters.duplicateBatches++;
    return { baseOffset: duplicate.lastOffset - duplicate.offsetDelta, lastOffset: duplicate.lastOffset, duplicate: true };
  }

  /** After the write: the producer state learns the batch (only one with a producer id has any). */
  #afterWrite(first: IncomingBatch, lastOffset: number, maxTimestamp: number, nowMs: number): void {
    if (first.producerId >= 0) this.#producers.update(first, lastOffset, maxTimestamp, nowMs);
  }

  /** Counters, then waiting readers. */
  #recordAppend(batches: number, records: number, size: number): void {
    const c = this.#counters;
    c.bytesAppended += size;
    c.batchesAppended += batches;
    c.recordsAppended += records;
    this.#appendedBytes += size;
    if (this.#purgatory.size > 0) this.#purgatory.notify(this.#appendedBytes);
  }

  /**
   * The durability wait, or `undefined` when there is none (not an async function: each async layer
   * costs the append path a promise and a microtask turn). Kafka's flush-in-append-path rule first;
   * an fsync failure has already failed the log and is typed (see the `GroupCommit` in the constructor).
   */
  #durableWait(durability: Durability): Promise<void> | undefined {
    if (this.endOffset - this.recoveryPoint >= this.#config.flushIntervalMessages) return this.flush();
    return durability === 'fsync' ? this.#groupCommit.request() : undefined;
  }

  #durabilityOption(value: Durability | undefined): Durability {
    return value === undefined ? this.#config.durability : checkDurability(value);
  }

  #checkExpectedOffset(expected: number | undefined): void {
    if (expected === undefined) return;
    checkOffset(expected, 'expectedOffset');
    if (expected !== this.endOffset) {
      throw new OffsetConflictError(`expected endOffset ${expected}, but it is ${this.endOffset}`, { expected, actual: this.endOffset, offset: this.endOffset });
    }
  }

  #checkBatchSize(size: number): void {
    if (size > this.#config.maxMessageBytes) {
      throw new RecordTooLargeError(`batch of ${size} bytes exceeds maxMessageBytes ${this.#config.maxMessageBytes}`, {
        expected: this.#config.maxMessageBytes,
        actual: size,
      });
    }
  }

  /**
   * Kafka's timestamp bounds (`message.timestamp.before/after.max.ms`), checked per record when set (this
   * decompresses a compressed batch). Without an upper bound, a timestamp far ahead gets a warning.
   */
  #checkTimestamps(bytes: Uint8Array, maxTimestamp: number, nowMs: number): void {
    const { messageTimestampBeforeMaxMs: before, messageTimestampAfterMaxMs: after } = this.#config;
    if (Number.isFinite(before) || Number.isFinite(after)) {
      for (const record of new DefaultRecordBatch(bytes).records()) {
        if (record.timestamp < nowMs - before || record.timestamp > nowMs + after) {
          throw new InvalidTimestampError(`record timestamp ${record.timestamp} is outside [now - ${before}, now + ${after}]`, {
            expected: [nowMs - before, nowMs + after],
            actual: record.timestamp,
          });
        }
      }
    } else if (maxTimestamp > nowMs + FUTURE_TIMESTAMP_WARNING_MS && this.#warnedSegment !== this.#local.active.baseOffset) {
      this.#warnedSegment = this.#local.active.baseOffset;
      this.emit('warning', {
        code: 'FUTURE_TIMESTAMP',
        message: `a record timestamp ${maxTimestamp} is more than a day ahead of the clock (${nowMs}); its segment will not expire by time retention until then`,
        offset: this.endOffset,
        timestamp: maxTimestamp,
      });
    }
  }

  #ensureOpen(): void {
    if (this.#closing !== undefined) throw new LogClosedError(`log ${this.dir} is closed`, { file: this.dir });
  }

  #ensureWritable(): void {
    this.#ensureOpen();
    if (this.#failure !== undefined) {
      throw new LogFailedError(`log ${this.dir} refuses writes after an I/O failure; reopen it`, { file: this.dir, cause: this.#failure });
    }
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.emit('failed', error);
  }

  /** Runs a background task; a failure marks the log failed instead of going unhandled. */
  #background(task: Promise<unknown>): void {
    task.catch((error: unknown) => {
      if (this.#closing !== undefined && error instanceof LogClosedError) return;
      this.#fail(isLogStorageError(error) ? error : ioError('background task', this.dir, error));
    });
  }

  #onRoll(info: { baseOffset: number; previousBaseOffset: number }, flushed: Promise<void>): void {
    this.#counters.rolls++;
    this.#background(flushed);
    // The producer state for offsets below the new segment, captured now, written in the background.
    const snapshot = this.#producers.encodeSnapshot();
    this.#background(this.#local.mutex.run(() => this.#snapshots.write(info.baseOffset, snapshot)));
    // Emitted once the append that rolled has written its bytes: a roll happens in the middle of an
    // append, before its write, and a listener that appended from inside the event would reuse the
    // batch builder's buffer under the outer append.
    queueMicrotask(() => this.emit('roll', info));
  }

  #onFlush(info: { offset: number; durationMs: number }): void {
    this.#lastFlushMs = this.#config.clock.nowMs();
    this.#counters.flushLatency.add(info.durationMs);
    this.emit('flush', info);
  }

  /** Rebuilds producer state: the newest usable snapshot, then the batch headers after it (Kafka). */
  #loadProducerState(): void {
    const nowMs = this.#config.clock.nowMs();
    const from = this.#snapshots.load(this.endOffset, this.#producers, nowMs) ?? this.startOffset;
    this.#local.forEachBatchFrom(from, (batch: RecordBatch) => {
      if (batch.magic === L.MAGIC_V2 && batch.producerId >= 0 && !batch.isControl && batch.lastOffset >= from) {
        this.#producers.update(incomingOf(batch as DefaultRecordBatch), batch.lastOffset, batch.maxTimestamp, nowMs);
      }
    });
  }

  /**
   * Reads from `offset` (Kafka's read contract): the result starts at the batch that holds `offset` (which
   * may start before it), holds at most `maxBytes` (but always one whole batch with `minOneMessage`), and
   * may end mid-batch; `FileRecords.batches()` does not yield the partial batch. Reading at `endOffset`
   * returns an empty result. Safe during append.
   *
   * @throws `ERR_OFFSET_OUT_OF_RANGE` below `startOffset` or above `endOffset`; `ERR_CORRUPT_RECORD` /
   *   `ERR_CORRUPT_INDEX` for damage met while locating the offset; `ERR_LOG_CLOSED`.
   */
  async read(offset: number, options: ReadOptions = {}): Promise<FileRecords> {
    this.#ensureOpen();
    this.#checkReadable(offset);
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new InvalidArgumentError('maxBytes must be a non-negative integer', { actual: maxBytes });
    const records = this.#local.read(offset, maxBytes, options.minOneMessage ?? true);
    this.#counters.reads++;
    this.#counters.bytesRead += records.sizeInBytes;
    return records;
  }

  #checkReadable(offset: number): void {
    checkOffset(offset, 'offset');
    if (offset < this.startOffset || offset > this.endOffset) {
      throw new OffsetOutOfRangeError(`offset ${offset} is outside [${this.startOffset}, ${this.endOffset}]`, {
        file: this.dir,
        offset,
        expected: [this.startOffset, this.endOffset],
      });
    }
  }

  /**
   * Waits until at least `minBytes` are readable at or past `offset`, like a Kafka fetch held in the
   * broker's purgatory: woken by appends, never by polling. Resolves with the number of readable bytes
   * (below `minBytes` if `maxWaitMs` passed first).
   *
   * @throws `ERR_OFFSET_OUT_OF_RANGE` (also if retention passes the offset while waiting), `ERR_ABORTED`,
   *   `ERR_LOG_CLOSED` (also if the log closes while waiting), `ERR_INVALID_ARGUMENT`.
   */
  async waitForData(offset: number, options: WaitOptions = {}): Promise<number> {
    this.#ensureOpen();
    this.#checkReadable(offset);
    const minBytes = options.minBytes ?? 1;
    const maxWaitMs = options.maxWaitMs ?? Infinity;
    if (!Number.isSafeInteger(minBytes) || minBytes < 1) throw new InvalidArgumentError('minBytes must be a positive integer', { actual: minBytes });
    if (!(maxWaitMs >= 0)) throw new InvalidArgumentError('maxWaitMs must be >= 0', { actual: maxWaitMs });
    const available = this.#local.bytesFrom(offset);
    if (available >= minBytes) return available;
    await this.#purgatory.wait({ satisfiedAt: this.#appendedBytes + minBytes - available, maxWaitMs, signal: options.signal });
    this.#checkReadable(offset);
    return this.#local.bytesFrom(offset);
  }

  /**
   * Every record from `from` on, as an async iterable: reads what is on disk, then follows appends live,
   * without gaps or duplicates, across segment rolls. Control records are skipped. Ends quietly when the
   * log closes; a reader that falls behind `startOffset` (retention) gets `ERR_OFFSET_OUT_OF_RANGE`;
   * `signal` ends it with `ERR_ABORTED`.
   *
   * @example
   * ```ts
   * for await (const record of log.tail(committed, { signal })) handle(record);
   * ```
   */
  async *tail(from: number, options: TailOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
    let next = from;
    for (;;) {
      if (options.signal?.aborted) throw new AbortedError('tail aborted', { file: this.dir });
      if (this.isClosed) return;
      const range = await this.read(next, { maxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES });
      let progressed = false;
      for (const batch of range.batches()) {
        if (batch.lastOffset < next) continue;
        if (!batch.isControl) for (const record of batch.records()) if (record.offset >= next) yield record;
        next = batch.nextOffset;
        progressed = true;
      }
      if (progressed) continue;
      try {
        await this.waitForData(next, options.signal === undefined ? {} : { signal: options.signal });
      } catch (error) {
        if (error instanceof LogClosedError) return;
        throw error;
      }
    }
  }

  /** {@link tail} as a Node `Readable` in object mode. */
  tailStream(from: number, options: TailOptions = {}): Readable {
    return Readable.from(this.tail(from, options), { objectMode: true });
  }

  /**
   * The first offset at or after `startOffset` whose record timestamp is >= `timestamp` (Kafka
   * ListOffsets): the first such record in offset order, not the closest timestamp. `null` if none.
   * `-1` (latest) returns `endOffset`, `-2` (earliest) returns `startOffset`, as in Kafka.
   *
   * @throws `ERR_INVALID_ARGUMENT` for a timestamp below -2; `ERR_LOG_CLOSED`.
   */
  async offsetForTimestamp(timestamp: number): Promise<number | null> {
    this.#ensureOpen();
    if (!Number.isSafeInteger(timestamp) || timestamp < -2) throw new InvalidArgumentError('timestamp must be an integer >= -2', { actual: timestamp });
    if (timestamp === -1) return this.endOffset;
    if (timestamp === -2) return this.startOffset;
    return this.#local.offsetForTimestamp(timestamp);
  }

  /**
   * Removes every record at or after `offset`. The cut falls on a batch boundary: the batch that holds
   * `offset` is removed whole, so `endOffset` becomes that batch's base offset (equal to `offset` when it
   * is a boundary). Below `startOffset`, the log is emptied and restarts at `offset` (Kafka
   * `truncateFullyAndStartAt`). Readers holding older ranges keep reading them. Returns the new `endOffset`.
   *
   * @throws `ERR_INVALID_ARGUMENT` for a bad offset; `ERR_LOG_CLOSED`; `ERR_LOG_FAILED`; `ERR_IO`.
   */
  async truncateTo(offset: number): Promise<number> {
    this.#ensureWritable();
    checkOffset(offset, 'offset');
    return this.#holdingAppends(() =>
      this.#local.mutex.run(async () => {
        if (offset >= this.endOffset) return this.endOffset;
        const segmentsDeleted = await this.#local.truncateTo(offset);
        this.#loadProducerState();
        this.#purgatory.failAll(new OffsetOutOfRangeError(`the log was truncated to ${this.endOffset}`, { offset: this.endOffset }));
        this.emit('truncate', { offset: this.endOffset, segmentsDeleted });
        return this.endOffset;
      }),
    );
  }

  async #holdingAppends<T>(operation: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#appendsHeld;
    this.#appendsHeld = held;
    try {
      if (previous !== undefined) await previous;
      return await operation();
    } finally {
      if (this.#appendsHeld === held) this.#appendsHeld = undefined;
      release();
    }
  }

  /**
   * Moves `startOffset` up to `offset` (Kafka DeleteRecords): records below it are no longer readable,
   * and whole segments below it are deleted now. The new start offset is checkpointed before this
   * resolves, so it survives a crash.
   *
   * @throws `ERR_OFFSET_OUT_OF_RANGE` above `endOffset`; `ERR_INVALID_ARGUMENT`; `ERR_LOG_CLOSED`.
   */
  async deleteRecordsBefore(offset: number): Promise<RetentionResult> {
    this.#ensureWritable();
    checkOffset(offset, 'offset');
    if (offset > this.endOffset) {
      throw new OffsetOutOfRangeError(`cannot delete records past endOffset ${this.endOffset}`, { offset, expected: [0, this.endOffset] });
    }
    // Appends are held out, not only the mutex taken: an appendBatch between its write and its commit
    // would otherwise commit into an active segment that this just replaced (a review found it).
    return this.#holdingAppends(() =>
      this.#local.mutex.run(async () => {
        if (offset > this.#local.startOffset) this.#local.startOffset = offset;
        return this.#retain();
      }),
    );
  }

  /**
   * Runs retention now (it also runs every `retentionCheckIntervalMs`): whole segments go by start
   * offset, then size (`retentionBytes`), then time (`retentionMs`); see `retention.ts`. Deleted segments
   * are renamed to `.deleted` and unlinked after `fileDeleteDelayMs`, so readers holding ranges keep
   * working; the disk space is freed then.
   */
  async applyRetention(): Promise<RetentionResult> {
    this.#ensureWritable();
    return this.#holdingAppends(() => this.#local.mutex.run(() => this.#retain())); // see deleteRecordsBefore
  }

  async #retain(): Promise<RetentionResult> {
    const nowMs = this.#config.clock.nowMs();
    this.#lastRetentionMs = nowMs;
    this.#producers.removeExpired(nowMs, this.#config.producerIdExpirationMs);
    const segments = this.#local.segments.all().map((s) => ({ baseOffset: s.baseOffset, size: s.size, largestTimestamp: this.#largestTimestamp(s) }));
    const { count } = segmentsToDelete(segments, {
      nowMs,
      retentionMs: this.#config.retentionMs,
      retentionBytes: this.#config.retentionBytes,
      logStartOffset: this.#local.startOffset,
      endOffset: this.endOffset,
    });
    const deleted = await this.#local.deleteOldestSegments(count);
    await this.#local.writeCheckpoints();
    this.#purgatory.notify(this.#appendedBytes);
    if (deleted.segments === 0) return { deletedSegments: 0, deletedBytes: 0 };
    this.#counters.retentionDeletedSegments += deleted.segments;
    this.#counters.retentionDeletedBytes += deleted.bytes;
    this.emit('retention', { deletedSegments: deleted.segments, deletedBytes: deleted.bytes, startOffset: this.startOffset });
    return { deletedSegments: deleted.segments, deletedBytes: deleted.bytes };
  }

  /** Kafka: the largest record timestamp, or the file's mtime when records carry none (v0 data). */
  #largestTimestamp(segment: { largestTimestamp: number; log: { path: string } }): number {
    const largest = segment.largestTimestamp;
    if (largest >= 0) return largest;
    return this.#config.fileSystem.stat(segment.log.path)?.mtimeMs ?? -1;
  }

  /**
   * Stores `offset` as consumer `name`'s position, durably (atomic file write) before resolving, so a
   * queue consumer resumes there after a crash. Concurrent commits share file writes.
   *
   * @throws `ERR_INVALID_ARGUMENT` (bad name, or an offset outside `[0, endOffset]`); `ERR_LOG_CLOSED`.
   */
  async commitOffset(name: string, offset: number): Promise<void> {
    this.#ensureOpen();
    checkConsumerName(name);
    checkOffset(offset, 'offset');
    if (offset > this.endOffset) throw new InvalidArgumentError(`offset ${offset} is past endOffset ${this.endOffset}`, { offset, actual: offset });
    await this.#consumers.commit(name, offset);
  }

  /** The offset last committed by `name`, or `undefined`. */
  committedOffset(name: string): number | undefined {
    this.#ensureOpen();
    return this.#consumers.get(checkConsumerName(name));
  }

  /** Every committed consumer offset. */
  committedOffsets(): ReadonlyMap<string, number> {
    this.#ensureOpen();
    return new Map(this.#consumers.all());
  }

  /**
   * Writes everything appended so far to disk (fsync of segment files and indexes, and of the directory
   * when segments were created since the last flush), then moves the recovery point.
   *
   * @throws `ERR_LOG_CLOSED`; `ERR_IO` (the log then refuses writes until reopened).
   */
  async flush(): Promise<void> {
    this.#ensureOpen();
    await this.#local.mutex.run(async () => {
      try {
        await this.#local.flush(this.endOffset);
      } catch (error) {
        const failure = isLogStorageError(error) ? error : ioError('flush', this.dir, error);
        this.#fail(failure);
        throw failure;
      }
    });
  }

  /** A snapshot of the log's state and activity. */
  metrics(): LogMetrics {
    const c = this.#counters;
    const report = this.recoveryReport;
    return {
      startOffset: this.startOffset,
      endOffset: this.endOffset,
      recoveryPoint: this.recoveryPoint,
      sizeInBytes: this.size,
      segments: this.#local.segments.count,
      appended: { bytes: c.bytesAppended, records: c.recordsAppended, batches: c.batchesAppended, duplicateBatches: c.duplicateBatches },
      read: { bytes: c.bytesRead, reads: c.reads },
      rolls: c.rolls,
      flushes: c.flushLatency.percentiles(),
      groupCommit: {
        syncs: this.#groupCommit.syncs,
        appends: this.#groupCommit.requests,
        appendsPerSync: this.#groupCommit.syncs === 0 ? 0 : this.#groupCommit.requests / this.#groupCommit.syncs,
        latency: c.groupCommitLatency.percentiles(),
      },
      retention: { deletedSegments: c.retentionDeletedSegments, deletedBytes: c.retentionDeletedBytes },
      waitingReaders: this.#purgatory.size,
      recovery: {
        clean: report.clean,
        recoveredSegments: report.recoveredSegments,
        truncatedBytes: report.truncations.reduce((sum, t) => sum + t.bytes, 0),
        durationMs: report.durationMs,
      },
    };
  }

  /**
   * Runs the periodic tasks that are due at `nowMs`: flush (`flushIntervalMs`), retention
   * (`retentionCheckIntervalMs`) and the recovery-point checkpoint. A `LogManager` calls this from its
   * scheduler; a standalone log calls it from its own timer.
   */
  async runScheduledTasks(nowMs = this.#config.clock.nowMs()): Promise<void> {
    if (this.#closing !== undefined || this.#failure !== undefined) return;
    const { flushIntervalMs, retentionCheckIntervalMs, recoveryPointCheckpointIntervalMs } = this.#config;
    if (nowMs - this.#lastFlushMs >= flushIntervalMs) await this.flush();
    if (nowMs - this.#lastRetentionMs >= retentionCheckIntervalMs) await this.applyRetention();
    if (nowMs - this.#lastCheckpointMs >= recoveryPointCheckpointIntervalMs) {
      this.#lastCheckpointMs = nowMs;
      await this.#local.mutex.run(() => this.#local.writeCheckpoints());
    }
  }

  #startTimers(): void {
    if (!this.#config.backgroundTasks) return;
    const { flushIntervalMs, retentionCheckIntervalMs, recoveryPointCheckpointIntervalMs } = this.#config;
    const period = Math.min(flushIntervalMs, retentionCheckIntervalMs, recoveryPointCheckpointIntervalMs);
    if (!Number.isFinite(period)) return;
    const timer = setInterval(() => this.#background(this.runScheduledTasks()), Math.max(1, period));
    timer.unref();
    this.#timers.push(timer);
  }

  /**
   * Flushes, checkpoints, closes every file and releases the directory, then marks the shutdown clean so
   * the next open skips recovery. Idempotent: later calls return the same promise. Waiting readers are
   * released with `ERR_LOG_CLOSED` (tails end). Failures are reported together (an `AggregateError` when
   * there are several); the lock is released either way, and the clean marker is written only if
   * everything succeeded.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#purgatory.failAll(new LogClosedError(`log ${this.dir} closed`, { file: this.dir }));
    // truncateTo or deleteRecordsBefore may be holding appends: let them settle before files close.
    while (this.#appendsHeld !== undefined) await this.#appendsHeld.catch(() => undefined);
    const errors = await this.#local.mutex.run(async () => {
      const clean = this.#failure === undefined;
      if (clean) await this.#snapshots.write(this.endOffset, this.#producers.encodeSnapshot()).catch(() => undefined);
      return this.#local.close({ clean });
    });
    this.#lock.release();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `closing log ${this.dir} failed`);
  }

  /**
   * Releases every file, mapping and the lock without flushing or checkpointing, for use after an I/O
   * failure. The next open recovers from the last recovery point.
   */
  abandon(): void {
    if (this.#closing !== undefined) return;
    this.#closing = Promise.resolve();
    for (const timer of this.#timers) clearInterval(timer);
    this.#purgatory.failAll(new LogClosedError(`log ${this.dir} abandoned`, { file: this.dir }));
    this.#local.abandon();
    this.#lock.release();
  }
}

function checkOffset(offset: number, name: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`${name} must be a non-negative safe integer`, { actual: offset });
}

function codecOption(codec: CompressionName | CompressionId): CompressionId {
  try {
    return compressionIdOf(codec);
  } catch (error) {
    throw new InvalidArgumentError('compression must be a codec name or id', { actual: codec, cause: error });
  }
}

/** Encoder options for an `append` call (no object spread: it is slow on the append path). */
function encodeOptions(options: AppendOptions, baseOffset: number, compression: CompressionId, timestamp: number): EncodeOptions {
  if (options.producerId === undefined) {
    if (options.producerEpoch !== undefined || options.baseSequence !== undefined) {
      throw new InvalidArgumentError('producerEpoch and baseSequence need a producerId');
    }
    return { baseOffset, compression, timestamp };
  }
  return { baseOffset, compression, timestamp, producerId: options.producerId, producerEpoch: options.producerEpoch ?? 0, baseSequence: options.baseSequence ?? 0 };
}

function incomingOf(batch: DefaultRecordBatch): IncomingBatch {
  return {
    bytes: batch.bytes,
    position: 0,
    compression: batch.compression,
    lastOffsetDelta: batch.lastOffsetDelta,
    recordCount: batch.recordCount,
    maxTimestamp: batch.maxTimestamp,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
  };
}

/**
 * The write layout: each batch as one chunk, or (with `patchBytes` 8) as its assigned base offset in an
 * 8-byte chunk followed by the rest of the caller's bytes, so that the caller's buffer is never modified
 * and nothing is copied. The base offset lies outside the CRC, so the batch stays valid.
 */
function layoutChunks(items: { bytes: Uint8Array; batch: IncomingBatch }[], baseOffset: number, patchBytes: number) {
  const headers = patchBytes > 0 ? Buffer.allocUnsafe(items.length * patchBytes) : undefined; // from Node's pool
  const headerView = headers === undefined ? undefined : viewOf(headers);
  const chunks: Uint8Array[] = [];
  const appended: AppendedBatch[] = [];
  let next = baseOffset;
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    const { bytes, batch } = items[i]!;
    if (headers !== undefined) {
      writeInt64(headerView!, i * patchBytes, next);
      const header = new Uint8Array(headers.buffer, headers.byteOffset + i * patchBytes, patchBytes);
      chunks.push(header, new Uint8Array(bytes.buffer, bytes.byteOffset + patchBytes, bytes.byteLength - patchBytes));
    } else {
      chunks.push(bytes);
    }
    appended.push({ size: bytes.byteLength, lastOffset: next + batch.lastOffsetDelta, maxTimestamp: batch.maxTimestamp });
    next += batch.lastOffsetDelta + 1;
    size += bytes.byteLength;
  }
  return { chunks, appended, size };
}
