/**
 * One segment: a `.log` file of batches plus its offset and time indexes (Kafka `LogSegment`).
 *
 * The index rule is the same in `append` and in `recover`, and is what makes an index rebuilt by recovery
 * byte-identical to the one written live:
 *
 * > before appending a batch at position P, if more than `indexIntervalBytes` bytes were appended since the
 * > last index entry (or since position 0), add offset entry (batch.lastOffset, P) and time entry
 * > (max timestamp so far, last offset of the batch that holds it).
 *
 * so "bytes since the last entry" is always `P - positionOfLastEntry` and is recomputed from the files on
 * open rather than trusted from memory. One deviation from Kafka keeps the identity: the time-index entry
 * that Kafka forces at every close is forced here only when the segment rolls (becomes inactive), and
 * recovery forces it only for inactive segments. A reopened active segment learns its max timestamp by
 * scanning the batches after its last index entry (at most ~`indexIntervalBytes` plus one batch).
 */
import { assert } from '../assert.js';
import { CorruptIndexError, CorruptRecordError, LogClosedError, LogFailedError, isLogStorageError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';
import { LazyIndex } from '../index/lazy-index.js';
import { OffsetIndex } from '../index/offset-index.js';
import { TimeIndex } from '../index/time-index.js';
import { RELATIVE_OFFSET_MAX } from '../limits.js';
import { FRAME_CORRUPT, FRAME_PARTIAL, batchAt, describeCorruptFrame, firstOffsetAt, frameSize, lastOffsetAt } from '../record/batch-reader.js';
import type { RecordBatch } from '../record/record-batch.js';
import * as L from '../record/layout.js';
import { checkRecordLengths } from './batch-validation.js';
import { segmentPaths, type SegmentPaths } from './file-names.js';
import type { OpenFileCache } from './open-file-cache.js';
import { SegmentFile } from './segment-file.js';

/** What a segment needs from the log's configuration. */
export interface SegmentConfig {
  /** Shared descriptor/mapping cap of a `LogManager`, if any. */
  readonly cache?: OpenFileCache | undefined;
  readonly indexIntervalBytes: number;
  readonly segmentIndexBytes: number;
  readonly segmentBytes: number;
  readonly maxBatchBytes: number;
  /** Disk space the active segment reserves ahead at a time (`LogOptions.preallocateBytes`); 0: none. */
  readonly preallocateBytes: number;
}

/** Where a batch is: its last offset, position and size. */
export interface BatchLocation {
  readonly lastOffset: number;
  readonly position: number;
  readonly size: number;
}

/** One batch of an append: its size, last offset and max timestamp. */
export interface AppendedBatch {
  readonly size: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/** A slice of a segment returned by {@link LogSegment.read}. */
export interface SegmentSlice {
  readonly position: number;
  readonly view: Uint8Array;
  /** The first batch is larger than the slice (only without `minOneMessage`). */
  readonly firstEntryIncomplete: boolean;
}

/** What a scan of the `.log` found (recovery, index rebuild). */
export interface ScanResult {
  /** Bytes of valid batches from the start. */
  readonly validBytes: number;
  /** Bytes after them: a torn tail or damage. */
  readonly invalidBytes: number;
  /** Why the scan stopped early, if it did. */
  readonly reason: string | undefined;
  /** Offset after the last valid batch (base offset if none). */
  readonly nextOffset: number;
}

interface TimestampState {
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
}

export class LogSegment {
  readonly baseOffset: number;
  #active = false;
  #flushing = 0;
  readonly log: SegmentFile;
  readonly offsetIndex: LazyIndex<OffsetIndex>;
  readonly timeIndex: LazyIndex<TimeIndex>;
  readonly createdMs: number;
  readonly rollJitterMs: number;
  readonly #config: SegmentConfig;
  #paths: SegmentPaths;
  #bytesSinceLastIndexEntry = 0;
  #timestamps: TimestampState | undefined;
  /** Max timestamp of the first batch (time-based rolling); -1 if it has none; undefined = not read yet. */
  #rollingBasedTimestamp: number | undefined;

  private constructor(params: { fs: FileSystem; dir: string; baseOffset: number; config: SegmentConfig; log: SegmentFile; active: boolean; nowMs: number; rollJitterMs: number }) {
    const { fs, dir, baseOffset, config } = params;
    this.baseOffset = baseOffset;
    this.#config = config;
    this.#paths = segmentPaths(dir, baseOffset);
    this.log = params.log;
    this.createdMs = params.nowMs;
    this.rollJitterMs = params.rollJitterMs;
    const indexParams = { fs, baseOffset, maxIndexBytes: config.segmentIndexBytes };
    this.offsetIndex = new LazyIndex(fs, this.#paths.index, params.active, (path, writable) => new OffsetIndex({ ...indexParams, path, writable }));
    this.timeIndex = new LazyIndex(fs, this.#paths.timeIndex, params.active, (path, writable) => new TimeIndex({ ...indexParams, path, writable }));
  }

  /** Creates a new empty segment, replacing stale files of the same name (Kafka does the same on roll). */
  static create(params: { fs: FileSystem; dir: string; baseOffset: number; config: SegmentConfig; nowMs: number; rollJitterMs: number }): LogSegment {
    const paths = segmentPaths(params.dir, params.baseOffset);
    for (const path of [paths.log, paths.index, paths.timeIndex]) {
      if (params.fs.stat(path) !== undefined) params.fs.unlink(path);
    }
    const log = SegmentFile.open(params.fs, paths.log, { create: true, mapLength: params.config.segmentBytes });
    const segment = new LogSegment({ ...params, log, active: true });
    segment.#timestamps = { maxTimestamp: -1, offsetOfMaxTimestamp: params.baseOffset };
    segment.#active = true;
    log.reserveAhead(params.config.preallocateBytes);
    segment.offsetIndex.get();
    segment.timeIndex.get();
    return segment;
  }

  /** Opens an existing segment; indexes stay unmapped until used. */
  static open(params: { fs: FileSystem; dir: string; baseOffset: number; config: SegmentConfig; nowMs: number; rollJitterMs: number }): LogSegment {
    const paths = segmentPaths(params.dir, params.baseOffset);
    const log = SegmentFile.open(params.fs, paths.log, { create: false, mapLength: 0 });
    return new LogSegment({ ...params, log, active: false });
  }

  get isActive(): boolean {
    return this.#active;
  }

  /** The active segment, or one being fsynced, keeps its descriptors (see `OpenFileCache`). */
  get pinned(): boolean {
    return this.#active || this.#flushing > 0;
  }

  /** Closes descriptors and mappings; every use reopens what it needs. */
  releaseResources(): void {
    this.offsetIndex.close();
    this.timeIndex.close();
    this.log.close();
  }

  /** Reports a use to the manager's descriptor cap. */
  #touch(): void {
    this.#config.cache?.touch(this);
  }

  get paths(): SegmentPaths {
    return this.#paths;
  }
  get size(): number {
    return this.log.size;
  }

  /** Makes this the active segment: writable indexes, mapping sized for appends, append state restored. */
  activate(): void {
    this.#active = true;
    this.log.setMapLength(this.#config.segmentBytes);
    this.log.releaseLeftoverReservation(); // a crashed process may have left space reserved
    this.log.reserveAhead(this.#config.preallocateBytes);
    this.offsetIndex.makeWritable();
    this.timeIndex.makeWritable();
    this.#restoreAppendState();
  }

  /** Recomputes `bytesSinceLastIndexEntry` and the max timestamp from the files (see the file comment). */
  #restoreAppendState(): void {
    const offsetIndex = this.offsetIndex.get();
    const lastEntryPosition = offsetIndex.entries === 0 ? 0 : offsetIndex.positionAt(offsetIndex.entries - 1);
    this.#bytesSinceLastIndexEntry = this.size - lastEntryPosition;
    const last = this.timeIndex.get().lastEntry;
    const state: TimestampState = { maxTimestamp: last.timestamp, offsetOfMaxTimestamp: last.offset };
    let expected = lastEntryPosition === 0 ? this.baseOffset : -1;
    let gap = -1;
    const end = this.#forEachBatchFrom(lastEntryPosition, (batch, position) => {
      if (batch.magic === L.MAGIC_V2 && expected >= 0 && batch.baseOffset !== expected && gap < 0) gap = position;
      expected = batch.lastOffset + 1;
      if (batch.maxTimestamp > state.maxTimestamp) {
        state.maxTimestamp = batch.maxTimestamp;
        state.offsetOfMaxTimestamp = batch.lastOffset;
      }
    });
    if (end !== this.size || gap >= 0) {
      // Appending after damage would bury it mid-segment; the loader scans the segment instead.
      throw new CorruptRecordError('invalid batch in the active segment tail', { file: this.log.path, position: gap >= 0 ? gap : end });
    }
    this.#timestamps = state;
  }

  /** Largest timestamp in the segment, and the last offset of the batch that holds it. */
  get timestamps(): TimestampState {
    if (this.#timestamps === undefined) {
      this.#touch();
      const last = this.timeIndex.get().lastEntry;
      this.#timestamps = { maxTimestamp: last.timestamp, offsetOfMaxTimestamp: last.offset };
    }
    return this.#timestamps;
  }

  /**
   * Appends `batches`, given as `chunks` that concatenate to exactly their bytes, with one write; then
   * applies the index rule to each batch at its own position (as recovery will). The caller checked
   * `shouldRoll` and validated the batches. If the write fails nothing changes: the file is cut back to
   * the logical end, which no reader view reaches past; if even that fails, `LogFailedError`.
   */
  append(chunks: readonly Uint8Array[], batches: readonly AppendedBatch[]): number {
    this.#checkRange(batches);
    let position: number;
    try {
      position = this.log.append(chunks);
    } catch (error) {
      throw this.#afterFailedWrite(error);
    }
    this.#indexBatches(batches, position);
    return position;
  }

  /**
   * `append` of bytes still being verified: `verifyAround(write)` runs the checks and `write` (which writes
   * the bytes past the logical end), beside each other or in turn, and throws if either fails. Nothing
   * becomes visible unless both succeed; on failure whatever was written is cut.
   */
  appendVerified(chunks: readonly Uint8Array[], batches: readonly AppendedBatch[], verifyAround: (write: () => void) => void): number {
    this.#checkRange(batches);
    let position = -1;
    let attempted = false;
    try {
      verifyAround(() => {
        attempted = true;
        position = this.log.writeUncommitted(chunks);
      });
    } catch (error) {
      throw attempted ? this.#afterFailedWrite(error) : error;
    }
    assert(position >= 0, 'appendVerified: the verification did not run the write');
    let size = 0;
    for (const batch of batches) size += batch.size;
    this.log.commitAppend(size);
    this.#indexBatches(batches, position);
    return position;
  }

  #checkRange(batches: readonly AppendedBatch[]): void {
    const relative = batches[batches.length - 1]!.lastOffset - this.baseOffset;
    assert(relative >= 0 && relative <= RELATIVE_OFFSET_MAX, 'batch offset outside the segment range');
  }

  /** Cuts what a failed (or refused) write left past the logical end; returns the error to throw. */
  #afterFailedWrite(error: unknown): unknown {
    if (this.log.discardPastEnd()) return error;
    return new LogFailedError('a failed write left bytes that could not be removed', { file: this.log.path, cause: error });
  }

  #indexBatches(batches: readonly AppendedBatch[], position: number): void {
    if (position === 0) this.#rollingBasedTimestamp = batches[0]!.maxTimestamp;
    let at = position;
    for (const batch of batches) {
      this.#indexBatch(batch, at);
      at += batch.size;
    }
  }

  /** The index rule for one batch written at `position`. */
  #indexBatch(batch: AppendedBatch, position: number): void {
    const timestamps = this.timestamps;
    if (batch.maxTimestamp > timestamps.maxTimestamp) {
      timestamps.maxTimestamp = batch.maxTimestamp;
      timestamps.offsetOfMaxTimestamp = batch.lastOffset;
    }
    if (this.#bytesSinceLastIndexEntry > this.#config.indexIntervalBytes) {
      this.offsetIndex.get().append(batch.lastOffset, position);
      this.timeIndex.get().maybeAppend(timestamps.maxTimestamp, timestamps.offsetOfMaxTimestamp);
      this.#bytesSinceLastIndexEntry = 0;
    }
    this.#bytesSinceLastIndexEntry += batch.size;
  }

  /**
   * Kafka's roll rule (`LogSegment.shouldRoll`): the batch would push the segment past `segmentBytes`; or
   * record time has moved on by more than `segmentMs - jitter` since the first batch; or an index is full;
   * or the batch's last offset is too far from the base offset for a 31-bit relative offset.
   */
  shouldRoll(params: { size: number; lastOffset: number; maxTimestamp: number; nowMs: number; segmentMs: number }): boolean {
    const reachedRollMs = this.size > 0 && this.#timeWaitedForRoll(params.nowMs, params.maxTimestamp) > params.segmentMs - this.rollJitterMs;
    const relative = params.lastOffset - this.baseOffset;
    return (
      this.size > this.#config.segmentBytes - params.size ||
      reachedRollMs ||
      this.offsetIndex.get().isFull ||
      this.timeIndex.get().isFull ||
      relative < 0 ||
      relative > RELATIVE_OFFSET_MAX
    );
  }

  #timeWaitedForRoll(nowMs: number, timestamp: number): number {
    if (this.#rollingBasedTimestamp === undefined) {
      let first = -1;
      if (this.size > 0) this.#forEachBatchFrom(0, (batch) => (first = batch.maxTimestamp), 1);
      this.#rollingBasedTimestamp = first;
    }
    return this.#rollingBasedTimestamp >= 0 ? timestamp - this.#rollingBasedTimestamp : nowMs - this.createdMs;
  }

  /** The segment stops being active: force the final time entry, trim both indexes (Kafka `onBecomeInactiveSegment`). */
  onBecomeInactive(): void {
    this.#active = false;
    const { maxTimestamp, offsetOfMaxTimestamp } = this.timestamps;
    this.timeIndex.get().maybeAppend(maxTimestamp, offsetOfMaxTimestamp, true);
    this.offsetIndex.get().trimToValidSize();
    this.timeIndex.get().trimToValidSize();
    this.log.setMapLength(0);
    this.log.releaseReserved();
  }

  /**
   * The first batch whose last offset is >= `offset`, scanning from the index's lower bound (Kafka
   * `translateOffset`). The index entry is checked against the batch it points at: a damaged index that
   * points past the target would silently skip records, so it is a `CorruptIndexError` instead.
   */
  translateOffset(offset: number, startingPosition = 0, offsetLimit = Infinity): BatchLocation | undefined {
    this.#touch();
    const entry = this.offsetIndex.get().lookup(offset);
    const bytes = this.log.internalView(0, this.size);
    if (entry.position > 0 || entry.offset > this.baseOffset) this.#checkIndexEntry(bytes, entry.offset, entry.position);
    let position = Math.max(entry.position, startingPosition);
    let previousLast = -1;
    while (position < bytes.byteLength) {
      const size = this.#frame(bytes, position);
      if (size === FRAME_PARTIAL) return undefined;
      const first = firstOffsetAt(bytes, position);
      const lastOffset = lastOffsetAt(bytes, position);
      if (first === undefined || lastOffset === undefined) throw new CorruptRecordError('batch offset is not a safe integer', { file: this.log.path, position });
      if (first <= previousLast) this.#offsetOrderBroken(position, first, previousLast);
      if (lastOffset >= offset) {
        if (lastOffset >= offsetLimit) this.#offsetOrderBroken(position, offsetLimit, lastOffset);
        this.#checkSuccessor(bytes, position + size, lastOffset);
        return { lastOffset, position, size };
      }
      previousLast = lastOffset;
      position += size;
    }
    return undefined;
  }

  /**
   * The batch a read starts at must end before the next batch begins. A base offset damaged upwards (it
   * is outside the CRC) would otherwise make the batch answer for offsets it does not hold.
   */
  #checkSuccessor(bytes: Uint8Array, position: number, lastOffset: number): void {
    if (bytes.byteLength - position < L.BASE_OFFSET_LENGTH) return;
    const next = firstOffsetAt(bytes, position);
    if (next !== undefined && next <= lastOffset) this.#offsetOrderBroken(position, next, lastOffset);
  }

  #offsetOrderBroken(position: number, first: number, previousLast: number): never {
    throw new CorruptRecordError(`batch offsets do not increase: ${first} after ${previousLast} (a damaged base offset)`, {
      file: this.log.path,
      position,
      offset: first,
    });
  }

  #checkIndexEntry(bytes: Uint8Array, offset: number, position: number): void {
    const ok = position < bytes.byteLength && frameSize(bytes, position, bytes.byteLength, this.#config.maxBatchBytes) > 0;
    const lastOffset = ok ? lastOffsetAt(bytes, position) : undefined;
    if (lastOffset === undefined || lastOffset > offset) {
      throw new CorruptIndexError(`index entry (${offset}, ${position}) does not point at a batch ending at or before it`, {
        file: this.offsetIndex.path,
        offset,
        position,
      });
    }
  }

  /** Frame size at `position`, throwing for a corrupt header (a partial one ends a read). */
  #frame(bytes: Uint8Array, position: number): number {
    const size = frameSize(bytes, position, bytes.byteLength, this.#config.maxBatchBytes);
    if (size === FRAME_CORRUPT) {
      throw new CorruptRecordError(describeCorruptFrame(bytes, position, this.#config.maxBatchBytes), { file: this.log.path, position });
    }
    return size;
  }

  /**
   * Kafka's `LogSegment.read`: a slice starting at the batch that holds `startOffset`, at most `maxSize`
   * bytes (or the first whole batch if `minOneMessage`), never past `maxPosition`. May end mid-batch.
   */
  read(params: { startOffset: number; maxSize: number; maxPosition: number; minOneMessage: boolean; offsetLimit: number }): SegmentSlice | undefined {
    const location = this.translateOffset(params.startOffset, 0, params.offsetLimit);
    if (location === undefined) return undefined;
    const limit = params.minOneMessage ? Math.max(params.maxSize, location.size) : params.maxSize;
    const length = Math.max(0, Math.min(params.maxPosition - location.position, limit));
    return {
      position: location.position,
      view: this.log.readerView(location.position, length),
      firstEntryIncomplete: limit < location.size,
    };
  }

  /**
   * Calls `visit` for each whole, valid batch from `position` (at most `limit` batches); stops quietly at a
   * partial or invalid one. Returns the position it stopped at. For bounded scans (append state, first
   * timestamp).
   */
  #forEachBatchFrom(position: number, visit: (batch: RecordBatch, position: number) => void, limit = Infinity): number {
    const bytes = this.log.internalView(0, this.size);
    for (let n = 0; n < limit && position < bytes.byteLength; n++) {
      const size = frameSize(bytes, position, bytes.byteLength, this.#config.maxBatchBytes);
      if (size <= 0) return position;
      const batch = batchAt(bytes, position, size, { file: this.log.path, position });
      if (!batch.isValid()) return position;
      visit(batch, position);
      position += size;
    }
    return position;
  }

  /**
   * Walks every batch from position 0, validating each (frame, CRC, offsets inside the segment), and
   * rebuilds both indexes with the append rule (Kafka `LogSegment.recover`). Stops at the first invalid or
   * partial batch; the log file is not changed here: the caller decides whether the invalid tail is a torn
   * tail to cut ({@link truncateInvalidTail}) or damage to refuse.
   */
  scanAndRebuildIndexes(params: {
    active: boolean;
    /** The next segment's base offset (every batch here must end below it); Infinity for the last. */
    offsetLimit?: number;
  }): ScanResult {
    this.#touch();
    // Fresh files: an existing index may be unreadable (wrong length, bad entries), which is often why
    // this runs at all.
    this.offsetIndex.deleteFile();
    this.timeIndex.deleteFile();
    this.offsetIndex.makeWritable();
    this.timeIndex.makeWritable();
    const offsetIndex = this.offsetIndex.get();
    const timeIndex = this.timeIndex.get();
    const bytes = this.log.internalView(0, this.size);
    const timestamps: TimestampState = { maxTimestamp: -1, offsetOfMaxTimestamp: this.baseOffset };
    let valid = 0;
    let lastIndexed = 0;
    let nextOffset = this.baseOffset;
    let reason: string | undefined;
    while (valid < bytes.byteLength) {
      reason = this.#invalidBatchReason(bytes, valid, nextOffset, params.active, params.offsetLimit ?? Infinity);
      if (reason !== undefined) break;
      const size = frameSize(bytes, valid, bytes.byteLength, this.#config.maxBatchBytes);
      const batch = batchAt(bytes, valid, size);
      const lastOffset = batch.lastOffset;
      if (batch.maxTimestamp > timestamps.maxTimestamp) {
        timestamps.maxTimestamp = batch.maxTimestamp;
        timestamps.offsetOfMaxTimestamp = lastOffset;
      }
      if (valid - lastIndexed > this.#config.indexIntervalBytes) {
        offsetIndex.append(lastOffset, valid);
        timeIndex.maybeAppend(timestamps.maxTimestamp, timestamps.offsetOfMaxTimestamp);
        lastIndexed = valid;
      }
      valid += size;
      nextOffset = lastOffset + 1;
    }
    if (!params.active) {
      timeIndex.maybeAppend(timestamps.maxTimestamp, timestamps.offsetOfMaxTimestamp, true);
      this.offsetIndex.close();
      this.timeIndex.close();
    }
    this.#timestamps = timestamps;
    this.#bytesSinceLastIndexEntry = valid - lastIndexed;
    this.#rollingBasedTimestamp = undefined;
    return { validBytes: valid, invalidBytes: bytes.byteLength - valid, reason, nextOffset };
  }

  /**
   * Why the batch at `position` cannot be kept, or undefined if it is whole and valid. Offsets must
   * increase from batch to batch (`minOffset` is the previous batch's last offset + 1) and stay below the
   * next segment's base (`offsetLimit`): the base offset lies outside Kafka's CRC, so a damaged one is
   * caught only this way. In the active segment they must be contiguous too: compaction, the only thing
   * that leaves gaps, never touches the active segment (Kafka `LogCleaner`), so a gap there is damage.
   *
   * When offsets stop increasing between two batches, either the first one's base offset went up or the
   * second one's went down. A batch that follows a gap and overlaps the batch after it is taken as the
   * damaged one (a flipped bit that raises a base offset leaves exactly that), so recovery cuts before
   * it rather than keeping it with offsets that are not its records' (the corruption fuzzer found this:
   * base offset 52 flipped to 60 was kept, and read back as offsets 60-61). A legitimate compaction gap
   * followed by a damaged batch loses one batch more than necessary; a wrong record is never returned.
   */
  #invalidBatchReason(bytes: Uint8Array, position: number, minOffset: number, contiguous: boolean, offsetLimit: number): string | undefined {
    const size = frameSize(bytes, position, bytes.byteLength, this.#config.maxBatchBytes);
    if (size === FRAME_PARTIAL) return `partial batch (${bytes.byteLength - position} bytes)`;
    if (size === FRAME_CORRUPT) return describeCorruptFrame(bytes, position, this.#config.maxBatchBytes);
    const batch = batchAt(bytes, position, size);
    try {
      batch.ensureValid();
      // The records of an uncompressed batch must fill it: a CRC proves only that its writer's bytes
      // arrived (an appendBatch cut short by a crash while its framing was being checked leaves such
      // bytes past the logical end).
      if (batch.magic === L.MAGIC_V2 && batch.compression === 0) checkRecordLengths(batch.bytes, batch.recordCount, position);
      const first = batch.magic === L.MAGIC_V2 ? batch.baseOffset : batch.lastOffset;
      const last = batch.lastOffset;
      if (first < minOffset) return `batch offset ${first} is not above the previous batch's (${minOffset - 1})`;
      if (contiguous && batch.magic === L.MAGIC_V2 && first !== minOffset) return `batch offset ${first} leaves a gap after ${minOffset - 1}`;
      const relative = last - this.baseOffset;
      if (relative < 0 || relative > RELATIVE_OFFSET_MAX) return `batch last offset ${last} outside the segment`;
      if (last >= offsetLimit) return `batch last offset ${last} reaches the next segment's base offset ${offsetLimit}`;
      if (batch.magic === L.MAGIC_V2 && first > minOffset) {
        const following = this.#validBatchOffsetAfter(bytes, position + size);
        if (following !== undefined && following <= last) {
          return `batch offset ${first} follows a gap after ${minOffset - 1} and overlaps the next batch (${following}): a damaged base offset`;
        }
      }
    } catch (error) {
      if (isLogStorageError(error)) return error.message;
      throw error;
    }
    return undefined;
  }

  /**
   * The base offset of the v2 batch at `position` if it is whole, its CRC holds and the offset is a safe
   * integer, else undefined: the gap-then-overlap rule
   * takes evidence only from a real batch, not from zeros or a torn tail after a valid one (a review
   * found preallocated zeros read as "offset 0" cutting the valid batch before them).
   */
  #validBatchOffsetAfter(bytes: Uint8Array, position: number): number | undefined {
    const size = frameSize(bytes, position, bytes.byteLength, this.#config.maxBatchBytes);
    if (size <= 0 || bytes[position + L.MAGIC_OFFSET] !== L.MAGIC_V2) return undefined;
    return batchAt(bytes, position, size).isValid() ? firstOffsetAt(bytes, position) : undefined;
  }

  /** Cuts the `.log` after `validBytes` (recovery, before any reader exists). */
  truncateInvalidTail(validBytes: number): number {
    return this.log.truncateInPlace(validBytes);
  }

  /**
   * Removes every batch with offsets >= `offset` (the batch holding `offset` goes whole; `offset` must be a
   * batch boundary for an exact cut, as Kafka's `truncateTo`). Returns the bytes removed.
   */
  async truncateTo(offset: number): Promise<number> {
    const location = this.translateOffset(offset);
    if (location === undefined) return 0;
    this.offsetIndex.get().truncateTo(offset);
    this.timeIndex.get().truncateTo(offset);
    const removed = await this.log.truncateTo(location.position);
    this.#timestamps = undefined;
    this.#rollingBasedTimestamp = this.size === 0 ? undefined : this.#rollingBasedTimestamp;
    this.#restoreAppendState();
    return removed;
  }

  /**
   * Calls `visit` for every valid batch whose last offset is >= `offset`, in order, stopping at the first
   * invalid one (used to replay producer state from batch headers). Caller holds the writer role.
   */
  forEachBatchFrom(offset: number, visit: (batch: RecordBatch) => void): void {
    const location = this.translateOffset(offset);
    if (location !== undefined) this.#forEachBatchFrom(location.position, visit);
  }

  /** Offset after the last batch, scanning from the last index entry (Kafka `readNextOffset`). */
  readNextOffset(): number {
    const index = this.offsetIndex.get();
    const start = index.entries === 0 ? 0 : index.positionAt(index.entries - 1);
    let next = index.entries === 0 ? this.baseOffset : index.offsetAt(index.entries - 1) + 1;
    this.#forEachBatchFrom(start, (batch) => (next = batch.lastOffset + 1));
    return next;
  }

  /**
   * First record at or after `startOffset` with timestamp >= `timestamp` (Kafka `findOffsetByTimestamp`):
   * the time index gives a lower bound, then batches are scanned and records of a batch whose max
   * timestamp qualifies are iterated (decompressing it).
   */
  findOffsetByTimestamp(timestamp: number, startOffset: number): { offset: number; timestamp: number } | undefined {
    this.#touch();
    const entry = this.timeIndex.get().lookup(timestamp);
    const position = this.offsetIndex.get().lookup(Math.max(entry.offset, startOffset)).position;
    let found: { offset: number; timestamp: number } | undefined;
    const bytes = this.log.internalView(0, this.size);
    for (let at = position; at < bytes.byteLength && found === undefined; ) {
      const size = this.#frame(bytes, at);
      if (size === FRAME_PARTIAL) break;
      const batch = batchAt(bytes, at, size, { file: this.log.path, position: at });
      batch.ensureValid();
      if (batch.maxTimestamp >= timestamp) {
        for (const record of batch.records()) {
          if (record.timestamp >= timestamp && record.offset >= startOffset) {
            found = { offset: record.offset, timestamp: record.timestamp };
            break;
          }
        }
      }
      at += size;
    }
    return found;
  }

  /** Largest record timestamp, or -1 (callers fall back to the file's mtime, as Kafka does). */
  get largestTimestamp(): number {
    return this.timestamps.maxTimestamp;
  }

  /** Flushes the `.log` and both indexes to disk. */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      await this.log.flush();
      if (this.offsetIndex.isLoaded) await this.offsetIndex.get().flush();
      if (this.timeIndex.isLoaded) await this.timeIndex.get().flush();
    } finally {
      this.#flushing--;
    }
  }

  /** fdatasync of the `.log` only (group commit); pins the segment meanwhile. */
  async flushData(): Promise<void> {
    this.#flushing++;
    try {
      await this.log.flush();
    } finally {
      this.#flushing--;
    }
  }

  /** Renames all files with `suffix` appended (e.g. `.deleted`); open handles follow the inode. */
  changeSuffix(dir: string, suffix: string): void {
    const paths = segmentPaths(dir, this.baseOffset, suffix);
    this.log.renameTo(paths.log);
    this.offsetIndex.renameTo(paths.index);
    this.timeIndex.renameTo(paths.timeIndex);
    this.#paths = paths;
  }

  /** Closes files and indexes (indexes are trimmed, reserved disk space released). */
  close(): void {
    this.#config.cache?.forget(this);
    this.log.releaseReserved();
    const errors: unknown[] = [];
    for (const close of [() => this.offsetIndex.close(), () => this.timeIndex.close(), () => this.log.close()]) {
      try {
        close();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `closing segment ${this.baseOffset} failed`);
  }

  /** Releases descriptors and mappings without trimming or flushing (after an I/O failure). */
  abandon(): void {
    this.#config.cache?.forget(this);
    this.offsetIndex.abandon();
    this.timeIndex.abandon();
    this.log.close();
  }

  /** Unlinks all files. */
  deleteFiles(): void {
    this.#config.cache?.forget(this);
    this.offsetIndex.deleteFile();
    this.timeIndex.deleteFile();
    this.log.deleteFile();
  }
}
