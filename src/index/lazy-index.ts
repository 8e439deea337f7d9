/**
 * Maps an index only on first use (Kafka `LazyIndex`, KAFKA-7283). Opening a log with tens of thousands of
 * segments used to map every index at startup (Kafka measured 14-23 s for 40-46 K segments, doubled by the
 * time index); most of those indexes are never read again. A lazy index costs nothing until a read or a
 * timestamp lookup reaches its segment, and can be renamed or deleted without being mapped.
 */
import { ioError } from '../errors.js';
import type { FileSystem } from '../io/file-system.js';
import type { AbstractIndex } from './abstract-index.js';

export class LazyIndex<T extends AbstractIndex> {
  readonly #fs: FileSystem;
  readonly #create: (path: string, writable: boolean) => T;
  #path: string;
  #writable: boolean;
  #index: T | undefined;

  /** `create` builds the (unloaded) index for a path; it runs, with `load()`, on the first {@link get}. */
  constructor(fs: FileSystem, path: string, writable: boolean, create: (path: string, writable: boolean) => T) {
    this.#fs = fs;
    this.#path = path;
    this.#writable = writable;
    this.#create = create;
  }

  get path(): string {
    return this.#path;
  }
  get isLoaded(): boolean {
    return this.#index !== undefined;
  }

  /**
   * The loaded index. Throws what `load()` throws (`CorruptIndexError`, `LogIoError`); the index stays
   * unloaded then, so the caller can rebuild the file and try again.
   */
  get(): T {
    if (this.#index === undefined) {
      const index = this.#create(this.#path, this.#writable);
      try {
        index.load();
      } catch (error) {
        index.abandon();
        throw error;
      }
      this.#index = index;
    }
    return this.#index;
  }

  /** Future loads (and a loaded index) become writable: the segment is active again. */
  makeWritable(): void {
    this.#writable = true;
    this.#index?.makeWritable();
  }

  /** Closes the index if loaded (trimming a writable one). A later `get()` loads it again, read-only. */
  close(): void {
    const index = this.#index;
    this.#index = undefined;
    this.#writable = false;
    index?.close();
  }

  /** Releases without trimming. */
  abandon(): void {
    const index = this.#index;
    this.#index = undefined;
    index?.abandon();
  }

  /** Renames the file, loaded or not; later loads use the new name. */
  renameTo(path: string): void {
    if (this.#index !== undefined) this.#index.renameTo(path);
    else {
      try {
        if (this.#fs.stat(this.#path) !== undefined) this.#fs.rename(this.#path, path);
      } catch (error) {
        throw ioError('rename', this.#path, error);
      }
    }
    this.#path = path;
  }

  /** Deletes the file (releasing the mapping first); missing files are fine. */
  deleteFile(): void {
    this.abandon();
    try {
      if (this.#fs.stat(this.#path) !== undefined) this.#fs.unlink(this.#path);
    } catch (error) {
      throw ioError('unlink', this.#path, error);
    }
  }
}
