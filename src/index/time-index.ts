/**
 * The time index, `.timeindex` (Kafka `TimeIndex`): a sparse map from timestamps to offsets.
 *
 * ```text
 *  entry (12 bytes, big-endian):
 *    0  8  timestamp      int64    the largest record timestamp in the segment up to the batch below
 *    8  4  relativeOffset uint32   last offset of the batch that holds that timestamp, minus baseOffset
 * ```
 *
 * Entry `(T, O)` promises that every record with a timestamp above T comes after offset O. Timestamps
 * strictly increase from entry to entry (an entry is only written when the running maximum grew), so data
 * without timestamps (-1) leaves the index empty. The last slot is kept for the entry forced at roll and
 * close, which is why `isFull` is one entry early.
 */
import { CorruptIndexError } from '../errors.js';
import { readInt64, writeInt64 } from '../int64.js';
import { RELATIVE_OFFSET_MAX, TIME_INDEX_ENTRY_BYTES } from '../limits.js';
import { AbstractIndex, type IndexParams } from './abstract-index.js';

const TIMESTAMP_POS = 0;
const RELATIVE_OFFSET_POS = TIMESTAMP_POS + 8;

/** A timestamp and an offset. */
export interface TimestampOffset {
  readonly timestamp: number;
  readonly offset: number;
}

export class TimeIndex extends AbstractIndex {
  constructor(params: IndexParams) {
    super(params, TIME_INDEX_ENTRY_BYTES);
  }

  timestampAt(slot: number): number {
    const value = readInt64(this.view, slot * TIME_INDEX_ENTRY_BYTES + TIMESTAMP_POS);
    if (value === undefined) {
      throw new CorruptIndexError('time index timestamp is not a safe integer', {
        file: this.path,
        position: slot * TIME_INDEX_ENTRY_BYTES,
      });
    }
    return value;
  }
  override offsetAt(slot: number): number {
    return this.baseOffset + this.view.getUint32(slot * TIME_INDEX_ENTRY_BYTES + RELATIVE_OFFSET_POS);
  }

  /** The last entry, or `(-1, baseOffset)` when empty. */
  get lastEntry(): TimestampOffset {
    if (this.entries === 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.timestampAt(this.entries - 1), offset: this.offsetAt(this.entries - 1) };
  }

  /** One slot stays free for the entry forced when the segment rolls or closes. */
  override get isFull(): boolean {
    return this.entries >= this.maxEntries - 1;
  }

  /** The largest entry with timestamp <= `target`, or `(-1, baseOffset)`. Safe during append. */
  lookup(target: number): TimestampOffset {
    const slot = this.largestLowerBound(target, (s) => this.timestampAt(s));
    if (slot < 0) return { timestamp: -1, offset: this.baseOffset };
    return { timestamp: this.timestampAt(slot), offset: this.offsetAt(slot) };
  }

  /**
   * Appends `(timestamp, offset)` if the timestamp is above the last entry's. `force` ignores the full
   * check: used once, for the roll/close entry, which has its reserved slot.
   */
  maybeAppend(timestamp: number, offset: number, force = false): void {
    if (!force && this.isFull) throw new Error('seglog internal assertion: time index is full');
    const last = this.lastEntry;
    if (this.entries > 0 && (offset < last.offset || timestamp < last.timestamp)) {
      throw new CorruptIndexError(`time index entry (${timestamp}, ${offset}) goes backwards from (${last.timestamp}, ${last.offset})`, {
        file: this.path,
        offset,
      });
    }
    if (timestamp <= last.timestamp || this.entries >= this.maxEntries) return;
    const relative = offset - this.baseOffset;
    if (relative < 0 || relative > RELATIVE_OFFSET_MAX) throw new Error(`seglog internal assertion: time index offset ${offset}`);
    const at = this.nextEntryPosition();
    writeInt64(this.view, at + TIMESTAMP_POS, timestamp);
    this.view.setUint32(at + RELATIVE_OFFSET_POS, relative);
    this.commitEntry();
  }

  /** Timestamps must strictly increase and offsets must not decrease (Kafka `TimeIndex.sanityCheck`, tightened). */
  protected sanityCheck(): void {
    for (let slot = 0; slot < this.entries; slot++) {
      const bad =
        this.timestampAt(slot) < 0 ||
        (slot > 0 && (this.timestampAt(slot) <= this.timestampAt(slot - 1) || this.offsetAt(slot) < this.offsetAt(slot - 1)));
      if (bad) {
        throw new CorruptIndexError(`time index entry ${slot} breaks the ordering`, {
          file: this.path,
          position: slot * TIME_INDEX_ENTRY_BYTES,
        });
      }
    }
  }
}
