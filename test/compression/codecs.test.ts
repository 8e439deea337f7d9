import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressionError, UnsupportedCodecError, type CompressionName } from '../../src/main.js';
import { compressLz4Frame } from '../../src/compression/lz4.js';
import { codecById, codecByName, compressionIdOf } from '../../src/compression/registry.js';
import { Rng, testSeed } from '../helpers/random.js';

const require = createRequire(import.meta.url);
const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const ctx = (magic = 2, maxBytes = 1 << 24) => ({ magic, maxBytes });

function payloads(rng: Rng): Uint8Array[] {
  const repetitive = Buffer.alloc(200_000, 'abcdefgh');
  return [new Uint8Array(0), rng.bytes(1), rng.bytes(1000), rng.bytes(70_000), repetitive, rng.bytes(300_000)];
}

describe('codecs', () => {
  for (const name of CODECS) {
    it(`${name}: round trip of empty, small, > 64 KiB, random and repetitive payloads (property)`, () => {
      const seed = testSeed(`codec ${name}`);
      const codec = codecByName(name);
      for (const input of payloads(new Rng(seed))) {
        const out = codec.decompress(codec.compress(input), ctx());
        expect(Buffer.from(out).equals(Buffer.from(input))).toBe(true);
      }
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 5000 }), (input) => {
          expect(Buffer.from(codec.decompress(codec.compress(input), ctx())).equals(Buffer.from(input))).toBe(true);
        }),
        { seed, numRuns: 100 },
      );
    });
  }

  it('registry: ids, names, and typed errors for unknown codecs', () => {
    expect(CODECS.map((n) => compressionIdOf(n))).toEqual([0, 1, 2, 3, 4]);
    expect(codecById(3).name).toBe('lz4');
    for (const bad of [5, 7, -1, 'brotli', 1.5]) expect(() => compressionIdOf(bad as never)).toThrow(UnsupportedCodecError);
    expect(() => codecById(6)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_CODEC', actual: 6 }));
  });
});

describe('Kafka framing', () => {
  it('lz4 writes the frame header Kafka writes (04 22 4D 18 60 40 82) and end mark', () => {
    const frame = codecByName('lz4').compress(Buffer.from('hello kafka'));
    expect(Buffer.from(frame.subarray(0, 7)).toString('hex')).toBe('04224d18604082');
    expect(Buffer.from(frame.subarray(-4)).toString('hex')).toBe('00000000');
  });

  it('lz4 pre-0.10 header checksum (1A): accepted for magic v0, rejected for v1 and v2', () => {
    const legacy = compressLz4Frame(Buffer.from('old kafka'), { legacyHeaderChecksum: true });
    expect(legacy[6]).toBe(0x1a);
    const lz4 = codecByName('lz4');
    expect(Buffer.from(lz4.decompress(legacy, ctx(0))).toString()).toBe('old kafka');
    expect(() => lz4.decompress(legacy, ctx(1))).toThrow(CompressionError);
    expect(() => lz4.decompress(legacy, ctx(2))).toThrow(/header checksum/);
  });

  it('snappy writes xerial framing and reads both framed and raw snappy', () => {
    const snappy = codecByName('snappy');
    const input = Buffer.alloc(100_000, 'xerial snappy ');
    const framed = snappy.compress(input);
    expect(Buffer.from(framed.subarray(0, 16)).toString('hex')).toBe('82534e415050590000000001' + '00000001');
    expect(Buffer.from(snappy.decompress(framed, ctx())).equals(input)).toBe(true);
    const raw = (require('snappy') as { compressSync(b: Buffer): Buffer }).compressSync(input);
    expect(Buffer.from(snappy.decompress(raw, ctx())).equals(input)).toBe(true);
    // Two xerial streams back to back (headers mid-stream) decode as one.
    const twice = Buffer.concat([framed, framed]);
    expect(Buffer.from(snappy.decompress(twice, ctx())).equals(Buffer.concat([input, input]))).toBe(true);
  });

  it('reads what kafkajs-snappy and kafkajs-lz4 write, and they read what seglog writes', async () => {
    const kjsSnappy = (require('kafkajs-snappy') as () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> })();
    const Lz4 = require('kafkajs-lz4') as new () => { codec: () => { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> } };
    const kjsLz4 = new Lz4().codec();
    const input = Buffer.from(new Rng(5).bytes(80_000).map((b) => b % 16));
    for (const [name, theirs] of [['snappy', kjsSnappy], ['lz4', kjsLz4]] as const) {
      const ours = codecByName(name);
      expect(Buffer.from(ours.decompress(await theirs.compress({ buffer: input }), ctx())).equals(input)).toBe(true);
      expect((await theirs.decompress(Buffer.from(ours.compress(input)))).equals(input)).toBe(true);
    }
  });
});

describe('hostile compressed input', () => {
  for (const name of ['gzip', 'snappy', 'lz4', 'zstd'] as CompressionName[]) {
    it(`${name}: truncations and byte flips fail with ERR_COMPRESSION or decode exactly, never hang`, () => {
      const seed = testSeed(`hostile ${name}`);
      const rng = new Rng(seed);
      const codec = codecByName(name);
      const input = Buffer.concat([Buffer.alloc(30_000, 'pattern '), Buffer.from(rng.bytes(5000))]);
      const good = Buffer.from(codec.compress(input));
      for (let i = 0; i < 300; i++) {
        const bad = Buffer.from(good);
        if (rng.bool()) bad[rng.int(0, bad.length - 1)]! ^= 1 << rng.int(0, 7);
        const cut = rng.bool(0.3) ? bad.subarray(0, rng.int(0, bad.length - 1)) : bad;
        try {
          const out = codec.decompress(cut, ctx());
          // A flip inside a literal can survive codecs without a checksum; the batch CRC catches those.
          expect(out.byteLength).toBeLessThanOrEqual(1 << 24);
        } catch (error) {
          expect(error).toBeInstanceOf(CompressionError);
        }
      }
    });

    it(`${name}: output above the bound is refused (decompression bomb)`, () => {
      const codec = codecByName(name);
      const bomb = codec.compress(Buffer.alloc(3 * 1024 * 1024));
      expect(() => codec.decompress(bomb, ctx(2, 1024 * 1024))).toThrow(CompressionError);
    });
  }

  it('lz4 rejects dependent blocks, reserved bits and a bad block checksum', () => {
    const lz4 = codecByName('lz4');
    const frame = Buffer.from(lz4.compress(Buffer.from('abc')));
    const dependent = Buffer.from(frame);
    dependent[4] = 0x40; // block independence off
    expect(() => lz4.decompress(dependent, ctx(0))).toThrow(/dependent/);
    const reserved = Buffer.from(frame);
    reserved[5] = 0x41;
    expect(() => lz4.decompress(reserved, ctx(0))).toThrow(/reserved/);
  });
});
