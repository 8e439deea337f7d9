/**
 * Every hard limit in seglog, with its reason and a rough estimate of what it allows (STYLE 4).
 * Relationships between limits are asserted at module load, so a change that breaks one fails at import.
 */
import { assert } from './assert.js';

/**
 * Largest integer a JS number holds exactly (2^53 - 1). Kafka's int64 fields (offsets, timestamps, producer
 * ids) are exposed as `number`; a decoded value beyond this is an `UnsafeIntegerError`, never a rounding.
 * At 10 M records/s a log reaches 2^53 offsets after about 28 years.
 */
export const INT64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

/** Kafka's int32 range: batch lengths, record counts and relative offsets are int32 on the wire. */
export const INT32_MAX = 0x7fff_ffff;

/**
 * Largest span `lastOffset - baseOffset` inside one segment: index entries store the relative offset as a
 * (signed, in Kafka) int32, so a segment rolls before a relative offset would pass 2^31 - 1.
 */
export const RELATIVE_OFFSET_MAX = INT32_MAX;

/**
 * Largest segment file. Positions in `.index` entries are int32 in Kafka (`segment.bytes` is an int), so a
 * segment may not pass 2^31 - 1 bytes. Default `segmentBytes` is 1 GiB.
 */
export const SEGMENT_BYTES_MAX = INT32_MAX;

/** Kafka's minimum `segment.bytes` (14): one legacy v0 message header fits. */
export const SEGMENT_BYTES_MIN = 14;

/**
 * Largest single batch seglog accepts or builds. The batch length field is int32; 1 GiB keeps one batch
 * well inside one segment and one Node Buffer (Node 20's Buffer limit is 4 GiB). Kafka's default
 * `max.message.bytes` is 1 MiB + 12; the per-log `maxMessageBytes` option defaults to that and may be
 * raised up to this limit.
 */
export const BATCH_BYTES_MAX = 1 << 30;

/** Kafka's default `max.message.bytes`: 1 MiB of records plus the 12-byte log overhead. */
export const MAX_MESSAGE_BYTES_DEFAULT = 1_048_588;

/**
 * Most records in one batch. `recordsCount` is int32, and each record takes at least 7 bytes
 * (length, attributes, two deltas, two null lengths, header count), so a 1 GiB batch holds < 2^28 records.
 */
export const BATCH_RECORDS_MAX = Math.floor(BATCH_BYTES_MAX / 7);

/** Varints are at most 5 bytes (int32) and varlongs at most 10 bytes (int64); longer input is corrupt. */
export const VARINT_BYTES_MAX = 5;
export const VARLONG_BYTES_MAX = 10;

/**
 * Largest index file. Kafka's `segment.index.bytes` default is 10 MiB: 1,310,720 offset entries or
 * 873,813 time entries, more than a 1 GiB segment needs at 4 KiB intervals (262,144). Index files are
 * mapped whole, so this also bounds the address space per segment (two maps).
 */
export const INDEX_BYTES_DEFAULT = 10 * 1024 * 1024;
export const INDEX_BYTES_MAX = 1 << 30;

/** Entry sizes of `.index` (relative offset u32 + position u32) and `.timeindex` (timestamp i64 + u32). */
export const OFFSET_INDEX_ENTRY_BYTES = 8;
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Kafka's default `index.interval.bytes`: an index entry after more than this many bytes of batches. */
export const INDEX_INTERVAL_BYTES_DEFAULT = 4096;

/**
 * Disk space the active segment reserves ahead at a time (`preallocateBytes`): one fallocate per 8 MiB
 * appended, and at most 8 MiB (plus one append) reserved past a log's end.
 */
export const PREALLOCATE_BYTES_DEFAULT = 8 << 20;

/**
 * The "warm section" of an index that lookups search first: 8 KiB, i.e. the last 2-3 pages, which every
 * in-sync lookup touches anyway, so they stay in page cache (Kafka `AbstractIndex`, pain point 9).
 */
export const INDEX_WARM_SECTION_BYTES = 8192;

/**
 * Largest decompressed batch payload seglog will produce. A corrupt or hostile compressed stream could
 * claim gigabytes; decompression stops with a `CompressionError` past this bound (256 MiB, 256 x the
 * default max batch size, above any real batch).
 */
export const DECOMPRESSED_BYTES_MAX = 256 * 1024 * 1024;

/** Longest log name, Kafka's topic-name rule (249 characters). */
export const LOG_NAME_LENGTH_MAX = 249;

/** Digits in a segment file name: base offsets are zero-padded to at least 20 (Kafka `LogFileUtils`). */
export const FILE_NAME_OFFSET_DIGITS = 20;

/**
 * A record timestamp further ahead of the clock than this gets a `'warning'` event when no
 * `messageTimestampAfterMaxMs` bound is set: its segment will not expire by time retention until the clock
 * catches up (Kafka pain point 6: microseconds sent as milliseconds pin segments for millennia). One day
 * tolerates clock skew between hosts by a wide margin.
 */
export const FUTURE_TIMESTAMP_WARNING_MS = 24 * 60 * 60 * 1000;

assert(SEGMENT_BYTES_MAX <= INT32_MAX, 'positions in .index are int32');
assert(BATCH_BYTES_MAX < SEGMENT_BYTES_MAX, 'one batch must fit in one segment');
assert(MAX_MESSAGE_BYTES_DEFAULT <= BATCH_BYTES_MAX, 'default max message below the hard batch limit');
assert(BATCH_RECORDS_MAX <= INT32_MAX, 'recordsCount is int32');
assert(INDEX_BYTES_DEFAULT % OFFSET_INDEX_ENTRY_BYTES === 0, 'offset index holds whole entries');
assert(INDEX_WARM_SECTION_BYTES >= 4096, 'the warm section covers at least one page');
assert(DECOMPRESSED_BYTES_MAX >= MAX_MESSAGE_BYTES_DEFAULT, 'a default-size batch always decompresses');
