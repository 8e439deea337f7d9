/**
 * File names in a log directory, exactly as Kafka names them (`LogFileUtils`): a segment's files are its
 * base offset zero-padded to 20 digits plus a suffix; the offset is parsed back from the text before the
 * first dot.
 *
 * ```text
 *  00000000000000368769.log          record batches, nothing else
 *  00000000000000368769.index        offset index
 *  00000000000000368769.timeindex    time index
 *  00000000000000368769.log.deleted  scheduled for deletion (any file + ".deleted")
 *  00000000000000368769.log.cleaned  compaction output before swap
 *  00000000000000368769.log.swap     compaction output being swapped in
 * ```
 */
import path from 'node:path';
import { FILE_NAME_OFFSET_DIGITS } from '../limits.js';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const TXN_INDEX_SUFFIX = '.txnindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/** Checkpoint and marker files, Kafka's names (kept per log directory here; see docs/format.md). */
export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const LOCK_FILE = '.lock';

/** The 20-digit zero-padded base offset (more digits only past 10^20, which safe integers never reach). */
export function filenamePrefixFromOffset(offset: number): string {
  return String(offset).padStart(FILE_NAME_OFFSET_DIGITS, '0');
}

/** Paths of a segment's three files. */
export interface SegmentPaths {
  readonly log: string;
  readonly index: string;
  readonly timeIndex: string;
  readonly txnIndex: string;
}

export function segmentPaths(dir: string, baseOffset: number, suffix = ''): SegmentPaths {
  const prefix = path.join(dir, filenamePrefixFromOffset(baseOffset));
  return {
    log: prefix + LOG_SUFFIX + suffix,
    index: prefix + INDEX_SUFFIX + suffix,
    timeIndex: prefix + TIME_INDEX_SUFFIX + suffix,
    txnIndex: prefix + TXN_INDEX_SUFFIX + suffix,
  };
}

/**
 * The base offset a file name starts with, or `undefined` if the name does not start with digits then a
 * dot (other files in the directory, such as checkpoints, are not segment files).
 */
export function offsetFromFileName(name: string): number | undefined {
  const match = /^(\d+)\./.exec(name);
  if (match === null) return undefined;
  const value = Number(match[1]);
  return Number.isSafeInteger(value) ? value : undefined;
}
