/**
 * Every error seglog throws on purpose extends {@link LogStorageError}. Match on `code`, never on the
 * message: codes are stable across versions, messages are not. `docs/errors.md` lists every code.
 *
 * Three kinds of failure are kept apart (STYLE 9):
 * - programmer errors inside seglog go to `assert()` and crash (they are bugs, not conditions);
 * - caller errors: {@link InvalidArgumentError}, {@link LogClosedError}, {@link OffsetConflictError}, ...;
 * - data and I/O errors: {@link CorruptRecordError}, {@link CorruptIndexError}, {@link LogIoError}, ...
 *
 * A `Symbol.for` brand makes `isLogStorageError()` (and `instanceof`, through `Symbol.hasInstance`) work
 * across two copies of the package in one process, which happens when an app and a library both depend on
 * seglog at different versions.
 */

const kBrand = Symbol.for('seglog.error');

/** The stable codes. Adding one is a minor change; renaming or removing one is a breaking change. */
export const ErrorCode = {
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  LOG_CLOSED: 'ERR_LOG_CLOSED',
  LOG_LOCKED: 'ERR_LOG_LOCKED',
  LOG_FAILED: 'ERR_LOG_FAILED',
  CORRUPT_RECORD: 'ERR_CORRUPT_RECORD',
  CORRUPT_INDEX: 'ERR_CORRUPT_INDEX',
  CORRUPT_CHECKPOINT: 'ERR_CORRUPT_CHECKPOINT',
  CORRUPT_LOG: 'ERR_CORRUPT_LOG',
  COMPRESSION: 'ERR_COMPRESSION',
  UNSUPPORTED_CODEC: 'ERR_UNSUPPORTED_CODEC',
  OFFSET_OUT_OF_RANGE: 'ERR_OFFSET_OUT_OF_RANGE',
  OFFSET_CONFLICT: 'ERR_OFFSET_CONFLICT',
  RECORD_TOO_LARGE: 'ERR_RECORD_TOO_LARGE',
  UNSAFE_INTEGER: 'ERR_UNSAFE_INTEGER',
  IO: 'ERR_IO',
  ABORTED: 'ERR_ABORTED',
  OUT_OF_ORDER_SEQUENCE: 'ERR_OUT_OF_ORDER_SEQUENCE',
  INVALID_PRODUCER_EPOCH: 'ERR_INVALID_PRODUCER_EPOCH',
  INVALID_TIMESTAMP: 'ERR_INVALID_TIMESTAMP',
  LOG_NOT_FOUND: 'ERR_LOG_NOT_FOUND',
  LOG_EXISTS: 'ERR_LOG_EXISTS',
} as const;

/** One of the values of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Where and what: every field is optional, set when it is known. */
export interface ErrorDetails {
  /** The file the failure is about (a segment, index or checkpoint path). */
  file?: string | undefined;
  /** A byte position in `file`, or in the buffer being decoded when there is no file. */
  position?: number | undefined;
  /** A logical record offset. */
  offset?: number | undefined;
  /** What was expected (a CRC, a length, an offset range, ...). */
  expected?: unknown;
  /** What was found instead. */
  actual?: unknown;
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

/** Base class of every seglog error. */
export class LogStorageError extends Error {
  /** Stable machine-readable code, one of {@link ErrorCode}. */
  readonly code: ErrorCodeValue;
  readonly file: string | undefined;
  readonly position: number | undefined;
  readonly offset: number | undefined;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(code: ErrorCodeValue, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = details.file;
    this.position = details.position;
    this.offset = details.offset;
    this.expected = details.expected;
    this.actual = details.actual;
  }

  get [kBrand](): true {
    return true;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === LogStorageError) return isLogStorageError(value);
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** True for any seglog error, even one thrown by another copy of the package. */
export function isLogStorageError(value: unknown): value is LogStorageError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
}

/** A caller passed a value of the wrong type, sign, range or shape. Nothing was written. */
export class InvalidArgumentError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.INVALID_ARGUMENT, message, details);
  }
}

/** The log (or manager) was closed; open it again to continue. */
export class LogClosedError extends LogStorageError {
  constructor(message = 'the log is closed', details?: ErrorDetails) {
    super(ErrorCode.LOG_CLOSED, message, details);
  }
}

/** Another `Log.open` (this process or another live one) holds the directory's lock. */
export class LogLockedError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.LOG_LOCKED, message, details);
  }
}

/**
 * An I/O failure left the log in a state where continuing to write could lose acknowledged data, so it
 * refuses further writes. Reads still work; close and reopen to recover (recovery repairs the tail).
 */
export class LogFailedError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.LOG_FAILED, message, details);
  }
}

/** Bytes that do not form a valid batch or record: bad length, magic, CRC, varint, count. */
export class CorruptRecordError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CORRUPT_RECORD, message, details);
  }
}

/** An `.index` or `.timeindex` file whose entries break the index rules. */
export class CorruptIndexError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CORRUPT_INDEX, message, details);
  }
}

/** A checkpoint file (recovery point, start offset, consumer offsets, producer state) is unreadable. */
export class CorruptCheckpointError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CORRUPT_CHECKPOINT, message, details);
  }
}

/**
 * Damage in data that was already flushed (below the recovery point): not a torn tail, so opening fails
 * closed instead of dropping it. Pass `repair: true` to `Log.open` to truncate at the damage.
 */
export class CorruptLogError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.CORRUPT_LOG, message, details);
  }
}

/** A compressed stream that does not decompress, or whose framing is wrong. */
export class CompressionError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.COMPRESSION, message, details);
  }
}

/** A codec id that Kafka does not define, or a codec not valid for the message format. */
export class UnsupportedCodecError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.UNSUPPORTED_CODEC, message, details);
  }
}

/** A read or wait below `startOffset` or above `endOffset`. `expected` holds `[start, end]`. */
export class OffsetOutOfRangeError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.OFFSET_OUT_OF_RANGE, message, details);
  }
}

/** `expectedOffset` did not equal `endOffset` at the moment of the append; `actual` holds `endOffset`. */
export class OffsetConflictError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.OFFSET_CONFLICT, message, details);
  }
}

/** A batch or record larger than `maxMessageBytes` or than a segment can hold. */
export class RecordTooLargeError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.RECORD_TOO_LARGE, message, details);
  }
}

/** An int64 field beyond 2^53 - 1, which a JS number cannot hold exactly. Never rounded. */
export class UnsafeIntegerError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.UNSAFE_INTEGER, message, details);
  }
}

/** A system call failed (ENOSPC, EIO, ...); `cause` holds the system error. */
export class LogIoError extends LogStorageError {
  /** The system error code (`ENOSPC`, `EIO`, ...) when there is one. */
  readonly syscallCode: string | undefined;
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.IO, message, details);
    const cause = details?.cause as { code?: unknown } | undefined;
    this.syscallCode = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** An `AbortSignal` passed by the caller fired. */
export class AbortedError extends LogStorageError {
  constructor(message = 'the operation was aborted', details?: ErrorDetails) {
    super(ErrorCode.ABORTED, message, details);
  }
}

/** An idempotent producer's sequence does not follow the last one written. */
export class OutOfOrderSequenceError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.OUT_OF_ORDER_SEQUENCE, message, details);
  }
}

/** An idempotent producer's epoch is older than the one already seen (a fenced zombie). */
export class InvalidProducerEpochError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.INVALID_PRODUCER_EPOCH, message, details);
  }
}

/** A record timestamp outside the bounds configured on the log. */
export class InvalidTimestampError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.INVALID_TIMESTAMP, message, details);
  }
}

/** `LogManager.get` or `delete` of a name that the manager does not hold. */
export class LogNotFoundError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.LOG_NOT_FOUND, message, details);
  }
}

/** `LogManager.create` of a name that already exists. */
export class LogExistsError extends LogStorageError {
  constructor(message: string, details?: ErrorDetails) {
    super(ErrorCode.LOG_EXISTS, message, details);
  }
}

/** Wraps a system error from `op` on `file` as a {@link LogIoError}, keeping it as `cause`. */
export function ioError(op: string, file: string, cause: unknown): LogIoError {
  const code = (cause as { code?: unknown } | null)?.code;
  const suffix = typeof code === 'string' ? ` (${code})` : '';
  return new LogIoError(`${op} failed on ${file}${suffix}`, { file, cause });
}
