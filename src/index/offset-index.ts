/**
 * The offset index, `.index` (Kafka `OffsetIndex`): a sparse map from offsets to byte positions in the
 * segment's `.log`.
 *
 * ```text
 *  entry (8 bytes, big-endian):
 *    0  4  relativeOffset uint32   offset - segment baseOffset (fits in 31 bits: segments roll before)
 *    4  4  position       uint32   byte position in .log of the batch (or chunk) ending at that offset
 * ```
 *
 * An entry `(O, P)` means: the batch starting at position P ends at offset O. A lookup for offset T finds
 * the largest O <= T and scans batches forward from P, so any entry is a lower bound and the index may be
 * as sparse as we like: one entry per `indexIntervalBytes` (4 KiB) of log. There is no checksum: indexes
 * are rebuilt from the log after a crash, and checked when loaded.
 */
import { CorruptIndexError } from '../errors.js';
import { OFFSET_INDEX_ENTRY_BYTES, RELATIVE_OFFSET_MAX } from '../limits.js';
import { AbstractIndex, type IndexParams } from './abstract-index.js';

const RELATIVE_OFFSET_POS = 0;
const POSITION_POS = RELATIVE_OFFSET_POS + 4;

/** An offset and the position of the batch that ends at it. */
export interface OffsetPosition {
  readonly offset: number;
  readonly position: number;
}

export class OffsetIndex extends AbstractIndex {
  constructor(params: IndexParams) {
    super(params, OFFSET_INDEX_ENTRY_BYTES);
  }

  /** Absolute offset of the entry in `slot`. */
  override offsetAt(slot: number): number {
    return this.baseOffset + this.view.getUint32(slot * OFFSET_INDEX_ENTRY_BYTES + RELATIVE_OFFSET_POS);
  }
  positionAt(slot: number): number {
    return this.view.getUint32(slot * OFFSET_INDEX_ENTRY_BYTES + POSITION_POS);
  }

  /** Offset of the last entry, or the base offset when empty. */
  get lastOffset(): number {
    return this.entries === 0 ? this.baseOffset : this.offsetAt(this.entries - 1);
  }

  /** The largest entry with offset <= `target`, or `(baseOffset, 0)` if none. Safe during append. */
  lookup(target: number): OffsetPosition {
    const slot = this.largestLowerBound(target, (s) => this.offsetAt(s));
    if (slot < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.offsetAt(slot), position: this.positionAt(slot) };
  }

  /**
   * Appends `(offset, position)`. Offsets must strictly increase. The caller holds the writer role and has
   * checked `isFull` (a full index rolls the segment).
   */
  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    if (this.entries > 0 && offset <= this.lastOffset) {
      throw new CorruptIndexError(`index append of offset ${offset} not above the last entry ${this.lastOffset}`, {
        file: this.path,
        offset,
      });
    }
    if (relative < 0 || relative > RELATIVE_OFFSET_MAX || this.isFull) {
      throw new Error(`seglog internal assertion: offset index append out of range (${offset}, full=${this.isFull})`);
    }
    const at = this.nextEntryPosition();
    this.view.setUint32(at + RELATIVE_OFFSET_POS, relative);
    this.view.setUint32(at + POSITION_POS, position);
    this.commitEntry();
  }

  /** Offsets and positions must strictly increase: catches an untrimmed (zero-padded) or damaged file. */
  protected sanityCheck(): void {
    for (let slot = 1; slot < this.entries; slot++) {
      if (this.offsetAt(slot) <= this.offsetAt(slot - 1) || this.positionAt(slot) <= this.positionAt(slot - 1)) {
        throw new CorruptIndexError(`offset index entry ${slot} does not increase`, {
          file: this.path,
          position: slot * OFFSET_INDEX_ENTRY_BYTES,
        });
      }
    }
  }
}
