/**
 * The only way `log/` and `index/` reach the disk (STYLE 21). Tests swap in a file system that tears
 * writes, flips bits, fails fsync or runs out of space; production uses `NodeFileSystem`.
 *
 * Everything but fsync is synchronous. Kafka's log layer is synchronous too: appends go to the page
 * cache (microseconds for a batch), and keeping them synchronous makes an append atomic with respect to
 * other JS code without a lock. fsync takes milliseconds on real disks, so it runs on the thread pool and
 * returns a promise; that is what lets concurrent appends share one fsync (group commit).
 */

/** How a file is opened. */
export type OpenMode =
  /** read only; the file must exist */
  | 'read'
  /** read and write; the file must exist */
  | 'readWrite'
  /** read and write; created if missing */
  | 'create'
  /** read and write; fails with EEXIST if the file exists */
  | 'createNew';

/** An open file. Positional reads and writes only: there is no shared file position. */
export interface FileHandle {
  readonly path: string;
  /** The OS file descriptor, for code that hands it to the OS (mapping, sockets). */
  readonly fd: number;
  /** Current file size in bytes (fstat). */
  size(): number;
  /** Reads into `into` from `position` until it is full or the file ends; returns the bytes read. */
  read(into: Uint8Array, position: number): number;
  /** Writes all of `bytes` at `position` (looping over short writes). */
  write(bytes: Uint8Array, position: number): void;
  /** Writes all of `chunks`, back to back, starting at `position`, in as few system calls as possible. */
  writev(chunks: readonly Uint8Array[], position: number): void;
  /** Sets the file's length, shrinking or extending (with zeros) it. */
  truncate(size: number): void;
  /**
   * Best effort: allocates disk space for [offset, offset + length) without changing the file's size
   * (Linux `fallocate(FALLOC_FL_KEEP_SIZE)`); false when the platform or file system cannot (some space may
   * then be allocated anyway). Optional: a file layer without it never reserves.
   */
  reserve?(offset: number, length: number): boolean;
  /**
   * Frees disk space allocated past the end of the file, if any, without changing its size, bytes or
   * modification time. Optional, with `reserve`.
   */
  releaseReserved?(): void;
  /** fsync: data and metadata on stable storage. */
  sync(): Promise<void>;
  /** fdatasync: data (and the size, if it changed) on stable storage. */
  syncData(): Promise<void>;
  /** Closes the descriptor. Idempotent. */
  close(): void;
}

/** File metadata that the log uses. */
export interface FileStat {
  readonly size: number;
  readonly mtimeMs: number;
  readonly isDirectory: boolean;
}

/** A memory mapping of a file. */
export interface MapOptions {
  /** Bytes to map, from file position 0. May exceed the file size (never touch bytes past it: SIGBUS). */
  readonly length: number;
  /** Map read-write (`MAP_SHARED`, stores reach the file) instead of read-only. */
  readonly writable: boolean;
}

export interface FileSystem {
  /**
   * True when the handles' `write`/`writev` only read the bytes they are given (never detach, resize,
   * transfer or modify them): seglog then reads the same bytes on another thread during the call
   * (`appendBatch` verifies them beside their write). A layer without it gets them verified first.
   */
  readonly writesOnlyRead?: boolean;
  open(path: string, mode: OpenMode): FileHandle;
  /** Metadata, or `undefined` if nothing exists at `path`. */
  stat(path: string): FileStat | undefined;
  /** Names (not paths) in `dir`. */
  readdir(dir: string): string[];
  /** Creates `dir` and its missing parents with `mode`; no error if it exists. */
  mkdir(dir: string, mode: number): void;
  /** Atomic rename (same file system), replacing `to`. */
  rename(from: string, to: string): void;
  unlink(path: string): void;
  /** Removes a directory and everything in it. */
  removeDir(dir: string): void;
  /** fsync of a directory, so that created, renamed and removed names in it are durable. */
  syncDir(dir: string): Promise<void>;
  /** Sets the modification time (Kafka's retention falls back to it when records have no timestamps). */
  setMtime(path: string, mtimeMs: number): void;
  /**
   * Maps `handle` into memory and returns the mapping as a `Buffer`. The mapping is released when the
   * buffer (and every view of it) is garbage-collected: the binding offers no explicit unmap.
   */
  map(handle: FileHandle, options: MapOptions): Buffer;
  /** Flushes a writable mapping's dirty pages to the file (msync, synchronous). */
  syncMap(mapping: Buffer, length: number): void;
}
