/**
 * The incompressible-block test of the lz4 codec (a block of 8 KiB or more whose first 2 KiB LZ4 shrinks by
 * less than 64 bytes is stored as it is): what it stores and what it still compresses, and that the path
 * without the addon (node-lz4's block compressor, the addon mocked away) writes the same frames as the
 * addon's, so the rule cannot make a frame depend on how seglog was installed.
 */
import { describe, expect, it, vi } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import { codecByName } from '../../src/compression/registry.js';
import { Rng, testSeed } from '../helpers/random.js';
import { ctx, require, same } from './helpers.js';

const lz4Block = (require('lz4/lib/utils.js') as { bindings: { compress(i: Uint8Array, o: Uint8Array): number } }).bindings;

const BLOCK = 64 << 10;

/** Sizes word of each block of a Kafka LZ4 frame (7-byte header, no checksums): [size, stored]. */
function blocksOf(frame: Uint8Array): { size: number; stored: boolean }[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const out: { size: number; stored: boolean }[] = [];
  for (let at = 7; ; ) {
    const word = view.getUint32(at, true);
    if (word === 0) return out;
    const size = (word & 0x7fff_ffff) >>> 0;
    out.push({ size, stored: word >>> 31 === 1 });
    at += 4 + size;
  }
}

/** `n` bytes of JSON-like lines (LZ4 shrinks them ~5x). */
function text(n: number): Buffer {
  let lines = '';
  for (let i = 0; lines.length < n; i++) lines += `{"user":${i % 97},"event":"view"}\n`;
  return Buffer.from(lines.slice(0, n), 'latin1');
}

/** `random` bytes, then `text` (JSON-like, compressible) bytes, each run of its kind. */
function runs(rng: Rng, parts: readonly ['random' | 'text', number][]): Buffer {
  return Buffer.concat(
    parts.map(([kind, n]) =>
      kind === 'random' ? Buffer.from(rng.bytes(n)) : text(n),
    ),
  );
}

/** The lz4 codec of a fresh module graph in which the addon is missing. */
async function withoutAddon(): Promise<ReturnType<typeof codecByName>> {
  vi.resetModules();
  vi.doMock('../../src/addon.js', () => ({ nativeAddon: () => undefined }));
  try {
    const registry = await import('../../src/compression/registry.js');
    return registry.codecByName('lz4');
  } finally {
    vi.doUnmock('../../src/addon.js');
    vi.resetModules();
  }
}

/**
 * Blocks whose first 2 KiB (k zero bytes, then random ones) node-lz4 compresses to exactly 1984 and 1985
 * bytes, followed by text that compresses: 8192 bytes each, and the 1985 one cut to 8191.
 */
function thresholdCases(rng: Rng): { at1984: Buffer; at1985: Buffer; at1985Short: Buffer } {
  const scratch = Buffer.alloc(4096);
  // Each zero byte more usually saves one byte of output, but a step can skip a size: other random bytes then.
  const find = (size: number) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const random = Buffer.from(rng.bytes(2048));
      for (let k = 0; k < 400; k++) {
        const sample = Buffer.concat([Buffer.alloc(k), random.subarray(0, 2048 - k)]);
        if (lz4Block.compress(sample, scratch) === size) return sample;
      }
    }
    throw new Error(`no sample compresses to ${size} bytes (seed ${rng.seed})`);
  };
  const block = (sample: Buffer, bytes: number) => Buffer.concat([sample, text(bytes - sample.byteLength)]);
  return { at1984: block(find(1984), 8192), at1985: block(find(1985), 8192), at1985Short: block(find(1985), 8191) };
}

describe('lz4 incompressible-block test', () => {
  const lz4 = codecByName('lz4');

  it('stores a block whose first 2 KiB does not shrink, compresses one whose first 2 KiB does (seeded)', () => {
    const rng = new Rng(testSeed('lz4 sample'));
    const randomThenText = runs(rng, [['random', 4096], ['text', BLOCK - 4096]]);
    const textThenRandom = runs(rng, [['text', 4096], ['random', BLOCK - 4096]]);
    const small = runs(rng, [['random', 4096], ['text', 4000]]); // under 8 KiB: no sample, compressed
    expect(blocksOf(lz4.compress(randomThenText))).toEqual([{ size: BLOCK, stored: true }]);
    const [compressed] = blocksOf(lz4.compress(textThenRandom));
    expect(compressed!.stored).toBe(false);
    expect(compressed!.size).toBeLessThan(BLOCK);
    expect(blocksOf(lz4.compress(small))[0]!.stored).toBe(false);
    for (const input of [randomThenText, textThenRandom, small]) expect(same(lz4.decompress(lz4.compress(input), ctx()), input)).toBe(true);
  });

  it('decides at its exact thresholds: 1984 bytes from the sample compresses, 1985 stores; under 8 KiB never samples (seeded)', async () => {
    const rng = new Rng(testSeed('lz4 sample thresholds'));
    const cases = thresholdCases(rng);
    const expectations: [Buffer, boolean[]][] = [
      [cases.at1984, [false]],
      [cases.at1985, [true]],
      [cases.at1985Short, [false]],
      [Buffer.concat([text(BLOCK), cases.at1985]), [false, true]],
      [Buffer.concat([text(BLOCK), cases.at1985Short]), [false, false]],
    ];
    for (const [input, stored] of expectations) expect(blocksOf(lz4.compress(input)).map((b) => b.stored)).toEqual(stored);
    // The same decisions without the addon (node-lz4's compressor, and at an HC level).
    const frames = expectations.map(([input]) => lz4.compress(input));
    const library = await withoutAddon();
    expectations.forEach(([input], i) => expect(same(library.compress(input), frames[i]!), `case ${i}`).toBe(true));
    expectations.forEach(([input, stored]) => expect(blocksOf(library.compress(input, { level: 1 })).map((b) => b.stored)).toEqual(stored));
  });

  it.skipIf(nativeAddon() === undefined)('writes the same frames without the addon (seeded)', async () => {
    const rng = new Rng(testSeed('lz4 sample paths'));
    const inputs = Array.from({ length: 30 }, () =>
      runs(
        rng,
        Array.from({ length: rng.int(1, 6) }, () => [rng.bool() ? 'random' : 'text', rng.int(1, 3 * BLOCK)] as ['random' | 'text', number]),
      ),
    );
    const withAddon = inputs.map((input) => lz4.compress(input));
    const library = await withoutAddon();
    inputs.forEach((input, i) => expect(same(library.compress(input), withAddon[i]!), `input ${i}, seed ${rng.seed}`).toBe(true));
    expect(withAddon.some((frame) => blocksOf(frame).some((b) => b.stored))).toBe(true); // the rule ran
  });
});
