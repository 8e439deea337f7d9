/**
 * The segments of one log, ordered by base offset (Kafka `LogSegments`, a skip-list map there). Appends
 * add at the end, retention removes from the front and truncation from the back, so a sorted array with
 * binary search for floor lookups is all that is needed: O(log n) lookups, O(1) amortised appends.
 */
import { assert } from '../assert.js';
import type { LogSegment } from './log-segment.js';

export class LogSegments {
  #segments: LogSegment[] = [];

  get count(): number {
    return this.#segments.length;
  }
  /** All segments, oldest first (a copy: safe to iterate while the log changes). */
  all(): LogSegment[] {
    return [...this.#segments];
  }
  get first(): LogSegment | undefined {
    return this.#segments[0];
  }
  /** The active segment, the one appends go to. */
  get last(): LogSegment | undefined {
    return this.#segments[this.#segments.length - 1];
  }
  get sizeInBytes(): number {
    let total = 0;
    for (const segment of this.#segments) total += segment.size;
    return total;
  }

  add(segment: LogSegment): void {
    const last = this.last;
    assert(last === undefined || segment.baseOffset > last.baseOffset, 'segments are added in offset order');
    this.#segments.push(segment);
  }

  /** Index of the last segment with baseOffset <= `offset`, or -1. */
  floorIndex(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The segment that would hold `offset`: the last with baseOffset <= `offset`. */
  floor(offset: number): LogSegment | undefined {
    const i = this.floorIndex(offset);
    return i < 0 ? undefined : this.#segments[i];
  }

  at(index: number): LogSegment | undefined {
    return this.#segments[index];
  }

  /** The segment after `segment`, or undefined. */
  next(segment: LogSegment): LogSegment | undefined {
    const i = this.#segments.indexOf(segment);
    return i < 0 ? undefined : this.#segments[i + 1];
  }

  /** Removes `segment` from the set (the caller deals with its files). */
  remove(segment: LogSegment): void {
    const i = this.#segments.indexOf(segment);
    assert(i >= 0, 'removing a segment that is not in the log');
    this.#segments.splice(i, 1);
  }
}
