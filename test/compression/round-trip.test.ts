/**
 * Round trips for every codec: seeded fast-check properties over random, repetitive and text-like
 * payloads (empty through > 64 KiB, across the snappy 32 KiB and lz4 64 KiB block boundaries), fixed edge
 * sizes, every level in Kafka's range ends, and compressed input that is a view into a larger buffer (as
 * a batch's records section always is).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompressionName } from '../../src/compression/codec.js';
import { codecByName } from '../../src/compression/registry.js';
import { ctx, fixedSeed, randomBytes, repeated, same, wordy } from './helpers.js';

const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const SEED = fixedSeed(0x5e6_10c);

/** Payloads: small random, repetitive up to ~192 KiB, text-like, and sizes around the block boundaries. */
const payloads = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.integer({ min: 0, max: 192 * 1024 }))
    .map(([unit, n]) => repeated(unit, n)),
  fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.integer()).map(([n, seed]) => wordy(n, seed)),
  fc
    .tuple(fc.constantFrom(32 * 1024, 64 * 1024, 128 * 1024), fc.integer({ min: -2, max: 2 }), fc.integer())
    .map(([boundary, delta, seed]) => randomBytes(boundary + delta, seed)),
);

/** Compressed bytes placed at an odd offset inside a larger buffer, with junk on both sides. */
function asView(compressed: Uint8Array, pad: number): Uint8Array {
  const host = Buffer.alloc(compressed.byteLength + 2 * pad, 0xa5);
  host.set(compressed, pad);
  return host.subarray(pad, pad + compressed.byteLength);
}

describe(`round trip (fast-check seed=${SEED}; replay with SEED=${SEED})`, () => {
  for (const name of CODECS) {
    it(`${name}: decompress(compress(x)) === x for random, repetitive and text payloads`, () => {
      const codec = codecByName(name);
      fc.assert(
        fc.property(payloads, fc.integer({ min: 0, max: 7 }), (input, pad) => {
          const compressed = codec.compress(input);
          expect(same(codec.decompress(asView(compressed, pad), ctx()), input)).toBe(true);
        }),
        { seed: SEED, numRuns: 60 },
      );
    });

    it(`${name}: fixed edge sizes (empty, 1 byte, block boundaries, 300 KB random, 1 MiB repetitive)`, () => {
      const codec = codecByName(name);
      const inputs = [
        Buffer.alloc(0),
        Buffer.from([0x2a]),
        randomBytes(32 * 1024, SEED),
        randomBytes(32 * 1024 + 1, SEED),
        randomBytes(64 * 1024, SEED),
        randomBytes(64 * 1024 + 1, SEED),
        randomBytes(300_000, SEED),
        Buffer.concat([randomBytes(70_000, SEED), Buffer.alloc(70_000), wordy(70_000, SEED)]),
        repeated(Buffer.from('abcdefgh'), 1 << 20),
      ];
      for (const input of inputs) {
        const out = codec.decompress(codec.compress(input), ctx());
        expect(out.byteLength).toBe(input.byteLength);
        expect(same(out, input)).toBe(true);
      }
    });
  }
});

describe('levels', () => {
  const input = Buffer.concat([wordy(80_000, 7), randomBytes(20_000, 7)]);
  const levels: Record<string, number[]> = { gzip: [-1, 1, 6, 9], lz4: [1, 9, 17], zstd: [-131_072, -5, 0, 1, 3, 19] };

  for (const [name, list] of Object.entries(levels)) {
    it(`${name}: every level in Kafka's range round-trips (${list.join(', ')})`, () => {
      const codec = codecByName(name as CompressionName);
      for (const level of list) expect(same(codec.decompress(codec.compress(input, { level }), ctx()), input)).toBe(true);
    });
  }

  it('gzip level 9 is no larger than level 1; zstd 19 no larger than 1 (the level reaches the library)', () => {
    const gzip = codecByName('gzip');
    const zstd = codecByName('zstd');
    expect(gzip.compress(input, { level: 9 }).byteLength).toBeLessThanOrEqual(gzip.compress(input, { level: 1 }).byteLength);
    expect(zstd.compress(input, { level: 19 }).byteLength).toBeLessThan(zstd.compress(input, { level: 1 }).byteLength);
  });

  it('levels outside Kafka ranges are ERR_INVALID_ARGUMENT, not a library RangeError or a silent clamp', () => {
    const bad: [CompressionName, number][] = [
      ['gzip', 0], ['gzip', 10], ['gzip', -2], ['gzip', 1.5], ['gzip', Number.NaN],
      ['lz4', 0], ['lz4', 18], ['lz4', 2.5],
      ['zstd', 23], ['zstd', -131_073], ['zstd', Number.POSITIVE_INFINITY],
    ];
    for (const [name, level] of bad) {
      expect(() => codecByName(name).compress(Buffer.from('x'), { level }), `${name} level ${level}`).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', actual: level }),
      );
    }
    // snappy has no levels: Kafka ignores the option for it, and so does seglog.
    expect(same(codecByName('snappy').decompress(codecByName('snappy').compress(Buffer.from('x'), { level: 99 }), ctx()), Buffer.from('x'))).toBe(true);
  });
});

it('compress never modifies its input', () => {
  for (const name of CODECS) {
    const input = wordy(100_000, 3);
    const copy = Buffer.from(input);
    codecByName(name).compress(input);
    expect(input.equals(copy), name).toBe(true);
  }
});
