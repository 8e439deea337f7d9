/**
 * Opens a log directory (Kafka `LogLoader`): removes leftovers of interrupted operations, opens segments
 * (indexes stay unmapped), recovers what was written after the last checkpointed flush, and works out the
 * log's start offset, end offset and recovery point.
 *
 * Recovery decision table, per segment scanned (each batch: frame, CRC-32C, offsets inside the segment):
 *
 * | what the scan finds                                   | below the recovery point      | at or past it                 |
 * | ----------------------------------------------------- | ----------------------------- | ----------------------------- |
 * | every batch valid                                     | keep; indexes rebuilt         | keep; indexes rebuilt         |
 * | invalid or partial batch at position P                | `ERR_CORRUPT_LOG` (file, P);  | torn tail: cut at P, report   |
 * |                                                       | with `repair`: cut and report | it, delete all later segments |
 *
 * "Below the recovery point" means the batches before P end below the checkpointed recovery point: that
 * data was flushed, so damage there is not a crash artefact and is never dropped silently. Which segments
 * are scanned: after an unclean shutdown, every segment from the one holding the recovery point on (Kafka);
 * always, any segment whose index file is missing or fails its sanity check (the index is rebuilt, never
 * trusted). Segments below the recovery point with intact indexes are not read at open (that is what keeps
 * opening fast); their batches are CRC-checked when read.
 */
import path from 'node:path';
import { CorruptCheckpointError, CorruptLogError, ioError, isLogStorageError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';
import { frameSize, lastOffsetAt } from '../record/batch-reader.js';
import { readOffsetCheckpoint } from './checkpoint-file.js';
import {
  CLEAN_SHUTDOWN_FILE,
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_START_OFFSET_CHECKPOINT,
  LOG_SUFFIX,
  RECOVERY_POINT_CHECKPOINT,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  offsetFromFileName,
  segmentPaths,
} from './file-names.js';
import type { LogConfig } from './log-options.js';
import { LogSegment, type ScanResult, type SegmentConfig } from './log-segment.js';
import { LogSegments } from './log-segments.js';
import { TRUNCATE_TEMP_SUFFIX } from './segment-file.js';

/** What opening found and did; also emitted as the log's `'recovery'` event. */
export interface RecoveryReport {
  /** The previous close was clean (the clean-shutdown marker was present). */
  readonly clean: boolean;
  /** Segments whose batches were validated and indexes rebuilt. */
  readonly recoveredSegments: number;
  /** Bytes cut from segment tails: file, position of the cut, bytes removed and why. */
  readonly truncations: readonly { file: string; position: number; bytes: number; reason: string }[];
  /** Whole segments deleted because an earlier segment lost bytes. */
  readonly deletedSegments: readonly { file: string; bytes: number }[];
  /** Leftover files removed (`.deleted`, `.cleaned`, temp files, orphan indexes). */
  readonly removedFiles: readonly string[];
  readonly durationMs: number;
}

/** The state a loaded log starts from. */
export interface LoadedLog {
  readonly segments: LogSegments;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly recoveryPoint: number;
  readonly report: RecoveryReport;
}

interface Report {
  clean: boolean;
  recoveredSegments: number;
  truncations: { file: string; position: number; bytes: number; reason: string }[];
  deletedSegments: { file: string; bytes: number }[];
  removedFiles: string[];
}

export function segmentConfigOf(config: LogConfig): SegmentConfig {
  return {
    cache: config.openFileCache,
    indexIntervalBytes: config.indexIntervalBytes,
    segmentIndexBytes: config.segmentIndexBytes,
    segmentBytes: config.segmentBytes,
    preallocateBytes: config.preallocateBytes,
    maxBatchBytes: Math.max(config.maxMessageBytes, config.segmentBytes),
  };
}

/** Loads `dir` (which exists and is locked). Closes everything it opened if it fails. */
export async function loadLog(dir: string, config: LogConfig): Promise<LoadedLog> {
  const started = performance.now();
  const fs = config.fileSystem;
  const report: Report = { clean: false, recoveredSegments: 0, truncations: [], deletedSegments: [], removedFiles: [] };
  report.clean = await consumeCleanShutdownMarker(fs, dir);
  const recoveryPoint = readCheckpoint(fs, dir, RECOVERY_POINT_CHECKPOINT, config.repair);
  const startCheckpoint = readCheckpoint(fs, dir, LOG_START_OFFSET_CHECKPOINT, config.repair);
  removeLeftovers(fs, dir, report, segmentConfigOf(config).maxBatchBytes);
  const segments = new LogSegments();
  try {
    for (const base of segmentBaseOffsets(fs, dir)) segments.add(LogSegment.open(segmentParams(dir, base, config)));
    if (segments.count === 0) segments.add(LogSegment.create(segmentParams(dir, startCheckpoint ?? 0, config)));
    const state = recoverSegments(segments, { dir, config, report, recoveryPoint: report.clean ? Infinity : (recoveryPoint ?? 0) });
    const loaded = settleOffsets(segments, { dir, config, startCheckpoint, recoveryPoint, clean: report.clean, state });
    return { ...loaded, report: { ...report, durationMs: performance.now() - started } };
  } catch (error) {
    for (const segment of segments.all()) segment.abandon();
    throw error;
  }
}

function segmentParams(dir: string, baseOffset: number, config: LogConfig) {
  const jitter = config.segmentJitterMs === 0 ? 0 : Math.floor(config.random() * Math.min(config.segmentJitterMs, config.segmentMs));
  return { fs: config.fileSystem, dir, baseOffset, config: segmentConfigOf(config), nowMs: config.clock.nowMs(), rollJitterMs: jitter };
}

/** Deletes the marker at once, so that a crash while loading counts as unclean (KAFKA-10471). */
async function consumeCleanShutdownMarker(fs: FileSystem, dir: string): Promise<boolean> {
  const marker = path.join(dir, CLEAN_SHUTDOWN_FILE);
  if (fs.stat(marker) === undefined) return false;
  try {
    fs.unlink(marker);
    await fs.syncDir(dir);
  } catch (error) {
    throw ioError('remove clean-shutdown marker', marker, error);
  }
  return true;
}

/** A missing checkpoint is `undefined`; a malformed one fails the open unless `repair`. */
function readCheckpoint(fs: FileSystem, dir: string, name: string, repair: boolean): number | undefined {
  try {
    return readOffsetCheckpoint(fs, dir, name);
  } catch (error) {
    if (repair && error instanceof CorruptCheckpointError) return undefined;
    throw error;
  }
}

/**
 * Kafka's `removeTempFilesAndCollectSwapFiles` plus seglog's own temp files: `.deleted` and `.cleaned` go;
 * a `.swap` segment (compaction output being swapped in) replaces the segments it covers; index files
 * without a `.log` go.
 */
function removeLeftovers(fs: FileSystem, dir: string, report: Report, maxBatchBytes: number): void {
  const names = fs.readdir(dir);
  const remove = (name: string): void => {
    try {
      fs.unlink(path.join(dir, name));
    } catch (error) {
      throw ioError('remove leftover', path.join(dir, name), error);
    }
    report.removedFiles.push(name);
  };
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith(TRUNCATE_TEMP_SUFFIX) || name.endsWith('.tmp')) remove(name);
  }
  completeSwaps(fs, dir, report, maxBatchBytes);
  const remaining = new Set(fs.readdir(dir));
  for (const name of remaining) {
    const isIndex = name.endsWith(INDEX_SUFFIX) || name.endsWith(TIME_INDEX_SUFFIX);
    const base = offsetFromFileName(name);
    if (isIndex && base !== undefined && !remaining.has(path.basename(segmentPaths(dir, base).log))) remove(name);
  }
}

/** Renames `.swap` files into place, deleting the ordinary segments whose offsets the swap covers. */
function completeSwaps(fs: FileSystem, dir: string, report: Report, maxBatchBytes: number): void {
  const swapLogs = fs.readdir(dir).filter((n) => n.endsWith(LOG_SUFFIX + SWAP_SUFFIX));
  for (const swapLog of swapLogs) {
    const base = offsetFromFileName(swapLog)!;
    const swapPaths = segmentPaths(dir, base, SWAP_SUFFIX);
    const next = nextOffsetOfFile(fs, swapPaths.log, maxBatchBytes);
    for (const other of segmentBaseOffsets(fs, dir)) {
      if (other >= base && other < next) {
        for (const file of Object.values(segmentPaths(dir, other))) {
          if (fs.stat(file) !== undefined) {
            fs.unlink(file);
            report.removedFiles.push(path.basename(file));
          }
        }
      }
    }
    const finalPaths = segmentPaths(dir, base);
    for (const key of ['log', 'index', 'timeIndex'] as const) {
      if (fs.stat(swapPaths[key]) !== undefined) fs.rename(swapPaths[key], finalPaths[key]);
    }
  }
}

/** Offset after the last whole batch of a `.log` file read with a plain scan (used for `.swap` files). */
function nextOffsetOfFile(fs: FileSystem, file: string, maxBatchBytes: number): number {
  const handle = fs.open(file, 'read');
  try {
    const bytes = new Uint8Array(handle.size());
    handle.read(bytes, 0);
    let next = offsetFromFileName(path.basename(file))!;
    for (let position = 0, size = 0; (size = frameSize(bytes, position, bytes.byteLength, maxBatchBytes)) > 0; position += size) {
      next = (lastOffsetAt(bytes, position) ?? next - 1) + 1;
    }
    return next;
  } finally {
    handle.close();
  }
}

/** Base offsets of the `.log` files in `dir`, ascending. */
function segmentBaseOffsets(fs: FileSystem, dir: string): number[] {
  const offsets: number[] = [];
  for (const name of fs.readdir(dir)) {
    if (!/^\d{20,}\.log$/.test(name)) continue;
    const base = offsetFromFileName(name);
    if (base !== undefined) offsets.push(base);
  }
  return offsets.sort((a, b) => a - b);
}

interface RecoveryState {
  /** Next offset after the last valid batch of the last recovered segment, if the last one was scanned. */
  readonly scannedEnd: number | undefined;
}

/** Runs the decision table over the segments that need scanning. */
function recoverSegments(segments: LogSegments, ctx: { dir: string; config: LogConfig; report: Report; recoveryPoint: number }): RecoveryState {
  const firstUnflushed = ctx.recoveryPoint === Infinity ? segments.count : Math.max(0, segments.floorIndex(ctx.recoveryPoint));
  let scannedEnd: number | undefined;
  for (let i = 0; i < segments.count; i++) {
    const segment = segments.at(i)!;
    const isLast = i === segments.count - 1;
    if (i < firstUnflushed && indexesLookIntact(segment, isLast)) continue;
    const result = segment.scanAndRebuildIndexes({ active: isLast, offsetLimit: isLast ? Infinity : segments.at(i + 1)!.baseOffset });
    ctx.report.recoveredSegments++;
    if (isLast) scannedEnd = result.nextOffset;
    if (result.invalidBytes === 0) continue;
    cutOrRefuse(segment, result, ctx);
    deleteSegmentsAfter(segments, i, ctx.report);
    scannedEnd = result.nextOffset;
    if (!isLast) {
      // The cut segment is the last one now, and so the active one, whose offsets must be contiguous (see
      // `LogSegment.#invalidBatchReason`): scan it again by that rule, or the open would stop at its gaps.
      const again = segment.scanAndRebuildIndexes({ active: true });
      ctx.report.recoveredSegments++;
      if (again.invalidBytes > 0) cutOrRefuse(segment, again, ctx);
      scannedEnd = again.nextOffset;
    }
    break;
  }
  return { scannedEnd };
}

/**
 * An invalid tail found by a scan: refused (`ERR_CORRUPT_LOG`) when it starts below the recovery point,
 * i.e. in flushed data, unless `repair`; otherwise cut and reported.
 */
function cutOrRefuse(segment: LogSegment, result: ScanResult, ctx: { config: LogConfig; report: Report; recoveryPoint: number }): void {
  if (result.nextOffset < ctx.recoveryPoint && !ctx.config.repair) {
    // The rebuilt indexes cover only the valid prefix: remove them so that the next open scans again
    // instead of trusting them and hiding the damage.
    segment.offsetIndex.deleteFile();
    segment.timeIndex.deleteFile();
    throw new CorruptLogError(`damaged flushed data: ${result.reason ?? 'invalid batch'}`, {
      file: segment.log.path,
      position: result.validBytes,
      offset: result.nextOffset,
      expected: `valid batches up to the recovery point ${ctx.recoveryPoint}`,
    });
  }
  const bytes = segment.truncateInvalidTail(result.validBytes);
  ctx.report.truncations.push({ file: segment.log.path, position: result.validBytes, bytes, reason: result.reason ?? 'invalid batch' });
}

/** Both index files exist and pass their sanity checks (which loads them; the active one stays loaded). */
function indexesLookIntact(segment: LogSegment, isLast: boolean): boolean {
  try {
    if (isLast) segment.activate();
    else {
      segment.offsetIndex.get();
      segment.timeIndex.get();
    }
    return true;
  } catch (error) {
    if (isLogStorageError(error)) return false;
    throw error;
  }
}

/** Kafka: on the first segment that loses bytes, delete all later segments. */
function deleteSegmentsAfter(segments: LogSegments, index: number, report: Report): void {
  for (const segment of segments.all().slice(index + 1)) {
    report.deletedSegments.push({ file: segment.log.path, bytes: segment.size });
    segments.remove(segment);
    segment.deleteFiles();
  }
}

/** Start offset, end offset and recovery point after recovery; activates the last segment. */
function settleOffsets(
  segments: LogSegments,
  ctx: { dir: string; config: LogConfig; startCheckpoint: number | undefined; recoveryPoint: number | undefined; clean: boolean; state: RecoveryState },
): Omit<LoadedLog, 'report'> {
  let active = segments.last!;
  active.activate();
  let endOffset = ctx.state.scannedEnd ?? active.readNextOffset();
  let startOffset = Math.max(ctx.startCheckpoint ?? segments.first!.baseOffset, segments.first!.baseOffset);
  if (startOffset > endOffset) {
    // Kafka: a start offset checkpointed past the end (everything below was deleted) leaves one empty
    // segment at the start offset.
    for (const segment of segments.all()) {
      segments.remove(segment);
      segment.deleteFiles();
    }
    active = LogSegment.create(segmentParams(ctx.dir, startOffset, ctx.config));
    segments.add(active);
    endOffset = startOffset;
  }
  const recoveryPoint = ctx.clean ? endOffset : Math.min(ctx.recoveryPoint ?? 0, endOffset);
  startOffset = Math.min(startOffset, endOffset);
  return { segments, startOffset, endOffset, recoveryPoint };
}
