/**
 * Compression levels, checked against the ranges Kafka's topic configs accept (`compression.gzip.level`,
 * `compression.lz4.level`, `compression.zstd.level`), so a level seglog writes with is one a Kafka broker
 * would also accept. The libraries themselves either throw a raw `RangeError` (zlib) or silently clamp
 * (zstd, lz4), which would hide a typo such as `level: 90`.
 */
import { InvalidArgumentError } from '../errors.js';

/** A codec's level range, inclusive, with Kafka's default. */
export interface LevelRange {
  readonly codec: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** A value outside `min..max` that is also accepted (gzip's -1, "zlib's default"). */
  readonly alsoAllowed?: number;
}

/**
 * `level`, or the range's default when it is undefined.
 * @throws InvalidArgumentError (`ERR_INVALID_ARGUMENT`) for a non-integer or out-of-range level.
 */
export function resolveLevel(range: LevelRange, level: number | undefined): number {
  if (level === undefined) return range.default;
  const inRange = Number.isInteger(level) && ((level >= range.min && level <= range.max) || level === range.alsoAllowed);
  if (!inRange) {
    const allowed = `${range.min}..${range.max}${range.alsoAllowed === undefined ? '' : ` or ${range.alsoAllowed}`}`;
    throw new InvalidArgumentError(`${range.codec} compression level must be an integer in ${allowed}, got ${level}`, {
      expected: allowed,
      actual: level,
    });
  }
  return level;
}
