/**
 * The `node:fs` implementation of {@link FileSystem}, with memory mappings from `@riaskov/mmap-io` (loaded
 * on first use, so `import 'seglog'` does not load a native module).
 *
 * System errors are thrown as they come (with `code` such as `ENOSPC`); `log/` wraps them in typed errors
 * with the file and operation, since only it knows what the operation meant.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FileHandle, FileStat, FileSystem, MapOptions, OpenMode } from './file-system.js';

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL } = fs.constants;
// Not 'a+' for create: O_APPEND makes Linux ignore the position of pwrite.
const kFlags: Record<OpenMode, number> = {
  read: O_RDONLY,
  readWrite: O_RDWR,
  create: O_RDWR | O_CREAT,
  createNew: O_RDWR | O_CREAT | O_EXCL,
};

interface MmapBinding {
  map(size: number, protection: number, flags: number, fd: number, offset?: number, advise?: number): Buffer;
  sync(buffer: Buffer, offset: number, length: number, blocking: boolean, invalidate: boolean): void;
  PROT_READ: number;
  PROT_WRITE: number;
  MAP_SHARED: number;
}

let mmapBinding: MmapBinding | undefined;
function mmap(): MmapBinding {
  if (mmapBinding === undefined) {
    // @riaskov/mmap-io locates its binary with node-pre-gyp, which parses `process.argv` as its own
    // options: an application started with `--dir /x` made it look for the binary under /x (found by
    // `seglog perf-produce --dir`). The binding loads with the arguments hidden, then they are restored.
    const argv = process.argv;
    process.argv = argv.slice(0, 2);
    try {
      const loaded = createRequire(import.meta.url)('@riaskov/mmap-io') as MmapBinding | { default: MmapBinding };
      mmapBinding = 'default' in loaded ? loaded.default : loaded;
    } finally {
      process.argv = argv;
    }
  }
  return mmapBinding;
}

/** Turns the binding's "mmap failed, 12" into an error with a `code` like the fs module's. */
function mappingError(error: unknown, path: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const errno = Number(/(\d+)\s*$/.exec(message)?.[1]);
  const names: Record<number, string> = { 12: 'ENOMEM', 22: 'EINVAL', 13: 'EACCES', 19: 'ENODEV', 24: 'EMFILE' };
  return Object.assign(new Error(`${message} (${path})`), { code: names[errno] ?? 'EIO', errno });
}

/** `fallocate(fd, FALLOC_FL_KEEP_SIZE, offset, length)`, from seglog's addon (`io/` loads no module itself). */
export type ReserveFunction = (fd: number, offset: number, length: number) => boolean;

/** The most buffers one writev takes on Linux (IOV_MAX). */
const IOV_MAX = 1024;

/** Blocks of 4 KiB: what a file's last partial block occupies on disk. */
const BLOCK_BYTES = 4096;

class NodeFileHandle implements FileHandle {
  readonly path: string;
  #fd: number;
  readonly #reserve: ReserveFunction | undefined;

  constructor(path: string, fd: number, reserve: ReserveFunction | undefined) {
    this.path = path;
    this.#fd = fd;
    this.#reserve = reserve;
  }

  get fd(): number {
    return this.#fd;
  }
  size(): number {
    return fs.fstatSync(this.#fd).size;
  }
  read(into: Uint8Array, position: number): number {
    let done = 0;
    while (done < into.byteLength) {
      const n = fs.readSync(this.#fd, into, done, into.byteLength - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }
  write(bytes: Uint8Array, position: number): void {
    let done = 0;
    while (done < bytes.byteLength) {
      done += fs.writeSync(this.#fd, bytes, done, bytes.byteLength - done, position + done);
    }
  }
  writev(chunks: readonly Uint8Array[], position: number): void {
    // The usual call: one writev takes everything (no copies of the chunk array, no bookkeeping).
    if (chunks.length <= IOV_MAX) {
      let total = 0;
      for (const chunk of chunks) total += chunk.byteLength;
      const written = fs.writevSync(this.#fd, chunks as Uint8Array[], position);
      if (written === total) return;
      this.#writevRest(chunks, position, written);
    } else {
      this.#writevRest(chunks, position, 0);
    }
  }

  /** Writes what is left of `chunks` after `skip` bytes, IOV_MAX chunks a call, looping over short writes. */
  #writevRest(chunks: readonly Uint8Array[], position: number, skip: number): void {
    let pending = chunks.filter((c) => c.byteLength > 0);
    let written = skip;
    for (;;) {
      let i = 0;
      while (i < pending.length && written >= pending[i]!.byteLength) written -= pending[i++]!.byteLength;
      pending = pending.slice(i);
      if (written > 0) pending[0] = pending[0]!.subarray(written);
      position += skip;
      skip = 0;
      if (pending.length === 0) return;
      // writevSync loops on its own only for EAGAIN, not for short writes.
      written = fs.writevSync(this.#fd, pending.slice(0, IOV_MAX), position);
      if (written === 0) throw Object.assign(new Error(`writev wrote nothing at ${position}`), { code: 'EIO' }); // would spin
      skip = written;
    }
  }

  reserve(offset: number, length: number): boolean {
    return this.#reserve?.(this.#fd, offset, length) ?? false;
  }
  /**
   * A truncate to the file's own size frees blocks past its end (ext4, xfs, tmpfs, btrfs), but stamps the
   * file with the current time, which time retention may read: skipped when nothing lies past the end, and
   * the times are put back after it.
   */
  releaseReserved(): void {
    const stat = fs.fstatSync(this.#fd);
    if (stat.blocks * 512 <= Math.ceil(stat.size / BLOCK_BYTES) * BLOCK_BYTES) return;
    fs.ftruncateSync(this.#fd, stat.size);
    fs.futimesSync(this.#fd, stat.atimeMs / 1000, stat.mtimeMs / 1000); // to the microsecond
  }
  truncate(size: number): void {
    fs.ftruncateSync(this.#fd, size);
  }
  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fsync(this.#fd, (e) => (e ? reject(e) : resolve())));
  }
  syncData(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.#fd, (e) => (e ? reject(e) : resolve())));
  }
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    fs.closeSync(fd);
  }
}

/** Production file system: `node:fs` plus `@riaskov/mmap-io`. */
export class NodeFileSystem implements FileSystem {
  /** `write` and `writev` hand the bytes to the kernel and keep nothing. */
  readonly writesOnlyRead: boolean = true;

  /**
   * @param fileMode mode of files created (before umask).
   * @param reserve how handles reserve space (`FileHandle.reserve`); without it they never do.
   */
  constructor(
    readonly fileMode = 0o640,
    readonly reserve?: ReserveFunction,
  ) {}

  open(path: string, mode: OpenMode): FileHandle {
    return new NodeFileHandle(path, fs.openSync(path, kFlags[mode], this.fileMode), this.reserve);
  }
  stat(path: string): FileStat | undefined {
    const s = fs.statSync(path, { throwIfNoEntry: false });
    return s === undefined ? undefined : { size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory() };
  }
  readdir(dir: string): string[] {
    return fs.readdirSync(dir);
  }
  mkdir(dir: string, mode: number): void {
    fs.mkdirSync(dir, { recursive: true, mode });
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(path: string): void {
    fs.unlinkSync(path);
  }
  removeDir(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  syncDir(dir: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.open(dir, 'r', (openError, fd) => {
        if (openError) return reject(openError);
        fs.fsync(fd, (syncError) => fs.close(fd, () => (syncError ? reject(syncError) : resolve())));
      });
    });
  }
  setMtime(path: string, mtimeMs: number): void {
    const seconds = mtimeMs / 1000;
    fs.utimesSync(path, seconds, seconds);
  }
  map(handle: FileHandle, options: MapOptions): Buffer {
    const m = mmap();
    const protection = options.writable ? m.PROT_READ | m.PROT_WRITE : m.PROT_READ;
    try {
      return m.map(options.length, protection, m.MAP_SHARED, handle.fd, 0);
    } catch (error) {
      throw mappingError(error, handle.path);
    }
  }
  syncMap(mapping: Buffer, length: number): void {
    if (length > 0) mmap().sync(mapping, 0, length, true, false);
  }
}
