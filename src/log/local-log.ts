/**
 * The storage core of one log (Kafka `LocalLog`): the segment list, the start and end offsets, the
 * recovery point, and the operations on them: append (with rolling), read, flush, truncation, deletion of
 * old segments, checkpoints and close. `Log` (Kafka `UnifiedLog`) stands on it and adds what users see:
 * validation, durability, producer state, waiting readers, metrics and events.
 *
 * Concurrency contract: `append`, `read` and the getters are synchronous and may run at any time. The
 * async operations (flush, sync, truncateTo, deleteSegments, writeCheckpoints, close) must run under
 * `mutex`; `truncateTo` and `close` also need appends held back (the caller holds them).
 */
import { ioError, isLogStorageError } from '../errors.js';
import { FileRecords } from './file-records.js';
import { writeFileAtomic, writeOffsetCheckpoint } from './checkpoint-file.js';
import { CLEAN_SHUTDOWN_FILE, DELETED_SUFFIX, LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT } from './file-names.js';
import { loadLog, segmentConfigOf, type RecoveryReport } from './log-loader.js';
import type { LogConfig } from './log-options.js';
import { LogSegment, type AppendedBatch, type SegmentSlice } from './log-segment.js';
import type { LogSegments } from './log-segments.js';
import { Mutex } from './mutex.js';
import type { RecordBatch } from '../record/record-batch.js';

/** What the storage core tells its owner. */
export interface LocalLogListener {
  /** A segment rolled; `flushed` settles when the rolled segment is on disk. */
  rolled(info: { baseOffset: number; previousBaseOffset: number }, flushed: Promise<void>): void;
  flushed(info: { offset: number; durationMs: number }): void;
}

export class LocalLog {
  readonly dir: string;
  readonly config: LogConfig;
  readonly segments: LogSegments;
  readonly mutex = new Mutex();
  readonly recoveryReport: RecoveryReport;
  startOffset: number;
  #endOffset: number;
  #recoveryPoint: number;
  /** Offsets below this are in the OS and fsynced (data only): the group-commit watermark. */
  #durableOffset: number;
  /** A segment file was created since the directory was last fsynced. */
  #dirDirty = false;
  #checkpointed = { recoveryPoint: -1, startOffset: -1 };
  #pendingDeletes = new Map<NodeJS.Timeout, LogSegment>();
  #listener: LocalLogListener;

  private constructor(dir: string, config: LogConfig, loaded: Awaited<ReturnType<typeof loadLog>>, listener: LocalLogListener) {
    this.dir = dir;
    this.config = config;
    this.segments = loaded.segments;
    this.startOffset = loaded.startOffset;
    this.#endOffset = loaded.endOffset;
    this.#recoveryPoint = loaded.recoveryPoint;
    this.#durableOffset = loaded.recoveryPoint;
    this.recoveryReport = loaded.report;
    this.#listener = listener;
  }

  /** Loads `dir` (created and locked by the caller) and checkpoints what recovery found. */
  static async load(dir: string, config: LogConfig, listener: LocalLogListener): Promise<LocalLog> {
    const local = new LocalLog(dir, config, await loadLog(dir, config), listener);
    try {
      await local.writeCheckpoints();
    } catch (error) {
      local.abandon();
      throw error;
    }
    return local;
  }

  get endOffset(): number {
    return this.#endOffset;
  }
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }
  get durableOffset(): number {
    return this.#durableOffset;
  }
  get active(): LogSegment {
    return this.segments.last!;
  }

  /**
   * Appends `batches` (given as `chunks` that concatenate to exactly their bytes) in one write, rolling
   * first if the active segment's roll rule says so (time-based rolling reads `nowMs`, the append's
   * clock reading). Synchronous; throws `LogIoError` with nothing appended if the write fails.
   */
  append(chunks: readonly Uint8Array[], batches: readonly AppendedBatch[], nowMs: number): void {
    this.#rollFor(batches, nowMs);
    this.active.append(chunks, batches);
    this.#endOffset = batches[batches.length - 1]!.lastOffset + 1;
  }

  /**
   * `append` of bytes that `verifyAround` checks while, or before, they are written (see LogSegment). When
   * the append rolls the segment they are checked first, with no write beside (`verifyAround()`): a refused
   * batch must not roll the log either (Kafka validates before `maybeRoll`).
   */
  appendVerified(chunks: readonly Uint8Array[], batches: readonly AppendedBatch[], verifyAround: (write?: () => void) => void): void {
    const nowMs = this.config.clock.nowMs();
    const roll = this.#rollParams(batches);
    if (this.#shouldRoll(roll.size, roll.lastOffset, roll.maxTimestamp, nowMs)) {
      verifyAround();
      this.#maybeRoll(roll.size, roll.lastOffset, roll.maxTimestamp, nowMs);
      this.active.appendVerified(chunks, batches, (write) => write());
    } else {
      this.active.appendVerified(chunks, batches, verifyAround);
    }
    this.#endOffset = batches[batches.length - 1]!.lastOffset + 1;
  }

  #rollFor(batches: readonly AppendedBatch[], nowMs: number): void {
    const { size, lastOffset, maxTimestamp } = this.#rollParams(batches);
    this.#maybeRoll(size, lastOffset, maxTimestamp, nowMs);
  }

  #rollParams(batches: readonly AppendedBatch[]): { size: number; lastOffset: number; maxTimestamp: number } {
    let size = 0;
    let maxTimestamp = -1;
    for (const b of batches) {
      size += b.size;
      maxTimestamp = Math.max(maxTimestamp, b.maxTimestamp);
    }
    return { size, lastOffset: batches[batches.length - 1]!.lastOffset, maxTimestamp };
  }

  #shouldRoll(size: number, lastOffset: number, maxTimestamp: number, nowMs: number): boolean {
    return this.active.shouldRoll({ size, lastOffset, maxTimestamp, nowMs, segmentMs: this.config.segmentMs });
  }

  #maybeRoll(size: number, lastOffset: number, maxTimestamp: number, nowMs: number): void {
    const active = this.active;
    if (!this.#shouldRoll(size, lastOffset, maxTimestamp, nowMs)) return;
    if (active.size === 0) {
      // KAFKA-6388: an empty active segment that still asks to roll (its base is too far behind) is replaced.
      this.segments.remove(active);
      active.deleteFiles();
    } else {
      active.onBecomeInactive();
    }
    const baseOffset = this.#endOffset;
    this.segments.add(this.createSegment(baseOffset));
    // Kafka flushes the rolled segment in the background; that also makes the new files' names durable.
    const flushed = this.mutex.run(() => this.flush(baseOffset));
    this.#listener.rolled({ baseOffset: this.#endOffset, previousBaseOffset: active.baseOffset }, flushed);
  }

  /** Creates an empty segment at `baseOffset` (the caller adds it to the list). */
  createSegment(baseOffset: number): LogSegment {
    const { segmentJitterMs, segmentMs } = this.config;
    const rollJitterMs = segmentJitterMs === 0 ? 0 : Math.floor(this.config.random() * Math.min(segmentJitterMs, segmentMs));
    const segment = LogSegment.create({
      fs: this.config.fileSystem,
      dir: this.dir,
      baseOffset,
      config: segmentConfigOf(this.config),
      nowMs: this.config.clock.nowMs(),
      rollJitterMs,
    });
    this.#dirDirty = true;
    return segment;
  }

  /**
   * Kafka's log read: the slice of the first segment that has a batch ending at or after `offset`. The
   * caller checked `startOffset <= offset <= endOffset`.
   */
  read(offset: number, maxBytes: number, minOneMessage: boolean): FileRecords {
    for (let i = Math.max(0, this.segments.floorIndex(offset)); i < this.segments.count; i++) {
      const segment = this.segments.at(i)!;
      // Offsets in a segment end before the next one begins: a bound that exposes a damaged base offset.
      const offsetLimit = this.segments.at(i + 1)?.baseOffset ?? this.#endOffset;
      const slice = segment.read({ startOffset: offset, maxSize: maxBytes, maxPosition: segment.size, minOneMessage, offsetLimit });
      if (slice !== undefined) return this.#fileRecords(segment, offset, slice, offsetLimit);
    }
    const empty = { position: this.active.size, view: new Uint8Array(0), firstEntryIncomplete: false };
    return this.#fileRecords(this.active, offset, empty, this.#endOffset);
  }

  #fileRecords(segment: LogSegment, offset: number, slice: SegmentSlice, offsetLimit: number): FileRecords {
    return new FileRecords({
      file: segment.log.path,
      position: slice.position,
      view: slice.view,
      requestedOffset: offset,
      firstEntryIncomplete: slice.firstEntryIncomplete,
      maxBatchBytes: segmentConfigOf(this.config).maxBatchBytes,
      offsetLimit,
    });
  }

  /**
   * The first offset at or after the start offset whose record timestamp is >= `timestamp` (Kafka
   * `fetchOffsetByTimestamp`): the first segment whose largest timestamp reaches it is searched.
   */
  offsetForTimestamp(timestamp: number): number | null {
    for (const segment of this.segments.all()) {
      if (segment.largestTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(timestamp, this.startOffset);
      if (found !== undefined) return found.offset;
    }
    return null;
  }

  /** Calls `visit` for every valid batch from the one holding `offset` to the end (headers only needed). */
  forEachBatchFrom(offset: number, visit: (batch: RecordBatch) => void): void {
    for (let i = Math.max(0, this.segments.floorIndex(offset)); i < this.segments.count; i++) {
      const segment = this.segments.at(i)!;
      segment.forEachBatchFrom(Math.max(offset, segment.baseOffset), visit);
    }
  }

  /** Bytes readable from the batch holding `offset` to the end of the log (0 at or past the end). */
  bytesFrom(offset: number): number {
    if (offset >= this.#endOffset) return 0;
    let bytes = 0;
    for (let i = Math.max(0, this.segments.floorIndex(offset)); i < this.segments.count; i++) {
      const segment = this.segments.at(i)!;
      if (bytes === 0) {
        const location = segment.translateOffset(offset);
        if (location !== undefined) bytes = segment.size - location.position;
      } else {
        bytes += segment.size;
      }
    }
    return bytes;
  }

  /** Segments holding data in `[from, to)`. */
  #segmentsBetween(from: number, to: number): LogSegment[] {
    return this.segments.all().filter((s, i, all) => {
      const next = all[i + 1];
      return s.baseOffset < to && (next === undefined || next.baseOffset > from);
    });
  }

  /**
   * Kafka's flush: fsync of the `.log` files and indexes holding `[recoveryPoint, upTo)`, and of the
   * directory if segments were created since; then the recovery point moves. Caller holds the mutex.
   */
  async flush(upTo: number): Promise<void> {
    const target = Math.min(upTo, this.#endOffset);
    if (target <= this.#recoveryPoint) return;
    const started = performance.now();
    const from = this.#recoveryPoint;
    const segments = this.#segmentsBetween(from, target);
    for (const segment of segments) await segment.flush();
    await this.#syncDirIfDirty();
    this.#recoveryPoint = Math.max(this.#recoveryPoint, target);
    this.#durableOffset = Math.max(this.#durableOffset, target);
    this.#listener.flushed({ offset: target, durationMs: performance.now() - started });
  }

  /**
   * The group-commit sync: fdatasync of the `.log` data written since the last one (and the directory if
   * a segment was created), without the indexes, which recovery can rebuild. Caller holds the mutex.
   */
  async syncData(): Promise<void> {
    const target = this.#endOffset;
    if (target <= this.#durableOffset) return;
    for (const segment of this.#segmentsBetween(this.#durableOffset, target)) await segment.flushData();
    await this.#syncDirIfDirty();
    this.#durableOffset = target;
  }

  async #syncDirIfDirty(): Promise<void> {
    if (!this.#dirDirty) return;
    this.#dirDirty = false;
    try {
      await this.config.fileSystem.syncDir(this.dir);
    } catch (error) {
      this.#dirDirty = true;
      throw ioError('fsync directory', this.dir, error);
    }
  }

  /**
   * Removes every batch at or after `offset` (see `Log.truncateTo`). Caller holds the mutex and holds
   * appends back. Returns the number of whole segments removed.
   */
  async truncateTo(offset: number): Promise<number> {
    const doomed = this.segments.all().filter((s) => s.baseOffset >= offset && s !== this.segments.first);
    for (const segment of doomed) this.removeSegment(segment);
    if (offset <= this.segments.first!.baseOffset || offset < this.startOffset) {
      for (const segment of this.segments.all()) this.removeSegment(segment);
      this.segments.add(this.createSegment(offset));
      this.startOffset = offset;
      this.#endOffset = offset;
    } else {
      const active = this.active;
      if (doomed.length > 0) active.activate();
      await active.truncateTo(offset);
      this.#endOffset = active.readNextOffset();
    }
    this.#recoveryPoint = Math.min(this.#recoveryPoint, this.#endOffset);
    this.#durableOffset = Math.min(this.#durableOffset, this.#endOffset);
    await this.#syncDirIfDirty();
    await this.writeCheckpoints();
    return doomed.length;
  }

  /**
   * Takes the `count` oldest segments out (retention), rolling first if that is all of them so that an
   * empty active segment remains, and moves the start offset past them. Caller holds the mutex.
   */
  async deleteOldestSegments(count: number): Promise<{ segments: number; bytes: number }> {
    if (count <= 0) return { segments: 0, bytes: 0 };
    if (count >= this.segments.count) {
      this.active.onBecomeInactive();
      this.segments.add(this.createSegment(this.#endOffset));
      await this.flush(this.#endOffset);
    }
    let bytes = 0;
    const doomed = this.segments.all().slice(0, count);
    for (const segment of doomed) {
      bytes += segment.size;
      this.removeSegment(segment);
    }
    this.startOffset = Math.max(this.startOffset, this.segments.first!.baseOffset);
    await this.writeCheckpoints();
    return { segments: doomed.length, bytes };
  }

  /** Takes `segment` out, renames its files to `.deleted`, and unlinks them after `fileDeleteDelayMs`. */
  removeSegment(segment: LogSegment): void {
    this.segments.remove(segment);
    segment.close();
    segment.changeSuffix(this.dir, DELETED_SUFFIX);
    const timer = setTimeout(() => {
      this.#pendingDeletes.delete(timer);
      deleteQuietly(segment);
    }, this.config.fileDeleteDelayMs);
    timer.unref();
    this.#pendingDeletes.set(timer, segment);
  }

  /** Checkpoints the recovery point and start offset if they moved (atomic writes). */
  async writeCheckpoints(): Promise<void> {
    const fs = this.config.fileSystem;
    if (this.#recoveryPoint !== this.#checkpointed.recoveryPoint) {
      const value = this.#recoveryPoint;
      await writeOffsetCheckpoint(fs, this.dir, RECOVERY_POINT_CHECKPOINT, value);
      this.#checkpointed.recoveryPoint = value;
    }
    if (this.startOffset !== this.#checkpointed.startOffset) {
      const value = this.startOffset;
      await writeOffsetCheckpoint(fs, this.dir, LOG_START_OFFSET_CHECKPOINT, value);
      this.#checkpointed.startOffset = value;
    }
  }

  /**
   * Clean shutdown (Kafka `LogManager.shutdown` for one log): flush everything, checkpoint, close every
   * file, finish pending deletions, and write the clean-shutdown marker if all of that worked. Returns
   * the errors met (the caller reports them together). Caller holds the mutex.
   */
  async close(options: { clean: boolean }): Promise<unknown[]> {
    const errors: unknown[] = [];
    const attempt = async (step: () => unknown): Promise<void> => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    if (options.clean) {
      await attempt(() => this.flush(this.#endOffset));
      await attempt(() => this.writeCheckpoints());
    }
    await attempt(() => this.active.log.discardPastEnd());
    for (const segment of this.segments.all()) await attempt(() => segment.close());
    this.#finishPendingDeletes();
    if (options.clean && errors.length === 0) {
      await attempt(() => writeFileAtomic(this.config.fileSystem, this.dir, CLEAN_SHUTDOWN_FILE, Buffer.from('{"version":0,"brokerEpoch":-1}')));
    }
    return errors.map((e) => (isLogStorageError(e) ? e : ioError('close', this.dir, e)));
  }

  /** Releases files and mappings without flushing (after an I/O failure); timers are cancelled. */
  abandon(): void {
    for (const timer of this.#pendingDeletes.keys()) clearTimeout(timer);
    this.#pendingDeletes.clear();
    for (const segment of this.segments.all()) segment.abandon();
  }

  #finishPendingDeletes(): void {
    for (const [timer, segment] of this.#pendingDeletes) {
      clearTimeout(timer);
      deleteQuietly(segment);
    }
    this.#pendingDeletes.clear();
  }
}

function deleteQuietly(segment: LogSegment): void {
  try {
    segment.deleteFiles();
  } catch {
    // A leftover .deleted file is removed at the next open.
  }
}
