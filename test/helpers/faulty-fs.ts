/**
 * A fault-injecting FileSystem (STYLE 21): wraps the real one and, on the calls a fault matches, fails
 * with a system error code (ENOSPC, EIO, ...) and optionally tears a write (writes only its first bytes,
 * then fails). Counts every call, so tests can assert how many fsyncs a code path made.
 */
import { nativeAddon } from '../../src/addon.js';
import { NodeFileSystem } from '../../src/io/node-file-system.js';
import type { FileHandle, FileStat, FileSystem, MapOptions, OpenMode } from '../../src/io/file-system.js';

export type FaultOp =
  | 'open'
  | 'write'
  | 'read'
  | 'truncate'
  | 'reserve'
  | 'sync'
  | 'syncData'
  | 'syncDir'
  | 'rename'
  | 'unlink'
  | 'map'
  | 'mkdir'
  | 'readdir'
  | 'stat';

export interface Fault {
  readonly op: FaultOp;
  /** Only calls on paths matching this. */
  readonly path?: RegExp;
  /** The error code thrown. @defaultValue 'EIO' */
  readonly code?: string;
  /** Let this many matching calls pass first. @defaultValue 0 */
  readonly after?: number;
  /** Fail this many times, then pass again. @defaultValue Infinity */
  readonly times?: number;
  /** For writes: write this many bytes before failing (a torn write). @defaultValue 0 */
  readonly tornBytes?: number;
}

interface ActiveFault extends Fault {
  seen: number;
  failed: number;
}

function systemError(code: string, op: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${op} '${path}'`), { code, syscall: op, path });
}

export class FaultyFileSystem implements FileSystem {
  readonly inner: FileSystem;
  readonly counts = new Map<FaultOp, number>();
  #faults: ActiveFault[] = [];

  /** By default over the production layer as `Log.open` builds it, space reservation included. */
  constructor(inner: FileSystem = new NodeFileSystem(0o640, (fd, offset, length) => nativeAddon()?.reserve(fd, offset, length) ?? false)) {
    this.inner = inner;
  }

  /** Torn and failed writes only read the bytes too. */
  get writesOnlyRead(): boolean {
    return this.inner.writesOnlyRead === true;
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault, seen: 0, failed: 0 });
  }
  clear(): void {
    this.#faults = [];
  }
  count(op: FaultOp): number {
    return this.counts.get(op) ?? 0;
  }

  /** Counts the call and returns the fault to apply, if one matches. */
  check(op: FaultOp, path: string): ActiveFault | undefined {
    this.counts.set(op, this.count(op) + 1);
    for (const fault of this.#faults) {
      if (fault.op !== op || (fault.path !== undefined && !fault.path.test(path))) continue;
      fault.seen++;
      if (fault.seen <= (fault.after ?? 0) || fault.failed >= (fault.times ?? Infinity)) continue;
      fault.failed++;
      return fault;
    }
    return undefined;
  }

  fail(op: FaultOp, path: string): void {
    const fault = this.check(op, path);
    if (fault !== undefined) throw systemError(fault.code ?? 'EIO', op, path);
  }

  open(path: string, mode: OpenMode): FileHandle {
    this.fail('open', path);
    return new FaultyHandle(this, this.inner.open(path, mode));
  }
  stat(path: string): FileStat | undefined {
    this.fail('stat', path);
    return this.inner.stat(path);
  }
  readdir(dir: string): string[] {
    this.fail('readdir', dir);
    return this.inner.readdir(dir);
  }
  mkdir(dir: string, mode: number): void {
    this.fail('mkdir', dir);
    this.inner.mkdir(dir, mode);
  }
  rename(from: string, to: string): void {
    this.fail('rename', from);
    this.inner.rename(from, to);
  }
  unlink(path: string): void {
    this.fail('unlink', path);
    this.inner.unlink(path);
  }
  removeDir(dir: string): void {
    this.fail('unlink', dir);
    this.inner.removeDir(dir);
  }
  async syncDir(dir: string): Promise<void> {
    this.fail('syncDir', dir);
    await this.inner.syncDir(dir);
  }
  setMtime(path: string, mtimeMs: number): void {
    this.inner.setMtime(path, mtimeMs);
  }
  map(handle: FileHandle, options: MapOptions): Buffer {
    this.fail('map', handle.path);
    return this.inner.map((handle as FaultyHandle).inner ?? handle, options);
  }
  syncMap(mapping: Buffer, length: number): void {
    this.inner.syncMap(mapping, length);
  }
}

class FaultyHandle implements FileHandle {
  constructor(
    readonly fs: FaultyFileSystem,
    readonly inner: FileHandle,
  ) {}
  get path(): string {
    return this.inner.path;
  }
  get fd(): number {
    return this.inner.fd;
  }
  size(): number {
    return this.inner.size();
  }
  read(into: Uint8Array, position: number): number {
    this.fs.fail('read', this.path);
    return this.inner.read(into, position);
  }
  write(bytes: Uint8Array, position: number): void {
    this.#write([bytes], position);
  }
  writev(chunks: readonly Uint8Array[], position: number): void {
    this.#write(chunks, position);
  }
  #write(chunks: readonly Uint8Array[], position: number): void {
    const fault = this.fs.check('write', this.path);
    if (fault === undefined) {
      if (chunks.length === 1) this.inner.write(chunks[0]!, position);
      else this.inner.writev(chunks, position);
      return;
    }
    let torn = fault.tornBytes ?? 0;
    for (const chunk of chunks) {
      if (torn <= 0) break;
      const part = chunk.subarray(0, Math.min(torn, chunk.byteLength));
      this.inner.write(part, position);
      position += part.byteLength;
      torn -= part.byteLength;
    }
    throw systemError(fault.code ?? 'EIO', 'write', this.path);
  }
  truncate(size: number): void {
    this.fs.fail('truncate', this.path);
    this.inner.truncate(size);
  }
  /** A fault here makes the reservation fail the way fallocate does (false, nothing thrown). */
  reserve(offset: number, length: number): boolean {
    if (this.fs.check('reserve', this.path) !== undefined) return false;
    return this.inner.reserve?.(offset, length) ?? false;
  }
  releaseReserved(): void {
    this.fs.fail('truncate', this.path);
    this.inner.releaseReserved?.();
  }
  async sync(): Promise<void> {
    this.fs.fail('sync', this.path);
    await this.inner.sync();
  }
  async syncData(): Promise<void> {
    this.fs.fail('syncData', this.path);
    await this.inner.syncData();
  }
  close(): void {
    this.inner.close();
  }
}
