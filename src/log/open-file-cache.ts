/**
 * Caps the file descriptors and mappings that inactive segments hold, across every log of a
 * `LogManager` (Kafka pain point 5: each segment holds a `.log` descriptor and two index maps, and
 * thousands of partitions exhaust `ulimit -n` and `vm.max_map_count`).
 *
 * Segments report every use; when more than `maxSegments` inactive segments hold resources, the least
 * recently used ones release theirs (descriptors closed, mappings dropped) and reopen on their next use.
 * Active segments are never released, and neither is a segment with an fsync in flight. A released
 * mapping is unmapped when the last reader view of it is garbage-collected (README, Limits).
 */

/** What the cache needs from a segment. */
export interface CachedSegment {
  /** The active segment is always open and not counted. */
  readonly isActive: boolean;
  /** True while the segment may not release (active, or an fsync in flight). */
  readonly pinned: boolean;
  /** Closes descriptors and drops mappings; the segment reopens them on demand. */
  releaseResources(): void;
}

export class OpenFileCache {
  readonly maxSegments: number;
  /** Insertion-ordered: the first entries are the least recently used. */
  readonly #open = new Map<CachedSegment, true>();
  evictions = 0;

  constructor(maxSegments: number) {
    this.maxSegments = Math.max(1, maxSegments);
  }

  /** Segments currently holding resources. */
  get size(): number {
    return this.#open.size;
  }

  /** Marks `segment` as just used (it holds resources now) and evicts the coldest if over the cap. */
  touch(segment: CachedSegment): void {
    this.#open.delete(segment);
    if (segment.isActive) return;
    this.#open.set(segment, true);
    if (this.#open.size > this.maxSegments) this.#evict(segment);
  }

  /** Releases segments down to the cap (the manager's scheduler calls it: pinned ones may have unpinned since). */
  trim(): void {
    if (this.#open.size > this.maxSegments) this.#evict(undefined);
  }

  /** Forgets `segment` (closed or deleted). */
  forget(segment: CachedSegment): void {
    this.#open.delete(segment);
  }

  /** Releases the least recently used segments, never `inUse` (the one being touched). */
  #evict(inUse: CachedSegment | undefined): void {
    for (const segment of this.#open.keys()) {
      if (this.#open.size <= this.maxSegments) return;
      if (segment.pinned || segment === inUse) continue;
      this.#open.delete(segment);
      segment.releaseResources();
      this.evictions++;
    }
  }
}
