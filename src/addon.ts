/**
 * seglog's own native addon (`native/`, built by `npm install` with node-gyp into
 * `build/Release/seglog_native.node`): the per-byte work of the hot paths, CRC-32C, the record-length
 * walk of `appendBatch` (also beside its write, on a worker thread) and the LZ4 frame compressor. Loaded on first use (STYLE 18); when it is missing (no
 * compiler at install, an unusual platform) every caller falls back to JS or to another package, so
 * seglog still works, slower.
 */
import { createRequire } from 'node:module';

/**
 * The addon's CRC-32C backends, best first: carry-less-multiply folding on 512-bit registers (AVX-512 and
 * VPCLMULQDQ, inputs of 256 bytes and more), three chains of the SSE4.2 `crc32` instruction, slicing tables.
 */
export type Crc32cImpl = 'avx512-vpclmul' | 'sse42' | 'table';

/** What the addon exports (native/addon.c registers it). */
export interface Addon {
  /**
   * CRC-32C of `bytes[start, end)` (native/crc32c.c). `impl` (for tests) runs a given backend instead of
   * `crc32cImpl`: one of `crc32cImpls`, or `true` for `'table'`; anything else throws a RangeError.
   */
  crc32c(bytes: Uint8Array, start?: number, end?: number, impl?: boolean | Crc32cImpl): number;
  /** True when `crc32c` runs on the CPU's CRC instructions (`crc32cImpl` is not `'table'`). */
  readonly hardware: boolean;
  /**
   * The backend `crc32c` uses: the best of `crc32cImpls`, unless the environment variable
   * `SEGLOG_CRC32C` (read when the addon loads) names a lower one.
   */
  readonly crc32cImpl: Crc32cImpl;
  /** Every backend this CPU and OS can run, best first. */
  readonly crc32cImpls: readonly Crc32cImpl[];
  /**
   * Walks `count` record length prefixes from `start`: the end of the last record, or `-1 - position` of
   * the first bad length (native/record-lengths.c).
   */
  recordLengthsEnd(bytes: Uint8Array, start: number, end: number, count: number): number;
  /**
   * Per batch of `layout` (position, size, record count or -1 triples): the CRC-32C of the batch from byte
   * 21 on, and its record walk's end relative to the batch (0 when not walked), computed on the addon's
   * worker thread while `during()` runs on this one (native/beside.c, native/verify-batches.c), written
   * over the first two numbers of each triple once both are done; throws what `during` threw once the
   * worker is done (the layout then unchanged).
   */
  verifyBatchesBeside(bytes: Uint8Array, layout: Float64Array, during: () => void): void;
  /** Jobs the addon's worker thread has run so far (native/beside.c); tests check it was used. */
  workerJobs(): number;
  /**
   * The worker's wake-ups (native/beside.c): `[wakeups, slow, refused, parked]`, where `slow` took longer
   * than the back-off threshold, `refused` counts starts and claims that found the worker parked during a
   * back-off (their jobs ran inline), and `parked` is 1 while the worker sleeps until woken.
   */
  besideStats(): [number, number, number, number];
  /** For tests: the slow wake-up threshold in ns (negative: the default), and whether to end any back-off now. */
  besideTuning(slowWakeNs: number, endBackoff: boolean): void;
  /**
   * Allocates [offset, offset + length) of the file `fd` without changing its size; false when the
   * platform or file system cannot (native/reserve.c). Never throws for an OS error.
   */
  reserve(fd: number, offset: number, length: number): boolean;
  /**
   * Writes the Kafka LZ4 frame of `input[start, end)` (FLG 0x60, BD 0x40, 64 KiB independent blocks, each
   * stored when LZ4 does not shrink it) into `output` from `outStart`, which must have
   * `lz4FrameBound(end - start)` bytes of room; returns the frame's end. `legacyHeaderChecksum` writes the
   * pre-0.10 header checksum (magic v0). Blocks are compressed on this thread and the addon's worker
   * (native/lz4-frame.c). A TypeError for a non-Uint8Array, a RangeError for bad bounds, too little room,
   * or an output overlapping the input.
   */
  lz4CompressFrame(input: Uint8Array, start: number, end: number, output: Uint8Array, outStart: number, legacyHeaderChecksum?: boolean): number;
  /** The most bytes `lz4CompressFrame` writes for `bytes` of input (at most 1 GiB, else a RangeError). */
  lz4FrameBound(bytes: number): number;
  /**
   * Takes the addon's worker for this thread's next `lz4BesidePublish` and wakes it (it spins briefly for
   * that job); false when the worker is busy or absent. Released by `lz4CompressFrame` or `lz4BesideCancel`.
   */
  lz4BesideClaim(): boolean;
  /**
   * `input[0, end)` is final: publishes the blocks of the frame the next `lz4CompressFrame` of this same
   * input (same memory) writes that end by `end`, compressed by the worker meanwhile (the first publish
   * after a claim starts it); returns where the next block ends, to call again there, or -1 when there is
   * no pipeline (no claim, a busy worker, every block slot used). Until that `lz4CompressFrame` or
   * `lz4BesideCancel`, every buffer published from stays referenced and its published bytes unchanged.
   * A RangeError for an `end` before the bytes already published or past `input`.
   */
  lz4BesidePublish(input: Uint8Array, end: number): number;
  /** Ends a pipeline unfinished (its blocks dropped) and gives the worker back (after a batch was abandoned). */
  lz4BesideCancel(): void;
  /**
   * Test hook: while on, the worker holds every pipeline block it takes (lz4CompressFrame then takes them
   * over); returns how many blocks it has held so far (no argument: only that).
   */
  lz4TestStallWorker?(on?: boolean): number;
  /** Test hook: whether an input is pinned for a pipeline detached from a stalled worker. */
  lz4TestPinned?(): boolean;
  /**
   * The decompressed content of the LZ4 frame `input` (a plain Uint8Array of exactly its length), or
   * `undefined` when the frame is not one the fast path takes (flags other than Kafka's and the content
   * checksum, the v0 header-checksum quirk) or is bad in any way, output past `maxBytes` included: the JS
   * reader then runs and reports what is wrong (native/lz4-decode.c). A TypeError for a non-Uint8Array, a
   * RangeError for a `maxBytes` that is not a safe integer >= 0.
   */
  lz4DecompressFrame?(input: Uint8Array, maxBytes: number): Uint8Array | undefined;
}

/**
 * Where node-gyp puts the addon, relative to the module that loads it: `dist/index.js` (built package)
 * and `src/addon.ts` (sources under tsx or vitest) both sit one level below the package root.
 */
const ADDON_PATH = '../build/Release/seglog_native.node';

let addon: Addon | null | undefined;

/** The addon, or `undefined` when it is not built here (the reason is not kept: callers fall back). */
export function nativeAddon(): Addon | undefined {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}
