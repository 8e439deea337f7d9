/**
 * A file of fixed-size entries, memory-mapped (Kafka `AbstractIndex`): the shared mechanics of `.index` and
 * `.timeindex`. Subclasses define the entry format; this class owns the file, the mapping, the entry count
 * and the search.
 *
 * Life of an index file:
 * - created for a new segment and preallocated to `maxIndexBytes` (rounded down to whole entries);
 * - appended to through the writable mapping while its segment is active;
 * - trimmed to `entries * entryBytes` when the segment rolls or the log closes, so that a reopen, which
 *   counts entries as `fileLength / entryBytes`, sees exactly the written ones;
 * - mapped read-only, lazily, while the segment is old (see `LazyIndex`).
 *
 * Preallocation writes real zeros rather than extending the file sparsely (Kafka uses a sparse
 * `setLength`). A store into a mapped hole needs the file system to allocate a block at fault time; on a
 * full disk that fault is a SIGBUS, which kills the process. Writing the zeros up front turns a full disk
 * into an ordinary ENOSPC error at roll time. Cost: 10 MiB + 10 MiB of writes per 1 GiB segment (2%).
 *
 * The mapping never extends past the file: a resize replaces the mapping (the old one is released when it
 * is garbage-collected; `@riaskov/mmap-io` has no explicit unmap, see README "Limits").
 */
import type { FileHandle, FileSystem } from '../io/file-system.js';
import { CorruptIndexError, ioError } from '../errors.js';
import { INDEX_WARM_SECTION_BYTES } from '../limits.js';

/** Where and how an index file is opened. */
export interface IndexParams {
  readonly fs: FileSystem;
  readonly path: string;
  readonly baseOffset: number;
  /** Size the file is preallocated to while writable (Kafka `segment.index.bytes`). */
  readonly maxIndexBytes: number;
  /** Open for appends (the active segment) or read-only (older segments). */
  readonly writable: boolean;
}

const ZERO_CHUNK_BYTES = 1 << 20;
let zeroChunk: Uint8Array | undefined;

export abstract class AbstractIndex {
  readonly baseOffset: number;
  readonly #fs: FileSystem;
  #path: string;
  readonly #entryBytes: number;
  readonly #maxIndexBytes: number;
  #handle: FileHandle | undefined;
  #mapping: Buffer | undefined;
  /** A DataView over the mapping; reads past `entries` never happen, so its length may exceed them. */
  protected view: DataView = new DataView(new ArrayBuffer(0));
  #entries = 0;
  #maxEntries = 0;
  #writable: boolean;

  protected constructor(params: IndexParams, entryBytes: number) {
    this.baseOffset = params.baseOffset;
    this.#fs = params.fs;
    this.#path = params.path;
    this.#entryBytes = entryBytes;
    this.#maxIndexBytes = params.maxIndexBytes;
    this.#writable = params.writable;
  }

  get path(): string {
    return this.#path;
  }
  get entries(): number {
    return this.#entries;
  }
  get maxEntries(): number {
    return this.#maxEntries;
  }
  get entryBytes(): number {
    return this.#entryBytes;
  }
  get isWritable(): boolean {
    return this.#writable;
  }
  /** Bytes of valid entries. */
  get sizeInBytes(): number {
    return this.#entries * this.#entryBytes;
  }

  /**
   * Opens (creating if writable and missing) and maps the file; counts entries as `length / entryBytes`,
   * then lets the subclass check them. Throws `CorruptIndexError` for a length that is not a whole number
   * of entries or entries that break the index rules; the segment then rebuilds the index from its log.
   */
  load(): void {
    const handle = this.#openHandle();
    this.#handle = handle;
    const length = handle.size();
    if (length % this.#entryBytes !== 0) {
      throw new CorruptIndexError(`index length ${length} is not a multiple of ${this.#entryBytes}`, { file: this.#path });
    }
    this.#entries = length / this.#entryBytes;
    this.#remap(length);
    this.sanityCheck();
    if (this.#writable) this.#resize(this.#roundedMax());
  }

  #openHandle(): FileHandle {
    try {
      return this.#fs.open(this.#path, this.#writable ? 'create' : 'read');
    } catch (error) {
      throw ioError('open', this.#path, error);
    }
  }

  /** Checks the entries just loaded; throws `CorruptIndexError`. Subclasses override. */
  protected abstract sanityCheck(): void;

  /** Absolute offset of the entry in `slot` (both index kinds have an offset column). */
  abstract offsetAt(slot: number): number;

  /** Removes every entry with offset >= `offset` (searching the offset column). */
  truncateTo(offset: number): void {
    const slot = this.largestLowerBound(offset, (s) => this.offsetAt(s));
    if (slot < 0) this.truncateToSlot(0);
    else this.truncateToSlot(this.offsetAt(slot) === offset ? slot : slot + 1);
  }

  /** Makes the index writable again (its segment became active after a truncation). */
  makeWritable(): void {
    if (this.#writable) return;
    this.#handle?.close();
    this.#writable = true;
    this.#handle = this.#openHandle();
    this.#resize(this.#roundedMax());
  }

  get isFull(): boolean {
    return this.#entries >= this.#maxEntries;
  }

  /** Reserves the next slot for an append; returns its byte position in the mapping. */
  protected nextEntryPosition(): number {
    if (!this.#writable) throw new Error('seglog internal assertion: append to a read-only index');
    return this.#entries * this.#entryBytes;
  }

  /** Commits the slot written at {@link nextEntryPosition}. */
  protected commitEntry(): void {
    this.#entries++;
  }

  /** Drops entries from `slot` on. */
  protected truncateToSlot(slot: number): void {
    this.#entries = Math.min(this.#entries, Math.max(slot, 0));
  }

  /** Drops every entry (recovery rebuilds the index from scratch). */
  reset(): void {
    this.#entries = 0;
  }

  /**
   * Kafka's warm-section binary search. Index lookups by in-sync readers and appenders all touch the end of
   * the index; a plain binary search over the whole file would touch cold pages in the middle (page 0, 7,
   * 10, 12, 13 of a 13-page index) and stall on page faults (Kafka measured produce latency jumps to ~1 s).
   * Searching the last 8 KiB first keeps those lookups on 2-3 hot pages; only readers far behind pay for
   * cold pages. Returns the largest slot whose key is <= `target`, or -1.
   */
  protected largestLowerBound(target: number, keyAt: (slot: number) => number): number {
    const entries = this.#entries;
    if (entries === 0) return -1;
    const warmEntries = Math.floor(INDEX_WARM_SECTION_BYTES / this.#entryBytes);
    const firstHot = Math.max(0, entries - 1 - warmEntries);
    if (keyAt(firstHot) < target) return binarySearch(firstHot, entries - 1, target, keyAt);
    if (keyAt(0) > target) return -1;
    return binarySearch(0, firstHot, target, keyAt);
  }

  /** Flushes written entries to disk: msync of the mapping, then fdatasync for the file's size. */
  async flush(): Promise<void> {
    if (!this.#writable || this.#handle === undefined || this.#mapping === undefined) return;
    try {
      this.#fs.syncMap(this.#mapping, this.sizeInBytes);
      await this.#handle.syncData();
    } catch (error) {
      throw ioError('flush', this.#path, error);
    }
  }

  /** Shrinks the file to its entries (on roll and close) and maps it read-only-sized. */
  trimToValidSize(): void {
    if (this.#handle === undefined) return;
    this.#resize(this.sizeInBytes);
  }

  /** Trims (if writable), releases the mapping and closes the file. Idempotent. */
  close(): void {
    if (this.#handle === undefined) return;
    try {
      if (this.#writable) this.trimToValidSize();
    } finally {
      this.#release();
    }
  }

  /** Releases the mapping and file without trimming (after an I/O failure, or before deletion). */
  abandon(): void {
    this.#release();
  }

  /** Renames the file (e.g. to `.deleted`); works whether or not the index is open. */
  renameTo(path: string): void {
    try {
      if (this.#fs.stat(this.#path) !== undefined) this.#fs.rename(this.#path, path);
    } catch (error) {
      throw ioError('rename', this.#path, error);
    }
    this.#path = path;
  }

  #release(): void {
    const handle = this.#handle;
    this.#handle = undefined;
    this.#mapping = undefined;
    this.view = new DataView(new ArrayBuffer(0));
    handle?.close();
  }

  #roundedMax(): number {
    return Math.max(this.#entryBytes, this.#maxIndexBytes - (this.#maxIndexBytes % this.#entryBytes));
  }

  /** Sets the file length to `length` (zero-filling growth for real) and maps exactly that length. */
  #resize(length: number): void {
    const handle = this.#handle!;
    try {
      const current = handle.size();
      if (length < current) handle.truncate(length);
      else if (length > current) writeZeros(handle, current, length);
    } catch (error) {
      throw ioError('resize index', this.#path, error);
    }
    this.#remap(length);
  }

  #remap(length: number): void {
    this.#mapping = undefined;
    this.#maxEntries = Math.floor(length / this.#entryBytes);
    if (length === 0) {
      this.view = new DataView(new ArrayBuffer(0));
      return;
    }
    try {
      this.#mapping = this.#fs.map(this.#handle!, { length, writable: this.#writable });
    } catch (error) {
      throw ioError('map index', this.#path, error);
    }
    this.view = new DataView(this.#mapping.buffer, this.#mapping.byteOffset, length);
  }
}

function binarySearch(lo: number, hi: number, target: number, keyAt: (slot: number) => number): number {
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    const key = keyAt(mid);
    if (key > target) hi = mid - 1;
    else if (key < target) lo = mid;
    else return mid;
  }
  return lo;
}

function writeZeros(handle: FileHandle, from: number, to: number): void {
  zeroChunk ??= new Uint8Array(ZERO_CHUNK_BYTES);
  for (let position = from; position < to; position += ZERO_CHUNK_BYTES) {
    handle.write(zeroChunk.subarray(0, Math.min(ZERO_CHUNK_BYTES, to - position)), position);
  }
}
