/**
 * Checksums of Kafka's record formats: CRC-32C (Castagnoli) for magic v2 batches, CRC-32 (IEEE) for legacy
 * v0/v1 messages.
 *
 * CRC-32C backends, fastest first (measured on this project's 2-core x86_64 machine over seeded random
 * buffers, `node --import tsx bench/record/crc.bench.ts`):
 *
 * | backend                                             | 110 KB (one 1000 x 100 B batch) | 1 MiB     |
 * | --------------------------------------------------- | ------------------------------- | --------- |
 * | seglog's addon (`native/crc32c.c`), AVX-512 folding | ~47 GB/s                        | ~46 GB/s  |
 * | seglog's addon, `SEGLOG_CRC32C=sse42`               | ~24 GB/s                        | ~23 GB/s  |
 * | `@node-rs/crc32` (native, one chain)                | ~4.7 GB/s                       | ~5.3 GB/s |
 * | `crc-32/crc32c` (JS slicing tables)                 | ~0.57 GB/s                      |           |
 *
 * One CRC covers every byte appended, read or recovered, so at 5 M records/s of 100-byte records it is
 * ~550 MB/s of checksum: ~28 ns a record with `@node-rs/crc32`, ~2.5 ns with the addon. The addon folds
 * with VPCLMULQDQ on 512-bit registers where the CPU and OS have it (inputs of 256 bytes and more), else
 * runs three `crc32` instruction chains at once (the instruction's latency is three times its
 * throughput); without SSE4.2 it says `hardware: false`, and `@node-rs/crc32` (which has ARM's CRC
 * instructions) is preferred; the pure-JS `crc-32` is the last resort, so seglog works wherever it
 * installs. The addon's `crc32cImpl` says which of its paths runs.
 *
 * CRC-32 (IEEE) is only for legacy messages read from old directories: `@node-rs/crc32` or `crc-32`.
 */
import { createRequire } from 'node:module';
import { nativeAddon } from '../addon.js';

type CrcFunction = (input: Uint8Array) => number;
type RangeCrcFunction = (input: Uint8Array, start: number, end: number) => number;

interface Backends {
  crc32c: RangeCrcFunction;
  crc32: CrcFunction;
  /** Which CRC-32C implementation is in use, for benchmarks and diagnostics. */
  crc32cName: 'seglog-native' | 'seglog-native-software' | '@node-rs/crc32' | 'crc-32';
}

let backends: Backends | undefined;

function load(): Backends {
  const require = createRequire(import.meta.url);
  const addon = nativeAddon();
  let nodeRs: { crc32c: CrcFunction; crc32: CrcFunction } | undefined;
  try {
    nodeRs = require('@node-rs/crc32') as { crc32c: CrcFunction; crc32: CrcFunction };
  } catch {
    nodeRs = undefined;
  }
  const jsCrc32 = (): CrcFunction => {
    const i = require('crc-32') as { buf: (b: Uint8Array) => number };
    return (b) => i.buf(b) >>> 0;
  };
  const crc32: CrcFunction = nodeRs ? (b) => nodeRs.crc32(b) >>> 0 : jsCrc32();
  if (addon?.hardware) return { crc32c: addon.crc32c, crc32, crc32cName: 'seglog-native' };
  if (nodeRs) {
    const f = nodeRs.crc32c;
    return { crc32c: (b, s, e) => f(s === 0 && e === b.length ? b : b.subarray(s, e)) >>> 0, crc32, crc32cName: '@node-rs/crc32' };
  }
  if (addon) return { crc32c: addon.crc32c, crc32, crc32cName: 'seglog-native-software' };
  const c = require('crc-32/crc32c') as { buf: (b: Uint8Array) => number };
  return { crc32c: (b, s, e) => c.buf(s === 0 && e === b.length ? b : b.subarray(s, e)) >>> 0, crc32, crc32cName: 'crc-32' };
}

/** CRC-32C of `bytes[start, end)`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  backends ??= load();
  return backends.crc32c(bytes, start, end);
}

/** CRC-32 (IEEE 802.3, `java.util.zip.CRC32`) of `bytes[start, end)`, unsigned. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  backends ??= load();
  return backends.crc32(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
}

/** The CRC-32C implementation in use (the first call loads it). */
export function crc32cBackend(): Backends['crc32cName'] {
  backends ??= load();
  return backends.crc32cName;
}
