/**
 * seglog's CRC-32C addon (native/crc32c.c) against two independent references: a bit-at-a-time
 * definition written here and the pure-JS `crc-32/crc32c` package. Lengths cover every boundary of the
 * addon's paths: 8-byte steps, the short (3 x 128 B) and long (3 x 2048 B) three-lane chunks, and the
 * tails between them, at aligned and unaligned starts; both its hardware and its software path.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBackend } from '../../src/record/crc32c.js';
import { Rng, testSeed } from '../helpers/random.js';

const require = createRequire(import.meta.url);
const jsCrc = require('crc-32/crc32c') as { buf: (b: Uint8Array) => number };

interface Addon {
  crc32c(bytes: Uint8Array, start?: number, end?: number, software?: boolean): number;
  readonly hardware: boolean;
}
const addon = require('../../build/Release/seglog_native.node') as Addon;

/** CRC-32C by its definition: reflected polynomial 0x82F63B78, one bit at a time. */
function definition(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const LENGTHS = [
  ...Array.from({ length: 400 }, (_, i) => i),
  ...[383, 384, 385, 767, 768, 769, 6143, 6144, 6145, 6144 + 384, 6144 + 383, 12288, 12289, 110_933],
];

describe('CRC-32C addon', () => {
  it('is the backend in use on this machine (x86-64 with SSE4.2)', () => {
    if (process.arch === 'x64') {
      expect(addon.hardware).toBe(true);
      expect(crc32cBackend()).toBe('seglog-native');
    }
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
