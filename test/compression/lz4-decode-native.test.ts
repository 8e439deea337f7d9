/**
 * The addon's LZ4 frame decompressor (native/lz4-decode.c), a fast path in front of the JS frame reader:
 * for every frame it takes it returns exactly what the JS reader (the lz4 codec with the addon mocked away)
 * returns, and for every frame the JS reader refuses it returns undefined, so the JS reader runs and names
 * the error. Checked on seeded frames of every block size, content checksum on and off, stored blocks, the
 * record batch builder's pipeline layout, and seeded mutations and truncations of them.
 */
import { describe, expect, it, vi } from 'vitest';
import { nativeAddon } from '../../src/addon.js';
import type { CompressionCodec } from '../../src/compression/codec.js';
import { codecByName } from '../../src/compression/registry.js';
import { decodeBatches, RecordBatchBuilder } from '../../src/main.js';
import { Rng, testSeed } from '../helpers/random.js';
import { ctx, expectCompressionError, lz4Frame, require, same, xxh32 } from './helpers.js';

const addon = nativeAddon();
const KiB = 1024;
const lz4Library = require('lz4') as { encode(input: Buffer): Buffer };

/** The lz4 codec as it is without the addon: the JS frame reader over node-lz4's block decompressor. */
async function jsReader(): Promise<CompressionCodec> {
  vi.resetModules();
  vi.doMock('../../src/addon.js', () => ({ nativeAddon: () => undefined }));
  try {
    return (await import('../../src/compression/registry.js')).codecByName('lz4');
  } finally {
    vi.doUnmock('../../src/addon.js');
    vi.resetModules();
  }
}

/** What the JS reader makes of `frame`: its bytes, or the error it throws. */
function jsResult(js: CompressionCodec, frame: Uint8Array, maxBytes: number): Uint8Array | Error {
  try {
    return js.decompress(frame, ctx(2, maxBytes));
  } catch (error) {
    return error as Error;
  }
}

/** Content that compresses well, not at all, or in runs of both. */
function content(rng: Rng, size: number): Buffer {
  const out = Buffer.alloc(size);
  const kind = rng.int(0, 2);
  if (kind === 0) out.set(rng.bytes(size));
  else if (kind === 1) for (let i = 0; i < size; i++) out[i] = 97 + (i % rng.int(3, 40));
  else for (let at = 0; at < size; ) {
    const run = Math.min(size - at, rng.int(1, 9000));
    out.set(rng.bool() ? rng.bytes(run) : Buffer.alloc(run, rng.int(0, 255)), at);
    at += run;
  }
  return out;
}

/** A valid frame of seeded content: random block sizes up to the BD maximum, some stored, maybe a content checksum. */
function randomFrame(rng: Rng, blockBytesMax = 200 * KiB): { frame: Buffer; content: Buffer } {
  const id = rng.int(4, 7);
  const blockMax = 1 << (8 + 2 * id);
  const blocks = Array.from({ length: rng.int(0, 5) }, () => ({
    // Below the maximum by LZ4's worst-case growth (1/255 + 16 bytes), so that a compressed block fits.
    data: content(rng, rng.int(1, Math.min(blockMax - blockMax / 128, blockBytesMax))),
    stored: rng.bool(0.2),
  }));
  const flg = rng.bool() ? 0x64 : 0x60;
  return { frame: lz4Frame({ flg, bd: id << 4, blocks }), content: Buffer.concat(blocks.map((b) => b.data)) };
}

/** `frame` with a few seeded bytes changed, or cut short, or with bytes appended. */
function mutate(rng: Rng, frame: Buffer): Buffer {
  const out = Buffer.from(frame);
  const kind = rng.int(0, 3);
  if (kind === 0) return out.subarray(0, rng.int(0, out.byteLength - 1));
  if (kind === 1) return Buffer.concat([out, rng.bytes(rng.int(1, 8))]);
  for (let n = rng.int(1, 4); n > 0; n--) out[rng.int(0, out.byteLength - 1)] = rng.int(0, 255);
  return out;
}

describe.skipIf(addon?.lz4DecompressFrame === undefined)('lz4DecompressFrame (addon)', () => {
  const decompress = (frame: Uint8Array, maxBytes = 1 << 26) => addon!.lz4DecompressFrame!(frame, maxBytes);

  it('takes every valid Kafka-style frame and returns the JS reader\'s bytes, as a plain Uint8Array (seeded)', async () => {
    const js = await jsReader();
    const rng = new Rng(testSeed('lz4 native decode valid'));
    for (let i = 0; i < 120; i++) {
      const { frame, content: expected } = randomFrame(rng);
      const out = decompress(frame);
      expect(out, `frame ${i}, seed ${rng.seed}`).toBeDefined();
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      expect(same(out!, expected), `frame ${i}, seed ${rng.seed}`).toBe(true);
      expect(same(out!, js.decompress(frame, ctx()) as Uint8Array)).toBe(true);
    }
  });

  it('reads the frames seglog\'s builder writes (pipeline blocks) and node-lz4\'s encoder writes (content checksum)', () => {
    const rng = new Rng(testSeed('lz4 native decode writers'));
    const records = Array.from({ length: 1000 }, () => ({ value: content(rng, 100) }));
    const builder = new RecordBatchBuilder();
    for (let i = 0; i < 30; i++) {
      const batch = builder.build(records, { compression: 'lz4' });
      const values = [...decodeBatches(batch)].flatMap((b) => [...b.records()].map((r) => r.value!));
      expect(values.every((v, j) => same(v, records[j]!.value)), `batch ${i}, seed ${rng.seed}`).toBe(true);
      expect(decompress(batch.subarray(61))).toBeDefined();
    }
    const input = content(rng, 300 * KiB);
    const encoded = lz4Library.encode(input);
    expect(encoded[4]! & 0x04).toBe(0x04); // node-lz4 writes the content checksum
    expect(same(decompress(encoded)!, input)).toBe(true);
  });

  it('returns undefined for every mutated frame the JS reader refuses, else the same bytes (seeded)', async () => {
    const js = await jsReader();
    const rng = new Rng(testSeed('lz4 native decode mutated'));
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      const { frame } = randomFrame(rng, 8 * KiB);
      if (frame.byteLength === 0) continue;
      const bad = mutate(rng, frame);
      const expected = jsResult(js, bad, 1 << 26);
      const out = decompress(bad);
      if (expected instanceof Error) {
        refused++;
        expect(out, `mutation ${i}, seed ${rng.seed}: ${expected.message}`).toBeUndefined();
      } else if (out !== undefined) {
        expect(same(out, expected), `mutation ${i}, seed ${rng.seed}`).toBe(true);
      }
    }
    expect(refused).toBeGreaterThan(500);
  });

  it('leaves to the JS reader the frames it does not take, which the codec still reads or refuses by name', () => {
    const data = Buffer.from('kafka '.repeat(5000));
    const blocks = [{ data }];
    const lz4 = codecByName('lz4');
    const others = {
      contentSize: lz4Frame({ flg: 0x68, blocks }),
      blockChecksum: lz4Frame({ flg: 0x70, blocks }),
      legacyHeaderChecksum: lz4Frame({ blocks, hc: (xxh32(Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40)) >>> 8) & 0xff }),
    };
    for (const [name, frame] of Object.entries(others)) {
      expect(decompress(frame), name).toBeUndefined();
      expect(same(lz4.decompress(frame, ctx(name === 'legacyHeaderChecksum' ? 0 : 2)), data), name).toBe(true);
    }
    const frame = lz4Frame({ blocks });
    expect(decompress(frame, data.byteLength - 1)).toBeUndefined();
    expect(decompress(frame, data.byteLength)).toBeDefined();
    expectCompressionError(() => lz4.decompress(frame, ctx(2, data.byteLength - 1)), /decompression limit/);
    expect(decompress(lz4Frame({ flg: 0x64, blocks, trailing: Uint8Array.of(1) }))).toBeUndefined();
  });

  it('copies a small output out of a large bound, and keeps a bound near the output', () => {
    const small = Buffer.from(new Rng(3).bytes(50 * KiB)); // incompressible: its block's bound is the 4 MiB maximum
    const large = decompress(lz4Frame({ bd: 0x70, blocks: [{ data: small }] }))!;
    expect(same(large, small)).toBe(true);
    expect(large.buffer.byteLength).toBe(small.byteLength);
    const data = Buffer.from('kafka record '.repeat(8000)).subarray(0, 100 * KiB);
    const kafka = decompress(lz4Frame({ blocks: [{ data: data.subarray(0, 64 * KiB) }, { data: data.subarray(64 * KiB) }] }))!;
    expect(same(kafka, data)).toBe(true);
    expect(kafka.buffer.byteLength).toBeLessThanOrEqual(128 * KiB);
    expect(decompress(lz4Frame({ blocks: [] }))!.byteLength).toBe(0);
  });

  it('refuses bad arguments with typed errors', () => {
    const frame = lz4Frame({ blocks: [{ data: Buffer.from('x') }] });
    const invalid = (kind: ErrorConstructor) => expect.objectContaining({ name: kind.name, code: 'ERR_INVALID_ARGUMENT' });
    expect(() => addon!.lz4DecompressFrame!([] as unknown as Uint8Array, 10)).toThrow(invalid(TypeError));
    expect(() => addon!.lz4DecompressFrame!(frame, -1)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4DecompressFrame!(frame, 0.5)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4DecompressFrame!(frame, '1' as unknown as number)).toThrow(invalid(RangeError));
    expect(() => addon!.lz4DecompressFrame!(frame, 2 ** 54)).toThrow(invalid(RangeError));
  });
});
