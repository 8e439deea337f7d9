/**
 * Options of `Log.open`, with Kafka's topic-config names in camelCase, Kafka's defaults unless a line says
 * why not, and validation into a frozen `LogConfig`. Bad options are `InvalidArgumentError`s naming the
 * option, thrown before anything touches the disk.
 */
import { nativeAddon } from '../addon.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { CompressionId, CompressionName } from '../compression/codec.js';
import { compressionIdOf } from '../compression/registry.js';
import { InvalidArgumentError, isLogStorageError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';
import { NodeFileSystem } from '../io/node-file-system.js';
import type { OpenFileCache } from './open-file-cache.js';
import {
  BATCH_BYTES_MAX,
  INDEX_BYTES_DEFAULT,
  INDEX_BYTES_MAX,
  INDEX_INTERVAL_BYTES_DEFAULT,
  MAX_MESSAGE_BYTES_DEFAULT,
  PREALLOCATE_BYTES_DEFAULT,
  SEGMENT_BYTES_MAX,
  SEGMENT_BYTES_MIN,
  TIME_INDEX_ENTRY_BYTES,
} from '../limits.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The addon's fallocate, loaded on the first reservation (src/addon.ts). */
function reserveSpace(fd: number, offset: number, length: number): boolean {
  return nativeAddon()?.reserve(fd, offset, length) ?? false;
}

/** Options of `Log.open`. Every field is optional. */
export interface LogOptions {
  /**
   * Roll to a new segment before one would pass this many bytes (Kafka `segment.bytes`).
   * @defaultValue 1 GiB (1073741824); range 14 .. 2^31 - 1
   */
  readonly segmentBytes?: number;
  /**
   * Roll when record time has moved this far past the segment's first batch (Kafka `segment.ms`).
   * @defaultValue 7 days
   */
  readonly segmentMs?: number;
  /**
   * Up to this much random time is taken off `segmentMs` per segment, so many logs do not roll at once
   * (Kafka `segment.jitter.ms`). @defaultValue 0
   */
  readonly segmentJitterMs?: number;
  /**
   * Size each index file is preallocated to; a full index rolls the segment (Kafka `segment.index.bytes`).
   * @defaultValue 10 MiB; minimum 24 (two time-index entries: one for data, one reserved for the roll)
   */
  readonly segmentIndexBytes?: number;
  /** An index entry is added after more than this many bytes of batches (Kafka `index.interval.bytes`). @defaultValue 4096 */
  readonly indexIntervalBytes?: number;
  /**
   * Once the active segment holds this many bytes, disk space is reserved this many bytes at a time ahead
   * of its end, without changing the file's size (Linux `fallocate` with `FALLOC_FL_KEEP_SIZE`): writes
   * into reserved space measured 10-20% faster on ext4. Files and sizes are unchanged (a Kafka broker or
   * any reader sees the same bytes); the space is released when the segment rolls or the log closes, and at
   * the next open after a crash. 0 turns it off; elsewhere than Linux it does nothing. Kafka's
   * `preallocate` (default off) instead sets the whole segment's length up front.
   * @defaultValue 8 MiB
   */
  readonly preallocateBytes?: number;
  /**
   * Largest batch accepted by `append`/`appendBatch`, log overhead included (Kafka `max.message.bytes`).
   * @defaultValue 1048588 (1 MiB + 12); at most 1 GiB
   */
  readonly maxMessageBytes?: number;
  /**
   * Flush (fsync) once this many records were appended since the last flush (Kafka `flush.messages`).
   * @defaultValue Infinity (never; the OS writes back, as in Kafka)
   */
  readonly flushIntervalMessages?: number;
  /** Flush once this long has passed since the last flush (Kafka `flush.ms`). @defaultValue Infinity */
  readonly flushIntervalMs?: number;
  /**
   * How often the recovery point is checkpointed, so a restart after a crash re-validates only the data
   * written since (Kafka `log.flush.offset.checkpoint.interval.ms`). @defaultValue 60000
   */
  readonly recoveryPointCheckpointIntervalMs?: number;
  /** Delay before the files of a deleted segment are unlinked (Kafka `file.delete.delay.ms`). @defaultValue 60000 */
  readonly fileDeleteDelayMs?: number;
  /**
   * When an append's promise resolves. `'fsync'`: after the data (and, for a new segment, its directory
   * entry) is on stable storage; concurrent appends share fsyncs (group commit). Nothing acknowledged is
   * lost on a power failure. `'os'`: once written to the operating system (Kafka's default, which relies
   * on replication); survives a crash of the process, but a power failure or kernel crash loses what the
   * OS had not yet written back (up to `flushIntervalMs`/`flushIntervalMessages`, or the kernel's
   * writeback delay, ~30 s on Linux).
   * @defaultValue 'fsync': a queue or event store should not lose acknowledged writes
   */
  readonly durability?: Durability;
  /**
   * Delete segments whose newest record is older than this (Kafka `retention.ms`). Kafka's default is
   * 7 days; seglog keeps data forever unless told, because an event store silently dropping old events
   * would surprise its users more than a growing disk. @defaultValue Infinity (off)
   */
  readonly retentionMs?: number;
  /** Delete the oldest segments while the log would stay above this size (Kafka `retention.bytes`). @defaultValue Infinity (off) */
  readonly retentionBytes?: number;
  /** How often retention runs in the background (Kafka `log.retention.check.interval.ms`). @defaultValue 300000 */
  readonly retentionCheckIntervalMs?: number;
  /**
   * Reject records whose timestamp is more than this far behind the clock (Kafka
   * `message.timestamp.before.max.ms`), so a stale timestamp cannot get fresh data deleted by time
   * retention at once. @defaultValue Infinity (off, as in Kafka)
   */
  readonly messageTimestampBeforeMaxMs?: number;
  /**
   * Reject records whose timestamp is more than this far ahead of the clock (Kafka
   * `message.timestamp.after.max.ms`): a timestamp in the future pins its segment against time retention.
   * When off, such records are accepted and a `'warning'` event says so. @defaultValue Infinity (off)
   */
  readonly messageTimestampAfterMaxMs?: number;
  /** Forget an idempotent producer idle for this long (Kafka `producer.id.expiration.ms`). @defaultValue 86400000 */
  readonly producerIdExpirationMs?: number;
  /**
   * Run flushing, retention and checkpoints on the log's own unref'd timers. A `LogManager` turns this
   * off and runs them from its single scheduler. @defaultValue true
   */
  readonly backgroundTasks?: boolean;
  /** Codec of `append` batches: 'none', 'gzip', 'snappy', 'lz4', 'zstd' or a Kafka id. @defaultValue 'none' */
  readonly compression?: CompressionName | CompressionId;
  /**
   * Open even if data below the recovery point (flushed data) is damaged, truncating at the damage and
   * reporting what was dropped. Without it such damage fails the open with `ERR_CORRUPT_LOG`.
   * @defaultValue false
   */
  readonly repair?: boolean;
  /** Mode of created files (before the umask). @defaultValue 0o640 */
  readonly fileMode?: number;
  /** Mode of created directories (before the umask). @defaultValue 0o750 */
  readonly dirMode?: number;
  /** File-system layer (tests inject faults through it). @defaultValue the `node:fs` implementation */
  readonly fileSystem?: FileSystem;
  /** Source of time for record timestamps, rolling and flushing. @defaultValue the system clock */
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for the roll jitter. @defaultValue `Math.random` */
  readonly random?: () => number;
  /** @internal A `LogManager`'s shared cap on descriptors and mappings. */
  readonly openFileCache?: OpenFileCache;
}

/** When an append is acknowledged; see {@link LogOptions.durability}. */
export type Durability = 'fsync' | 'os';

/** Validated, complete, frozen options. */
export interface LogConfig {
  readonly durability: Durability;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly retentionCheckIntervalMs: number;
  readonly messageTimestampBeforeMaxMs: number;
  readonly messageTimestampAfterMaxMs: number;
  readonly producerIdExpirationMs: number;
  readonly backgroundTasks: boolean;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly segmentJitterMs: number;
  readonly segmentIndexBytes: number;
  readonly indexIntervalBytes: number;
  readonly preallocateBytes: number;
  readonly maxMessageBytes: number;
  readonly flushIntervalMessages: number;
  readonly flushIntervalMs: number;
  readonly recoveryPointCheckpointIntervalMs: number;
  readonly fileDeleteDelayMs: number;
  readonly compression: CompressionId;
  readonly repair: boolean;
  readonly fileMode: number;
  readonly dirMode: number;
  readonly fileSystem: FileSystem;
  readonly clock: Clock;
  readonly random: () => number;
  readonly openFileCache: OpenFileCache | undefined;
}

function integer(options: LogOptions, name: keyof LogOptions, fallback: number, min: number, max: number): number {
  const value = options[name] ?? fallback;
  const ok = typeof value === 'number' && (value === Infinity ? max === Infinity : Number.isSafeInteger(value));
  if (!ok || (value as number) < min || (value as number) > max) {
    throw new InvalidArgumentError(`option ${name} must be an integer in [${min}, ${max}]`, { actual: value });
  }
  return value as number;
}

/** Checks a durability value (option or per-append). */
export function checkDurability(value: unknown): Durability {
  if (value !== 'fsync' && value !== 'os') throw new InvalidArgumentError(`durability must be 'fsync' or 'os'`, { actual: value });
  return value;
}

/** Validates `options` and fills in defaults. */
export function resolveLogConfig(options: LogOptions = {}): LogConfig {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
  let compression: CompressionId;
  try {
    compression = compressionIdOf(options.compression ?? 'none');
  } catch (error) {
    if (!isLogStorageError(error)) throw error;
    throw new InvalidArgumentError('option compression must be a codec name or id', { actual: options.compression, cause: error });
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new InvalidArgumentError('option random must be a function');
  const clock = options.clock ?? systemClock;
  if (typeof clock?.nowMs !== 'function') throw new InvalidArgumentError('option clock must have nowMs()');
  const fileMode = integer(options, 'fileMode', 0o640, 0, 0o777);
  return Object.freeze({
    durability: checkDurability(options.durability ?? 'fsync'),
    retentionMs: integer(options, 'retentionMs', Infinity, 0, Infinity),
    retentionBytes: integer(options, 'retentionBytes', Infinity, 0, Infinity),
    retentionCheckIntervalMs: integer(options, 'retentionCheckIntervalMs', 300_000, 1, Infinity),
    messageTimestampBeforeMaxMs: integer(options, 'messageTimestampBeforeMaxMs', Infinity, 0, Infinity),
    messageTimestampAfterMaxMs: integer(options, 'messageTimestampAfterMaxMs', Infinity, 0, Infinity),
    producerIdExpirationMs: integer(options, 'producerIdExpirationMs', 86_400_000, 1, Infinity),
    backgroundTasks: options.backgroundTasks ?? true,
    segmentBytes: integer(options, 'segmentBytes', 1 << 30, SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX),
    segmentMs: integer(options, 'segmentMs', 7 * DAY_MS, 1, Number.MAX_SAFE_INTEGER),
    segmentJitterMs: integer(options, 'segmentJitterMs', 0, 0, Number.MAX_SAFE_INTEGER),
    segmentIndexBytes: integer(options, 'segmentIndexBytes', INDEX_BYTES_DEFAULT, 2 * TIME_INDEX_ENTRY_BYTES, INDEX_BYTES_MAX),
    indexIntervalBytes: integer(options, 'indexIntervalBytes', INDEX_INTERVAL_BYTES_DEFAULT, 0, SEGMENT_BYTES_MAX),
    preallocateBytes: integer(options, 'preallocateBytes', PREALLOCATE_BYTES_DEFAULT, 0, SEGMENT_BYTES_MAX),
    maxMessageBytes: integer(options, 'maxMessageBytes', MAX_MESSAGE_BYTES_DEFAULT, 61, BATCH_BYTES_MAX),
    flushIntervalMessages: integer(options, 'flushIntervalMessages', Infinity, 1, Infinity),
    flushIntervalMs: integer(options, 'flushIntervalMs', Infinity, 0, Infinity),
    recoveryPointCheckpointIntervalMs: integer(options, 'recoveryPointCheckpointIntervalMs', 60_000, 1, Infinity),
    fileDeleteDelayMs: integer(options, 'fileDeleteDelayMs', 60_000, 0, Number.MAX_SAFE_INTEGER),
    compression,
    repair: options.repair === true,
    fileMode,
    dirMode: integer(options, 'dirMode', 0o750, 0, 0o777),
    fileSystem: options.fileSystem ?? new NodeFileSystem(fileMode, reserveSpace),
    clock,
    random,
    openFileCache: options.openFileCache,
  });
}
