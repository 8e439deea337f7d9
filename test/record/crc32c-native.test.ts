/**
 * seglog's CRC-32C addon (native/crc32c.c) against two independent references: a bit-at-a-time
 * definition written here and the pure-JS `crc-32/crc32c` package. Lengths cover every boundary of the
 * addon's paths: 8-byte steps, the short (3 x 128 B) and long (3 x 2048 B) three-lane chunks, the
 * folding path's 256-byte steps, 64-byte steps and < 64-byte tails, at every start alignment mod 64; on
 * every backend this CPU runs (`crc32cImpls`, forced per call), and the SEGLOG_CRC32C override.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { Addon } from '../../src/addon.js';
import { crc32c, crc32cBackend } from '../../src/record/crc32c.js';
import { Rng, testSeed } from '../helpers/random.js';

const require = createRequire(import.meta.url);
const jsCrc = require('crc-32/crc32c') as { buf: (b: Uint8Array) => number };

const ADDON_PATH = require.resolve('../../build/Release/seglog_native.node');
const addon = require(ADDON_PATH) as Addon;

/** CRC-32C by its definition: reflected polynomial 0x82F63B78, one bit at a time. */
function definition(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32C of every prefix bytes[0, 0..n], by the definition (one pass, bit at a time). */
function definitionPrefixes(bytes: Uint8Array, n: number): number[] {
  const out = [0];
  let crc = 0xffffffff;
  for (let i = 0; i < n; i++) {
    crc ^= bytes[i]!;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
    out.push((crc ^ 0xffffffff) >>> 0);
  }
  return out;
}

/** The CPU flags Linux reports (empty elsewhere): the kernel lists AVX-512 only when it saves ZMM state. */
function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    return new Set(line?.[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** The folding path's boundaries (256-byte steps, then 64-byte steps, < 64-byte tail) and large sizes. */
const FOLD_LENGTHS = [
  ...[255, 256, 257, 319, 320, 321, 383, 384, 447, 448, 511, 512, 513, 575, 576, 767, 768, 1023, 1024, 1025],
  ...[1279, 1280, 1281, 2047, 2048, 2049, 4095, 4096, 4097, 6143, 6144, 6145, 65535, 65536, 65537, 110_933],
  ...[(1 << 20) - 1, 1 << 20, (1 << 20) + 1, (1 << 20) + 255, 2 << 20],
];

const LENGTHS = [
  ...Array.from({ length: 400 }, (_, i) => i),
  ...[383, 384, 385, 767, 768, 769, 6143, 6144, 6145, 6144 + 384, 6144 + 383, 12288, 12289, 110_933],
];

describe('CRC-32C addon', () => {
  it('is the backend in use on this machine (x86-64 with SSE4.2), on its best path', () => {
    if (process.arch === 'x64') {
      expect(addon.hardware).toBe(true);
      expect(crc32cBackend()).toBe('seglog-native');
    }
    expect(addon.crc32cImpls.at(-1)).toBe('table');
    if (process.env['SEGLOG_CRC32C'] === undefined) expect(addon.crc32cImpl).toBe(addon.crc32cImpls[0]);
    const flags = cpuFlags();
    if (process.arch === 'x64' && flags.has('avx512f') && flags.has('vpclmulqdq')) {
      expect(addon.crc32cImpls).toEqual(['avx512-vpclmul', 'sse42', 'table']);
    }
    console.log(`[crc32c] impl ${addon.crc32cImpl}, available ${addon.crc32cImpls.join(', ')}`);
  });

  it('matches the definition on every backend: lengths 0..2048, fold boundaries, random to 2 MiB, every alignment mod 64 (seeded)', () => {
    const rng = new Rng(testSeed('crc32c backends'));
    const MAX = 2 << 20;
    const data = rng.bytes(MAX);
    const expectedShort = definitionPrefixes(data, 2048);
    const expectedFold = new Map(FOLD_LENGTHS.map((n) => [n, n <= 2048 ? expectedShort[n]! : jsCrc.buf(data.subarray(0, n)) >>> 0]));
    for (let n = 0; n <= 2048; n += 97) expect(jsCrc.buf(data.subarray(0, n)) >>> 0).toBe(expectedShort[n]);
    // Random lengths, half uniform to 2 MiB and half log-uniform (most batches are far below 2 MiB), each
    // checked at one alignment, round-robin, so every alignment sees several.
    const randomLengths = Array.from({ length: 256 }, (_, i) => (i % 2 === 0 ? rng.int(0, MAX) : Math.floor(2 ** (rng.next() * 21))));
    const expectedRandom = randomLengths.map((n) => jsCrc.buf(data.subarray(0, n)) >>> 0);
    // The same bytes at each start offset: the base of a fresh ArrayBuffer is at least 8-aligned, so the
    // offsets 0..63 give every address alignment mod 64 (and every position of a 64-byte line split).
    const backing = new Uint8Array(MAX + 64);
    for (let start = 0; start < 64; start++) {
      backing.fill(0);
      backing.set(data, start);
      for (const impl of addon.crc32cImpls) {
        const at = (n: number): number => addon.crc32c(backing, start, start + n, impl);
        for (let n = 0; n <= 2048; n++) if (at(n) !== expectedShort[n]) expect(at(n), `${impl} length ${n} start ${start}`).toBe(expectedShort[n]);
        for (const [n, expected] of expectedFold) expect(at(n), `${impl} length ${n} start ${start}`).toBe(expected);
        for (let i = start; i < randomLengths.length; i += 64) {
          expect(at(randomLengths[i]!), `${impl} length ${randomLengths[i]} start ${start}`).toBe(expectedRandom[i]);
        }
      }
    }
  });

  it('SEGLOG_CRC32C caps the backend a process uses; an unknown impl argument throws', () => {
    const probe = `const a = require(${JSON.stringify(ADDON_PATH)}); const b = Buffer.alloc(5000, 7); console.log(JSON.stringify([a.crc32cImpl, a.hardware, a.crc32c(b)]))`;
    const run = (cap: string): [string, boolean, number] =>
      JSON.parse(execFileSync(process.execPath, ['-e', probe], { env: { ...process.env, SEGLOG_CRC32C: cap }, encoding: 'utf8' })) as [string, boolean, number];
    const expected = jsCrc.buf(Buffer.alloc(5000, 7)) >>> 0;
    expect(run('table')).toEqual(['table', false, expected]);
    if (addon.crc32cImpls.includes('sse42')) expect(run('sse42')).toEqual(['sse42', true, expected]);
    expect(run('no-such-impl')[0]).toBe(addon.crc32cImpls[0]);
    expect(() => addon.crc32c(new Uint8Array(4), 0, 4, 'no-such-impl' as 'table')).toThrow(RangeError);
  });

  it('matches the definition and crc-32/crc32c at every path boundary, both paths (seeded)', () => {
    const rng = new Rng(testSeed('crc32c addon'));
    const buffer = Buffer.from(rng.bytes(110_933 + 16));
    for (const length of LENGTHS) {
      for (const start of [0, 1, 7]) {
        const bytes = buffer.subarray(start, start + length);
        const expected = length < 20_000 ? definition(bytes) : jsCrc.buf(bytes) >>> 0;
        expect(jsCrc.buf(bytes) >>> 0).toBe(expected);
        expect(addon.crc32c(bytes)).toBe(expected);
        expect(addon.crc32c(bytes, undefined, undefined, true)).toBe(expected);
        for (const impl of addon.crc32cImpls) expect(addon.crc32c(bytes, undefined, undefined, impl)).toBe(expected);
        expect(addon.crc32c(buffer, start, start + length)).toBe(expected);
        expect(crc32c(buffer, start, start + length)).toBe(expected);
      }
    }
  });

  it('works on memory it does not own the start of (a view into a larger ArrayBuffer)', () => {
    const backing = new ArrayBuffer(64);
    const view = new Uint8Array(backing, 13, 9);
    view.set(Buffer.from('123456789'));
    expect(addon.crc32c(view)).toBe(0xe3069283);
  });

  it('loads in worker threads too (its tables are built once per process)', async () => {
    const { Worker } = await import('node:worker_threads');
    const path = require.resolve('../../build/Release/seglog_native.node');
    const code = `const { parentPort } = require('node:worker_threads'); const a = require(${JSON.stringify(path)}); parentPort.postMessage(a.crc32c(Buffer.from('123456789')));`;
    const results = await Promise.all(
      Array.from({ length: 3 }, () => new Promise<number>((resolve, reject) => new Worker(code, { eval: true }).once('message', resolve).once('error', reject))),
    );
    expect(results).toEqual([0xe3069283, 0xe3069283, 0xe3069283]);
  });

  it('refuses what is not a byte range, with a typed error', () => {
    const bytes = new Uint8Array(10);
    expect(() => addon.crc32c(new Uint16Array(4) as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => addon.crc32c('abc' as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => addon.crc32c(bytes, 0, 11)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, 5, 4)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, -1, 4)).toThrow(RangeError);
    expect(() => addon.crc32c(bytes, 1.5, 4)).toThrow(RangeError);
    try {
      addon.crc32c(bytes, 0, 11);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
