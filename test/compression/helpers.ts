/**
 * Shared by the compression tests: fixed seeds (printed in test names, overridable with `SEED=`), seeded
 * payloads, an independent xxHash32 (xxhashjs, pure JS, so the native one is checked against it), an LZ4
 * frame builder for reader variants Kafka does not write, and zstd frames without a content size (what
 * Kafka's streaming zstd-jni writer emits).
 */
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import type { DecompressContext } from '../../src/compression/codec.js';
import { mulberry32 } from '../helpers/random.js';

export const require = createRequire(import.meta.url);

/** A fixed seed, unless `SEED` is set to replay another one. Put it in the test name. */
export function fixedSeed(value: number): number {
  const fromEnv = process.env['SEED'];
  return fromEnv === undefined ? value : Number(fromEnv) >>> 0;
}

export const ctx = (magic = 2, maxBytes = 1 << 24): DecompressContext => ({ magic, maxBytes });

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

export function randomBytes(n: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** `n` bytes of `unit` repeated. */
export function repeated(unit: Uint8Array, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  if (unit.byteLength === 0) return out.fill(0);
  for (let at = 0; at < n; at += unit.byteLength) out.set(unit.subarray(0, Math.min(unit.byteLength, n - at)), at);
  return out;
}

/** Text-like bytes: random words from a small vocabulary (compresses ~3-5x, like JSON events). */
export function wordy(n: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const words = ['kafka', 'segment', 'offset', 'batch', 'record', '{"id":', '"ts":', '1700000', 'true', ' ', ',', '}'];
  let text = '';
  while (text.length < n) text += words[Math.floor(next() * words.length)];
  return Buffer.from(text.slice(0, n), 'latin1');
}

/** Runs `run` and checks that it throws a seglog `CompressionError`; returns it. */
export function expectCompressionError(run: () => unknown, message?: RegExp): Error & { code: string; position?: number } {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a CompressionError, nothing was thrown').toBeInstanceOf(Error);
  const error = thrown as Error & { code: string; position?: number };
  expect(error.name).toBe('CompressionError');
  expect(error.code).toBe('ERR_COMPRESSION');
  if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

// ---- xxHash32 (independent) and an LZ4 frame builder -------------------------------------------------

const XXH = require('xxhashjs') as { h32(data: Buffer, seed: number): { toNumber(): number } };

export function xxh32(data: Uint8Array): number {
  return XXH.h32(Buffer.from(data.buffer, data.byteOffset, data.byteLength), 0).toNumber() >>> 0;
}

const lz4Block = require('lz4/lib/utils.js') as {
  bindings: { compressBound(n: number): number; compress(input: Uint8Array, output: Uint8Array): number };
};

export interface FrameSpec {
  flg?: number;
  bd?: number;
  /** Written when FLG bit 3 is set (defaults to the content length). */
  contentSize?: number;
  /** Overrides the header checksum byte. */
  hc?: number;
  /** Content pieces, one per block; `stored` forces an uncompressed block. */
  blocks: { data: Uint8Array; stored?: boolean }[];
  /** Bytes appended after the frame. */
  trailing?: Uint8Array;
}

/** Builds an LZ4 frame per the spec, with checksums computed by xxhashjs as the FLG asks. */
export function lz4Frame(spec: FrameSpec): Buffer {
  const flg = spec.flg ?? 0x60;
  const bd = spec.bd ?? 0x40;
  const parts: Buffer[] = [];
  const descriptor = [flg, bd];
  const content = Buffer.concat(spec.blocks.map((b) => b.data));
  if (flg & 0x08) {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(spec.contentSize ?? content.byteLength));
    descriptor.push(...size);
  }
  const hc = spec.hc ?? (xxh32(Uint8Array.from(descriptor)) >>> 8) & 0xff;
  parts.push(Buffer.from([0x04, 0x22, 0x4d, 0x18, ...descriptor, hc]));
  for (const block of spec.blocks) {
    let payload: Buffer = Buffer.from(block.data);
    let word = block.data.byteLength | 0x8000_0000;
    if (block.stored !== true) {
      const out = Buffer.alloc(lz4Block.bindings.compressBound(block.data.byteLength));
      const n = lz4Block.bindings.compress(block.data, out);
      payload = out.subarray(0, n);
      word = n;
    }
    const size = Buffer.alloc(4);
    size.writeUInt32LE(word >>> 0);
    parts.push(size, payload);
    if (flg & 0x10) parts.push(u32le(xxh32(payload)));
  }
  parts.push(Buffer.alloc(4));
  if (flg & 0x04) parts.push(u32le(xxh32(content)));
  if (spec.trailing !== undefined) parts.push(Buffer.from(spec.trailing));
  return Buffer.concat(parts);
}

export function u32le(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value >>> 0);
  return out;
}

// ---- zstd frames without a content size ------------------------------------------------------------

interface ZstdBindingForTests {
  CCtx: new () => { setParameter(p: number, v: number): void; compress2(dst: Uint8Array, src: Uint8Array): number };
  CParameter: { contentSizeFlag: number; checksumFlag: number; compressionLevel: number };
  compressBound(n: number): number;
  getFrameContentSize(frame: Uint8Array): number | null;
}

export const zstdBinding = require('zstd-napi/binding') as ZstdBindingForTests;

/** A zstd frame as a streaming writer (zstd-jni) makes it: no content size; optionally with a checksum. */
export function zstdFrameWithoutSize(input: Uint8Array, checksum = false): Buffer {
  const cctx = new zstdBinding.CCtx();
  cctx.setParameter(zstdBinding.CParameter.contentSizeFlag, 0);
  cctx.setParameter(zstdBinding.CParameter.checksumFlag, checksum ? 1 : 0);
  const out = Buffer.alloc(zstdBinding.compressBound(input.byteLength));
  const n = cctx.compress2(out, input);
  const frame = out.subarray(0, n);
  expect(zstdBinding.getFrameContentSize(frame)).toBeNull();
  return frame;
}
