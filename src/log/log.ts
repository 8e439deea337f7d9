/**
 * The log: one directory of segments, laid out as a Kafka partition directory (Kafka `UnifiedLog` +
 * `LocalLog`). This class owns the configuration, the segment list, the offsets and the lifecycle; the
 * segment, loader and index classes do the work.
 *
 * Concurrency contract (STYLE 15): JS runs one thing at a time, and an append is synchronous from its
 * checks to its write, so appends are atomic with respect to each other and to reads without a lock.
 * Operations that await in the middle (flush, truncation, close) run under one mutex; truncation and
 * close also hold new appends back until they finish.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { CompressionId, CompressionName } from '../compression/codec.js';
import { compressionIdOf } from '../compression/registry.js';
import { InvalidArgumentError, LogClosedError, LogFailedError, OffsetOutOfRangeError, RecordTooLargeError, ioError, isLogStorageError } from '../errors.js';
import { viewOf, writeInt64 } from '../int64.js';
import * as L from '../record/layout.js';
import type { RecordInput } from '../record/record.js';
import { RecordBatchBuilder } from '../record/record-batch-builder.js';
import { DefaultRecordBatch } from '../record/record-batch.js';
import { writeFileAtomic, writeOffsetCheckpoint } from './checkpoint-file.js';
import { validateIncomingBatches, type IncomingBatch } from './batch-validation.js';
import { DirLock } from './dir-lock.js';
import { FileRecords } from './file-records.js';
import { CLEAN_SHUTDOWN_FILE, DELETED_SUFFIX, LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT } from './file-names.js';
import { loadLog, segmentConfigOf, type RecoveryReport } from './log-loader.js';
import { resolveLogConfig, type LogConfig, type LogOptions } from './log-options.js';
import { LogSegment, type AppendedBatch } from './log-segment.js';
import type { LogSegments } from './log-segments.js';
import { Mutex } from './mutex.js';

/** Options of {@link Log.append}. */
export interface AppendOptions {
  /** Codec for this batch. @defaultValue the log's `compression` option */
  readonly compression?: CompressionName | CompressionId;
}

/** Offsets assigned to an append. */
export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
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

/** Read-only facts about one segment. */
export interface SegmentInfo {
  readonly baseOffset: number;
  readonly sizeInBytes: number;
  readonly file: string;
  readonly isActive: boolean;
}

/** The log's events, with their payloads. */
export interface LogEvents {
  /** A new active segment was created. */
  roll: [{ baseOffset: number; previousBaseOffset: number }];
  /** Data up to `offset` (exclusive) is on disk. */
  flush: [{ offset: number; durationMs: number }];
  /** What opening the log found and repaired (also `log.recoveryReport`). */
  recovery: [RecoveryReport];
  /** `truncateTo` removed data. */
  truncate: [{ offset: number; bytesRemoved: number; segmentsDeleted: number }];
  /** A background flush or checkpoint failed; the log refuses writes until reopened. */
  failed: [Error];
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

export class Log extends EventEmitter<LogEvents> {
  /** The log's directory. */
  readonly dir: string;
  readonly #config: LogConfig;
  readonly #lock: DirLock;
  readonly #segments: LogSegments;
  readonly #builder = new RecordBatchBuilder();
  readonly #mutex = new Mutex();
  readonly #recoveryReport: RecoveryReport;
  #startOffset: number;
  #endOffset: number;
  #recoveryPoint: number;
  #checkpointedRecoveryPoint = -1;
  #checkpointedStartOffset = -1;
  #lastFlushMs: number;
  #appendsHeld: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #failure: Error | undefined;
  #timers: NodeJS.Timeout[] = [];
  #pendingDeletes = new Map<NodeJS.Timeout, LogSegment>();

  private constructor(dir: string, config: LogConfig, lock: DirLock, loaded: Awaited<ReturnType<typeof loadLog>>) {
    super();
    this.dir = dir;
    this.#config = config;
    this.#lock = lock;
    this.#segments = loaded.segments;
    this.#startOffset = loaded.startOffset;
    this.#endOffset = loaded.endOffset;
    this.#recoveryPoint = loaded.recoveryPoint;
    this.#recoveryReport = loaded.report;
    this.#lastFlushMs = config.clock.nowMs();
  }

  /**
   * Opens the log in `dir`, creating the directory if missing, recovering after a crash.
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
    try {
      const loaded = await loadLog(absolute, config);
      const log = new Log(absolute, config, lock, loaded);
      await log.#writeCheckpoints();
      log.#startTimers();
      return log;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** First offset still in the log (moves up with retention and `deleteRecordsBefore`). */
  get startOffset(): number {
    return this.#startOffset;
  }
  /** The offset the next appended record gets (Kafka's log end offset). */
  get endOffset(): number {
    return this.#endOffset;
  }
  /** Offsets below this are flushed to disk. */
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }
  /** Bytes of all segment files. */
  get size(): number {
    return this.#segments.sizeInBytes;
  }
  /** The segments, oldest first. */
  get segments(): readonly SegmentInfo[] {
    const all = this.#segments.all();
    return all.map((s, i) => Object.freeze({ baseOffset: s.baseOffset, sizeInBytes: s.size, file: s.log.path, isActive: i === all.length - 1 }));
  }
  /** What the last open found and repaired. */
  get recoveryReport(): RecoveryReport {
    return this.#recoveryReport;
  }
  get isClosed(): boolean {
    return this.#closing !== undefined;
  }
  /** @internal The validated configuration. */
  get config(): LogConfig {
    return this.#config;
  }

  /**
   * Appends `records` as one v2 batch and returns the offsets it got. Strings are encoded as UTF-8; a
   * record without a timestamp gets the clock's time. Safe to call concurrently: appends are ordered by call.
   *
   * @throws `ERR_INVALID_ARGUMENT` (empty or malformed records), `ERR_RECORD_TOO_LARGE` (above
   *   `maxMessageBytes`), `ERR_LOG_CLOSED`, `ERR_LOG_FAILED`, `ERR_IO` (nothing was appended then).
   */
  async append(records: readonly RecordInput[], options: AppendOptions = {}): Promise<AppendResult> {
    await this.#waitForAppends();
    if (!Array.isArray(records) || records.length === 0) throw new InvalidArgumentError('append needs a non-empty array of records');
    const compression = options.compression === undefined ? this.#config.compression : this.#codecOption(options.compression);
    const bytes = this.#builder.buildReusable(records, { baseOffset: this.#endOffset, compression, timestamp: this.#config.clock.nowMs() });
    if (bytes.byteLength > this.#config.maxMessageBytes) {
      throw new RecordTooLargeError(`batch of ${bytes.byteLength} bytes exceeds maxMessageBytes ${this.#config.maxMessageBytes}`, {
        expected: this.#config.maxMessageBytes,
        actual: bytes.byteLength,
      });
    }
    this.#checkChunkSize(bytes.byteLength);
    const batch = new DefaultRecordBatch(bytes);
    const appended = { size: bytes.byteLength, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp };
    this.#appendChunk([bytes], [appended]);
    await this.#afterAppend();
    return { baseOffset: batch.baseOffset, lastOffset: appended.lastOffset };
  }

  /**
   * Appends pre-encoded v2 batches (for example straight from a Kafka producer) as they are: offsets are
   * assigned by writing the base-offset field, compressed payloads are never recompressed, and the
   * caller's buffer is not modified. All batches are validated before any is written.
   *
   * @throws `ERR_CORRUPT_RECORD` (bad frame, CRC, record count), `ERR_RECORD_TOO_LARGE`,
   *   `ERR_INVALID_ARGUMENT` (not v2, control or LogAppendTime batches), `ERR_LOG_CLOSED`, `ERR_IO`.
   */
  async appendBatch(bytes: Uint8Array): Promise<AppendResult> {
    await this.#waitForAppends();
    const batches = validateIncomingBatches(bytes, this.#config.maxMessageBytes);
    this.#checkChunkSize((bytes as Uint8Array).byteLength);
    const baseOffset = this.#endOffset;
    const headers = Buffer.allocUnsafe(batches.length * L.BASE_OFFSET_LENGTH);
    const chunks: Uint8Array[] = [];
    const appended: AppendedBatch[] = [];
    let next = baseOffset;
    batches.forEach((batch: IncomingBatch, i) => {
      const header = headers.subarray(i * L.BASE_OFFSET_LENGTH, (i + 1) * L.BASE_OFFSET_LENGTH);
      writeInt64(viewOf(header), 0, next);
      chunks.push(header, batch.bytes.subarray(L.BASE_OFFSET_LENGTH));
      appended.push({ size: batch.bytes.byteLength, lastOffset: next + batch.lastOffsetDelta, maxTimestamp: batch.maxTimestamp });
      next += batch.lastOffsetDelta + 1;
    });
    this.#appendChunk(chunks, appended);
    await this.#afterAppend();
    return { baseOffset, lastOffset: next - 1 };
  }

  #codecOption(codec: CompressionName | CompressionId): CompressionId {
    try {
      return compressionIdOf(codec);
    } catch (error) {
      throw new InvalidArgumentError('compression must be a codec name or id', { actual: codec, cause: error });
    }
  }

  /** Kafka rejects a chunk larger than a segment (`RecordBatchTooLargeException`). */
  #checkChunkSize(size: number): void {
    if (size > this.#config.segmentBytes) {
      throw new RecordTooLargeError(`append of ${size} bytes exceeds segmentBytes ${this.#config.segmentBytes}`, { expected: this.#config.segmentBytes, actual: size });
    }
  }

  /** The synchronous core of every append: roll if needed, one write, offsets advance. */
  #appendChunk(chunks: readonly Uint8Array[], batches: readonly AppendedBatch[]): void {
    this.#ensureWritable();
    const last = batches[batches.length - 1]!;
    let size = 0;
    let maxTimestamp = -1;
    for (const b of batches) {
      size += b.size;
      maxTimestamp = Math.max(maxTimestamp, b.maxTimestamp);
    }
    this.#maybeRoll(size, last.lastOffset, maxTimestamp);
    this.#segments.last!.append(chunks, batches);
    this.#endOffset = last.lastOffset + 1;
  }

  /** Kafka's flush-in-append-path rule: flush once enough messages are unflushed. */
  async #afterAppend(): Promise<void> {
    if (this.#endOffset - this.#recoveryPoint >= this.#config.flushIntervalMessages) await this.flush();
  }

  async #waitForAppends(): Promise<void> {
    while (this.#appendsHeld !== undefined && this.#closing === undefined) await this.#appendsHeld;
    this.#ensureWritable();
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

  /** Rolls before a chunk of `size` bytes ending at `lastOffset` when the segment's roll rule says so. */
  #maybeRoll(size: number, lastOffset: number, maxTimestamp: number): void {
    const active = this.#segments.last!;
    const rollParams = { size, lastOffset, maxTimestamp, nowMs: this.#config.clock.nowMs(), segmentMs: this.#config.segmentMs };
    if (!active.shouldRoll(rollParams)) return;
    if (active.size === 0) {
      // KAFKA-6388: an empty active segment that still asks to roll (its base is too far behind) is replaced.
      this.#segments.remove(active);
      active.deleteFiles();
    } else {
      active.onBecomeInactive();
    }
    const segment = this.#createSegment(this.#endOffset);
    this.#segments.add(segment);
    this.emit('roll', { baseOffset: segment.baseOffset, previousBaseOffset: active.baseOffset });
    // Kafka flushes the rolled segment in the background; that also makes the new files' names durable.
    this.#background(this.flush(segment.baseOffset));
  }

  #createSegment(baseOffset: number): LogSegment {
    const { segmentJitterMs, segmentMs } = this.#config;
    const rollJitterMs = segmentJitterMs === 0 ? 0 : Math.floor(this.#config.random() * Math.min(segmentJitterMs, segmentMs));
    return LogSegment.create({
      fs: this.#config.fileSystem,
      dir: this.dir,
      baseOffset,
      config: segmentConfigOf(this.#config),
      nowMs: this.#config.clock.nowMs(),
      rollJitterMs,
    });
  }

  /** Runs a background task; a failure marks the log failed instead of going unhandled. */
  #background(task: Promise<unknown>): void {
    task.catch((error: unknown) => {
      if (this.#closing !== undefined && error instanceof LogClosedError) return;
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.emit('failed', error);
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
    checkOffset(offset, 'offset');
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new InvalidArgumentError('maxBytes must be a non-negative integer', { actual: maxBytes });
    if (offset < this.#startOffset || offset > this.#endOffset) {
      throw new OffsetOutOfRangeError(`offset ${offset} is outside [${this.#startOffset}, ${this.#endOffset}]`, {
        file: this.dir,
        offset,
        expected: [this.#startOffset, this.#endOffset],
      });
    }
    const minOneMessage = options.minOneMessage ?? true;
    for (let i = Math.max(0, this.#segments.floorIndex(offset)); i < this.#segments.count; i++) {
      const segment = this.#segments.at(i)!;
      const slice = segment.read({ startOffset: offset, maxSize: maxBytes, maxPosition: segment.size, minOneMessage });
      if (slice !== undefined) return this.#fileRecords(segment, offset, slice);
    }
    const active = this.#segments.last!;
    return this.#fileRecords(active, offset, { position: active.size, view: new Uint8Array(0), firstEntryIncomplete: false });
  }

  #fileRecords(segment: LogSegment, offset: number, slice: { position: number; view: Uint8Array; firstEntryIncomplete: boolean }): FileRecords {
    return new FileRecords({
      file: segment.log.path,
      position: slice.position,
      view: slice.view,
      requestedOffset: offset,
      firstEntryIncomplete: slice.firstEntryIncomplete,
      maxBatchBytes: segmentConfigOf(this.#config).maxBatchBytes,
    });
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
    if (timestamp === -1) return this.#endOffset;
    if (timestamp === -2) return this.#startOffset;
    for (const segment of this.#segments.all()) {
      if (segment.largestTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(timestamp, this.#startOffset);
      if (found !== undefined) return found.offset;
    }
    return null;
  }

  /**
   * Removes every record at or after `offset`. The cut falls on a batch boundary: the batch that holds
   * `offset` is removed whole, so `endOffset` becomes that batch's base offset (equal to `offset` when it
   * is a boundary). Below `startOffset`, the log is emptied and restarts at `offset` (Kafka
   * `truncateFullyAndStartAt`). Readers holding older ranges keep reading them. Returns the new `endOffset`.
   *
   * @throws `ERR_INVALID_ARGUMENT` for a bad offset; `ERR_LOG_CLOSED`; `ERR_IO`.
   */
  async truncateTo(offset: number): Promise<number> {
    this.#ensureWritable();
    checkOffset(offset, 'offset');
    return this.#holdingAppends(() => this.#mutex.run(() => this.#truncate(offset)));
  }

  async #truncate(offset: number): Promise<number> {
    if (offset >= this.#endOffset) return this.#endOffset;
    const before = this.size;
    const doomed = this.#segments.all().filter((s) => s.baseOffset >= offset && s !== this.#segments.first);
    for (const segment of doomed) this.#removeSegment(segment);
    if (offset <= this.#segments.first!.baseOffset || offset < this.#startOffset) {
      await this.#truncateFully(offset);
    } else {
      const active = this.#segments.last!;
      if (doomed.length > 0) active.activate();
      await active.truncateTo(offset);
      this.#endOffset = active.readNextOffset();
    }
    this.#recoveryPoint = Math.min(this.#recoveryPoint, this.#endOffset);
    await this.#writeCheckpoints();
    this.emit('truncate', { offset: this.#endOffset, bytesRemoved: before - this.size, segmentsDeleted: doomed.length });
    return this.#endOffset;
  }

  /** Removes every segment and starts over with one empty segment at `offset`. */
  async #truncateFully(offset: number): Promise<void> {
    for (const segment of this.#segments.all()) this.#removeSegment(segment);
    this.#segments.add(this.#createSegment(offset));
    this.#startOffset = offset;
    this.#endOffset = offset;
    await this.#syncDir();
  }

  /** Takes `segment` out of the log, renames its files to `.deleted`, and unlinks them later. */
  #removeSegment(segment: LogSegment): void {
    this.#segments.remove(segment);
    segment.close();
    segment.changeSuffix(this.dir, DELETED_SUFFIX);
    const timer = setTimeout(() => {
      this.#pendingDeletes.delete(timer);
      this.#deleteQuietly(segment);
    }, this.#config.fileDeleteDelayMs);
    timer.unref();
    this.#pendingDeletes.set(timer, segment);
  }

  #deleteQuietly(segment: LogSegment): void {
    try {
      segment.deleteFiles();
    } catch {
      // A leftover .deleted file is removed at the next open.
    }
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
   * Writes everything appended so far to disk (fsync of segment files and indexes, and of the directory
   * when segments were created since the last flush), then moves the recovery point. Resolves when done.
   *
   * @throws `ERR_LOG_CLOSED`; `ERR_IO` (the log then refuses writes until reopened).
   */
  async flush(upTo?: number): Promise<void> {
    this.#ensureOpen();
    return this.#mutex.run(() => this.#flush(upTo ?? this.#endOffset));
  }

  async #flush(upTo: number): Promise<void> {
    const target = Math.min(upTo, this.#endOffset);
    if (target <= this.#recoveryPoint) return;
    const started = performance.now();
    const from = this.#recoveryPoint;
    const segments = this.#segments.all().filter((s, i, all) => {
      const next = all[i + 1];
      return s.baseOffset < target && (next === undefined || next.baseOffset > from);
    });
    try {
      for (const segment of segments) await segment.flush();
      if (segments.some((s) => s.baseOffset >= from)) await this.#syncDir();
    } catch (error) {
      const failure = isLogStorageError(error) ? error : ioError('flush', this.dir, error);
      this.#fail(failure);
      throw failure;
    }
    this.#recoveryPoint = Math.max(this.#recoveryPoint, target);
    this.#lastFlushMs = this.#config.clock.nowMs();
    this.emit('flush', { offset: target, durationMs: performance.now() - started });
  }

  async #syncDir(): Promise<void> {
    try {
      await this.#config.fileSystem.syncDir(this.dir);
    } catch (error) {
      throw ioError('fsync directory', this.dir, error);
    }
  }

  /** Checkpoints the recovery point and start offset if they moved (atomic writes). */
  async #writeCheckpoints(): Promise<void> {
    const fs = this.#config.fileSystem;
    if (this.#recoveryPoint !== this.#checkpointedRecoveryPoint) {
      const value = this.#recoveryPoint;
      await writeOffsetCheckpoint(fs, this.dir, RECOVERY_POINT_CHECKPOINT, value);
      this.#checkpointedRecoveryPoint = value;
    }
    if (this.#startOffset !== this.#checkpointedStartOffset) {
      const value = this.#startOffset;
      await writeOffsetCheckpoint(fs, this.dir, LOG_START_OFFSET_CHECKPOINT, value);
      this.#checkpointedStartOffset = value;
    }
  }

  #startTimers(): void {
    const every = (ms: number, task: () => Promise<void>): void => {
      if (!Number.isFinite(ms)) return;
      const timer = setInterval(() => {
        if (this.#closing === undefined && this.#failure === undefined) this.#background(task());
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#config.recoveryPointCheckpointIntervalMs, () => this.#mutex.run(() => this.#writeCheckpoints()));
    every(this.#config.flushIntervalMs, async () => {
      if (this.#config.clock.nowMs() - this.#lastFlushMs >= this.#config.flushIntervalMs) await this.flush();
    });
  }

  /**
   * Flushes, checkpoints, closes every file and releases the directory, then marks the shutdown clean so
   * the next open skips recovery. Idempotent: later calls return the same promise. Failures are reported
   * together (an `AggregateError` when there are several); the lock is released either way, and the clean
   * marker is written only if everything succeeded.
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
    const errors: unknown[] = [];
    const attempt = async (step: () => unknown): Promise<void> => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    await this.#mutex.run(async () => {
      if (this.#failure === undefined) {
        await attempt(() => this.#flush(this.#endOffset));
        await attempt(() => this.#writeCheckpoints());
      }
      await attempt(() => this.#segments.last!.log.discardPastEnd());
      for (const segment of this.#segments.all()) await attempt(() => segment.close());
      for (const [timer, segment] of this.#pendingDeletes) {
        clearTimeout(timer);
        this.#deleteQuietly(segment);
      }
      this.#pendingDeletes.clear();
      if (errors.length === 0 && this.#failure === undefined) {
        await attempt(() => writeFileAtomic(this.#config.fileSystem, this.dir, CLEAN_SHUTDOWN_FILE, Buffer.from('{"version":0,"brokerEpoch":-1}')));
      }
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
    for (const timer of this.#pendingDeletes.keys()) clearTimeout(timer);
    this.#pendingDeletes.clear();
    for (const segment of this.#segments.all()) segment.abandon();
    this.#lock.release();
  }
}

function checkOffset(offset: number, name: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`${name} must be a non-negative safe integer`, { actual: offset });
}
