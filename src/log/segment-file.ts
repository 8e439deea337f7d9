/**
 * A segment's `.log` file (Kafka `FileRecords`): appends at the logical end, and read views served from one
 * memory mapping of the file.
 *
 * ## Why reads are mapped, and how that is kept from crashing
 *
 * A read hands out views of the mapping: no read system call, no copy into the JS heap, and a socket write
 * of a view goes from page cache to socket in one kernel copy (the closest Node comes to `sendfile`). The
 * danger of a mapping is SIGBUS: touching a mapped page that lies past the end of the file kills the
 * process. seglog never touches bytes past its logical size, which never exceeds the file's size, so the
 * only way to get there is a file that shrinks under a live mapping. Three rules prevent it:
 *
 * - Deletion never shrinks a file: segments are renamed to `.deleted` and unlinked later; an unlinked file
 *   keeps its pages for as long as a mapping (any reader's view) holds them.
 * - Truncation of a file whose mapping has been handed to readers does not shrink that file: the kept
 *   prefix is copied to a new file that is renamed over the old name ("copy on truncate"), so old readers
 *   keep the old file and new readers see the new one. Truncation is rare (`truncateTo`, not appends).
 * - Truncation of a file whose mapping never left seglog (recovery at open) shrinks it in place.
 *
 * A mapping may be longer than the file (the active segment is mapped at `segmentBytes` so appends need
 * no remap); bytes past the logical size are never read. External tools that truncate a segment file
 * of an open log are outside what this can guard (README, Limits).
 *
 * ## Reserved space
 *
 * The active segment reserves disk space ahead of its end (`reserveAhead`, see `LogOptions.preallocateBytes`)
 * without changing the file's size: on ext4 a 1 MiB write into reserved space measured 10-20% faster than
 * one that extends the file (native/reserve.c). The file's bytes, size and modification time are exactly
 * what they would be without it; only `du` sees more. The reservation is released
 * (`FileHandle.releaseReserved`) when the segment rolls or the log closes, and at the open of an active
 * segment a crash may have left reserved.
 */
import { assert } from '../assert.js';
import { ioError } from '../errors.js';
import type { FileHandle, FileSystem } from '../io/file-system.js';
import { SEGMENT_BYTES_MAX } from '../limits.js';

const COPY_CHUNK_BYTES = 1 << 20;
const TRUNCATE_TEMP_SUFFIX = '.trunc';

/** Suffix of the temporary file of a copy-on-truncate; a leftover one is deleted at open. */
export { TRUNCATE_TEMP_SUFFIX };

export class SegmentFile {
  readonly #fs: FileSystem;
  #path: string;
  #handle: FileHandle | undefined;
  #size: number;
  #mapping: Buffer | undefined;
  /** Whether the current mapping's views were given to readers outside seglog. */
  #mappingExposed = false;
  /** Exposed mappings replaced since; alive while any reader's view still references them. */
  #retired: WeakRef<ArrayBufferLike>[] = [];
  /** Length to map: at least the file size; the active segment maps its maximum size up front. */
  #mapLength: number;
  /** Bytes reserved ahead at a time once the file holds as many (0: none). */
  #reserveStep = 0;
  /** The end of the space reserved so far (0 when nothing is, or it was released). */
  #reservedEnd = 0;

  private constructor(fs: FileSystem, path: string, handle: FileHandle | undefined, size: number, mapLength: number) {
    this.#fs = fs;
    this.#path = path;
    this.#handle = handle;
    this.#size = size;
    this.#mapLength = mapLength;
  }

  /**
   * Creates a new empty file (kept open: it is the active segment's), or takes an existing one by its size
   * on disk. An existing file's descriptor is opened on first use, so opening a log of thousands of
   * segments costs one `stat` per segment and no descriptors.
   */
  static open(fs: FileSystem, path: string, options: { create: boolean; mapLength: number }): SegmentFile {
    if (options.create) {
      let handle: FileHandle;
      try {
        handle = fs.open(path, 'create');
      } catch (error) {
        throw ioError('create', path, error);
      }
      return new SegmentFile(fs, path, handle, 0, options.mapLength);
    }
    let size: number | undefined;
    try {
      size = fs.stat(path)?.size;
    } catch (error) {
      throw ioError('stat', path, error);
    }
    if (size === undefined) throw ioError('stat', path, Object.assign(new Error('no such file'), { code: 'ENOENT' }));
    return new SegmentFile(fs, path, undefined, size, options.mapLength);
  }

  get path(): string {
    return this.#path;
  }
  /** Bytes of batches written (the logical end of the file). */
  get size(): number {
    return this.#size;
  }
  /** Whether a descriptor is held (the log manager counts them against its cap). */
  get holdsDescriptor(): boolean {
    return this.#handle !== undefined;
  }

  /** Sets how long future mappings are (the active segment maps its maximum size). */
  setMapLength(length: number): void {
    this.#mapLength = length;
  }

  /**
   * Reserves disk space `step` bytes at a time ahead of the end, once the file holds `step` bytes (so a
   * log that stays small reserves nothing); 0 stops reserving. See "Reserved space" above.
   */
  reserveAhead(step: number): void {
    this.#reserveStep = step;
  }

  /**
   * Stops reserving and frees what was reserved past the end (best effort: a failure leaves disk space,
   * never bytes, behind; the next open releases it). Sizes, bytes and modification time are unchanged.
   */
  releaseReserved(): void {
    this.#reserveStep = 0;
    if (this.#reservedEnd <= this.#size) return;
    this.#reservedEnd = 0;
    try {
      this.#open().releaseReserved?.();
    } catch {
      // Only space is at stake.
    }
  }

  /** For a segment a previous process may have left with reserved space: releases it (see above). */
  releaseLeftoverReservation(): void {
    this.#reservedEnd = Number.MAX_SAFE_INTEGER;
    this.releaseReserved();
  }

  #reserveFor(handle: FileHandle, position: number, bytes: number): void {
    const step = this.#reserveStep;
    if (step === 0 || position + bytes <= this.#reservedEnd || position < step) return;
    const from = Math.max(position, this.#reservedEnd);
    const length = Math.min(position + bytes + step, SEGMENT_BYTES_MAX) - from;
    const reserved = handle.reserve?.(from, length) === true;
    // A refused fallocate (ENOSPC) may still have allocated part of the range: release it all later.
    this.#reservedEnd = from + length;
    if (!reserved) this.#reserveStep = 0; // not supported here, or the disk is full: stop asking
  }

  /** Writes `chunks` back to back at the end of the file; returns the position of the first byte. */
  append(chunks: readonly Uint8Array[]): number {
    const handle = this.#open();
    const position = this.#size;
    const bytes = this.#checkedLength(chunks);
    this.#reserveFor(handle, position, bytes);
    try {
      if (chunks.length === 1) handle.write(chunks[0]!, position);
      else handle.writev(chunks, position);
    } catch (error) {
      throw ioError('write', this.#path, error);
    }
    this.#size = position + bytes;
    return position;
  }

  /**
   * Writes `chunks` at the logical end without moving the end: readers cannot see the bytes until
   * `commitAppend`. Returns the position written at. The caller keeps every other write out until it
   * commits or discards (`appendBatch` verifies the bytes on a worker thread meanwhile).
   */
  writeUncommitted(chunks: readonly Uint8Array[]): number {
    const handle = this.#open();
    const position = this.#size;
    this.#reserveFor(handle, position, this.#checkedLength(chunks));
    try {
      if (chunks.length === 1) handle.write(chunks[0]!, position);
      else handle.writev(chunks, position);
    } catch (error) {
      throw ioError('write', this.#path, error);
    }
    return position;
  }

  /** Total length of `chunks`, which must fit in the segment. */
  #checkedLength(chunks: readonly Uint8Array[]): number {
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.byteLength;
    assert(this.#size + bytes <= SEGMENT_BYTES_MAX, 'segment append past the segment limit');
    return bytes;
  }

  /** Makes `bytes` written by `writeUncommitted` part of the file. */
  commitAppend(bytes: number): void {
    this.#size += bytes;
  }

  /**
   * A view of `[position, position + length)` for seglog's own use (scanning headers, recovery): it must
   * not outlive the call that asked for it.
   */
  internalView(position: number, length: number): Uint8Array {
    return this.#view(position, length);
  }

  /** A view of `[position, position + length)` to hand to a reader; it stays valid after truncation. */
  readerView(position: number, length: number): Uint8Array {
    const view = this.#view(position, length);
    this.#mappingExposed = true;
    return view;
  }

  #view(position: number, length: number): Uint8Array {
    assert(position >= 0 && length >= 0 && position + length <= this.#size, 'view past the logical end of a segment');
    if (length === 0) return new Uint8Array(0);
    const mapping = this.#mapped(position + length);
    return new Uint8Array(mapping.buffer, mapping.byteOffset + position, length);
  }

  #mapped(end: number): Buffer {
    if (this.#mapping !== undefined && this.#mapping.byteLength >= end) return this.#mapping;
    this.#retireMapping();
    const length = Math.min(Math.max(this.#mapLength, this.#size), SEGMENT_BYTES_MAX);
    try {
      this.#mapping = this.#fs.map(this.#open(), { length, writable: false });
    } catch (error) {
      throw ioError('map', this.#path, error);
    }
    return this.#mapping;
  }

  #retireMapping(): void {
    if (this.#mapping !== undefined && this.#mappingExposed) this.#retired.push(new WeakRef(this.#mapping.buffer));
    this.#mapping = undefined;
    this.#mappingExposed = false;
  }

  /** True while some reader may still hold a view of a mapping of this file. */
  get hasLiveReaderViews(): boolean {
    this.#retired = this.#retired.filter((ref) => ref.deref() !== undefined);
    return this.#mappingExposed || this.#retired.length > 0;
  }

  /**
   * Cuts the file to `size` bytes and syncs the result. Shrinks in place when no reader holds a view;
   * otherwise copies the kept prefix to a new file renamed over this one (see the file comment).
   */
  async truncateTo(size: number): Promise<number> {
    assert(size >= 0 && size <= this.#size, 'truncate past the end');
    const removed = this.#size - size;
    if (removed === 0) return 0;
    if (this.hasLiveReaderViews) await this.#copyTruncate(size);
    else this.#truncateInPlace(size);
    await this.flush();
    return removed;
  }

  /**
   * Cuts whatever a failed write left past the logical end; returns false if that failed too. Safe with
   * readers: no view reaches past the logical end.
   */
  discardPastEnd(): boolean {
    try {
      const handle = this.#open();
      if (handle.size() > this.#size) {
        handle.truncate(this.#size);
        this.#reservedEnd = 0; // a truncate releases reserved space too
      }
      return true;
    } catch {
      return false;
    }
  }

  /** In-place truncation, for recovery before any reader exists. */
  truncateInPlace(size: number): number {
    const removed = this.#size - size;
    if (removed > 0) this.#truncateInPlace(size);
    return removed;
  }

  #truncateInPlace(size: number): void {
    this.#retireMapping();
    try {
      this.#open().truncate(size);
    } catch (error) {
      throw ioError('truncate', this.#path, error);
    }
    this.#size = size;
    this.#reservedEnd = 0;
  }

  async #copyTruncate(size: number): Promise<void> {
    const temp = this.#path + TRUNCATE_TEMP_SUFFIX;
    let copy: FileHandle | undefined;
    try {
      copy = this.#fs.open(temp, 'create');
      copy.truncate(0);
      const old = this.#open();
      const buffer = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(size, 1)));
      for (let position = 0; position < size; position += buffer.byteLength) {
        const n = old.read(buffer.subarray(0, Math.min(buffer.byteLength, size - position)), position);
        copy.write(buffer.subarray(0, n), position);
      }
      await copy.syncData();
      this.#fs.rename(temp, this.#path);
    } catch (error) {
      copy?.close();
      throw ioError('copy-truncate', this.#path, error);
    }
    this.#retireMapping();
    this.#handle?.close();
    this.#handle = copy;
    this.#size = size;
    this.#reservedEnd = 0;
  }

  /** fdatasync: the data and the file size reach the disk. */
  async flush(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    try {
      await handle.syncData();
    } catch (error) {
      throw ioError('fsync', this.#path, error);
    }
  }

  /** Renames the file; open handles and mappings follow the inode, so nothing else changes. */
  renameTo(path: string): void {
    try {
      this.#fs.rename(this.#path, path);
    } catch (error) {
      throw ioError('rename', this.#path, error);
    }
    this.#path = path;
  }

  /**
   * Closes the descriptor and drops seglog's reference to the mapping. Readers' views stay valid. State is
   * kept: a later access reopens the file (the log manager closes cold segments to cap descriptors).
   */
  close(): void {
    this.#retireMapping();
    const handle = this.#handle;
    this.#handle = undefined;
    handle?.close();
  }

  /** Closes, then unlinks the file. */
  deleteFile(): void {
    this.close();
    try {
      if (this.#fs.stat(this.#path) !== undefined) this.#fs.unlink(this.#path);
    } catch (error) {
      throw ioError('unlink', this.#path, error);
    }
  }

  /** Reopens a closed file (the log manager closes cold segments to stay under its descriptor cap). */
  #open(): FileHandle {
    if (this.#handle === undefined) {
      try {
        this.#handle = this.#fs.open(this.#path, 'readWrite');
      } catch (error) {
        throw ioError('open', this.#path, error);
      }
    }
    return this.#handle;
  }
}
