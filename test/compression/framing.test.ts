/**
 * Byte-exact framing: what seglog writes must be what Kafka's Java client writes (lz4 `Lz4BlockOutputStream`,
 * xerial `SnappyOutputStream`), and the readers must accept every framing variant Kafka's readers accept.
 * Checksums in hand-built frames come from xxhashjs (pure JS), independent of the native xxHash under test.
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/compression/registry.js';
import {
  ctx,
  expectCompressionError,
  hex,
  lz4Frame,
  randomBytes,
  require,
  same,
  wordy,
  xxh32,
  zstdBinding,
  zstdFrameWithoutSize,
} from './helpers.js';

const lz4 = codecByName('lz4');
const snappy = codecByName('snappy');
const gzip = codecByName('gzip');
const zstd = codecByName('zstd');

/** Walks an LZ4 frame written by Kafka's writer: block words, then the position after the end mark. */
function lz4Blocks(frame: Uint8Array): { size: number; stored: boolean }[] {
  const view = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const blocks: { size: number; stored: boolean }[] = [];
  let at = 7;
  for (;;) {
    const word = view.readUInt32LE(at);
    at += 4;
    if (word === 0) break;
    const size = word & 0x7fff_ffff;
    blocks.push({ size, stored: word >= 0x8000_0000 });
    at += size;
  }
  expect(at).toBe(frame.byteLength);
  return blocks;
}

describe('lz4: the frame Kafka writes', () => {
  it('header 04 22 4D 18 60 40 82 (FLG 0x60, BD 0x40, HC over FLG..BD), recomputed with xxhashjs', () => {
    expect((xxh32(Uint8Array.of(0x60, 0x40)) >>> 8) & 0xff).toBe(0x82);
    for (const magic of [1, 2, undefined]) {
      const options = magic === undefined ? {} : { magic };
      expect(hex(lz4.compress(Buffer.from('kafka'), options).subarray(0, 7))).toBe('04224d18604082');
    }
  });

  it('magic 0 writes the pre-0.10 quirk header 04 22 4D 18 60 40 1A (HC over the frame magic too)', () => {
    expect((xxh32(Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40)) >>> 8) & 0xff).toBe(0x1a);
    const frame = lz4.compress(Buffer.from('old kafka'), { magic: 0 });
    expect(hex(frame.subarray(0, 7))).toBe('04224d1860401a');
    // Readers of v0 data skip the check (Kafka's quirk); v1 and v2 readers reject the broken checksum.
    expect(Buffer.from(lz4.decompress(frame, ctx(0))).toString()).toBe('old kafka');
    expectCompressionError(() => lz4.decompress(frame, ctx(1)), /header checksum mismatch: got 1a, expected 82/);
    expectCompressionError(() => lz4.decompress(frame, ctx(2)), /header checksum/);
  });

  it('exact bytes: empty input is header + end mark; 3 bytes are one stored block (high bit set)', () => {
    expect(hex(lz4.compress(new Uint8Array(0)))).toBe('04224d18604082' + '00000000');
    expect(hex(lz4.compress(Buffer.from('abc')))).toBe('04224d18604082' + '03000080' + '616263' + '00000000');
  });

  it('64 KiB of input per block; incompressible blocks stored, compressible ones compressed; end mark', () => {
    const input = Buffer.concat([randomBytes(64 * 1024, 1), wordy(64 * 1024, 2), randomBytes(1000, 3)]);
    const frame = lz4.compress(input);
    const blocks = lz4Blocks(frame);
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toEqual({ size: 64 * 1024, stored: true });
    expect(blocks[1]!.stored).toBe(false);
    expect(blocks[1]!.size).toBeLessThan(64 * 1024);
    expect(blocks[2]).toEqual({ size: 1000, stored: true });
    expect(hex(frame.subarray(-4))).toBe('00000000');
  });

  it('any level: HC levels (not 9) still write Kafka framing and round-trip', () => {
    const input = wordy(150_000, 4);
    const frame = lz4.compress(input, { level: 12 });
    expect(hex(frame.subarray(0, 7))).toBe('04224d18604082');
    expect(lz4Blocks(frame).length).toBe(3);
    expect(same(lz4.decompress(frame, ctx()), input)).toBe(true);
  });
});

describe('lz4: frames Kafka reads', () => {
  const content = wordy(300_000, 9);
  const pieces = (size: number) => Array.from({ length: Math.ceil(content.byteLength / size) }, (_, i) => ({ data: content.subarray(i * size, (i + 1) * size) }));

  it('FLG 0x64 BD 0x70 gives HC B9 (other writers; reference vector), with a content checksum', () => {
    const frame = lz4Frame({ flg: 0x64, bd: 0x70, blocks: pieces(4 << 20) });
    expect(hex(frame.subarray(4, 7))).toBe('6470b9');
    expect(same(lz4.decompress(frame, ctx()), content)).toBe(true);
  });

  for (const [bd, size] of [[0x40, 64 << 10], [0x50, 256 << 10], [0x60, 1 << 20], [0x70, 4 << 20]] as const) {
    it(`BD 0x${bd.toString(16)} (${size >> 10} KiB blocks) with block checksums, content size and content checksum`, () => {
      const frame = lz4Frame({ flg: 0x60 | 0x10 | 0x08 | 0x04, bd, blocks: pieces(size) });
      expect(same(lz4.decompress(frame, ctx()), content)).toBe(true);
    });
  }

  it('the content size field is skipped, as Kafka does (even when it is wrong)', () => {
    const frame = lz4Frame({ flg: 0x68, bd: 0x40, contentSize: 12345, blocks: pieces(64 << 10) });
    expect(same(lz4.decompress(frame, ctx()), content)).toBe(true);
  });

  it('stored and compressed blocks mixed; a zero-length stored block; a large output bound is trimmed', () => {
    const frame = lz4Frame({
      flg: 0x60,
      bd: 0x70,
      blocks: [{ data: Buffer.from('stored '), stored: true }, { data: new Uint8Array(0), stored: true }, { data: wordy(5000, 1) }],
    });
    const out = lz4.decompress(frame, ctx());
    expect(same(out, Buffer.concat([Buffer.from('stored '), wordy(5000, 1)]))).toBe(true);
    // 4 MiB blocks holding ~5 KB: the result must not pin a multi-MiB buffer.
    expect(out.buffer.byteLength).toBeLessThan(64 * 1024);
  });
});

describe('snappy: xerial framing as snappy-java writes it', () => {
  it('header 82 53 4E 41 50 50 59 00 · version 1 · min compatible 1; empty input is the header alone', () => {
    expect(hex(snappy.compress(new Uint8Array(0)))).toBe('82534e41505059000000000100000001');
  });

  it('exact bytes for "foobar\\n" (the example in the xerial format notes)', () => {
    expect(hex(snappy.compress(Buffer.from('foobar\n')))).toBe('82534e41505059000000000100000001' + '00000009' + '0718666f6f6261720a');
  });

  it('32 KiB of input per block, each an int32 BE length + raw block declaring its uncompressed length', () => {
    const input = wordy(100_000, 5);
    const framed = Buffer.from(snappy.compress(input));
    const declared: number[] = [];
    let at = 16;
    while (at < framed.byteLength) {
      const length = framed.readInt32BE(at);
      let value = 0;
      for (let i = 0, scale = 1; ; i++, scale *= 128) {
        value += (framed[at + 4 + i]! & 0x7f) * scale;
        if (framed[at + 4 + i]! < 0x80) break;
      }
      declared.push(value);
      at += 4 + length;
    }
    expect(at).toBe(framed.byteLength);
    expect(declared).toEqual([32768, 32768, 32768, 100_000 - 3 * 32768]);
  });

  it('reads a header repeated mid-stream (concatenated streams) and raw snappy without a header', () => {
    const a = wordy(40_000, 1);
    const b = randomBytes(10_000, 2);
    const twice = Buffer.concat([snappy.compress(a), snappy.compress(b), snappy.compress(new Uint8Array(0))]);
    expect(same(snappy.decompress(twice, ctx()), Buffer.concat([a, b]))).toBe(true);
    const raw = (require('snappy') as { compressSync(b: Buffer): Buffer }).compressSync(a);
    expect(same(snappy.decompress(raw, ctx()), a)).toBe(true);
  });
});

describe('gzip', () => {
  it('writes one RFC 1952 member (1F 8B 08), ISIZE = input length', () => {
    const input = wordy(70_000, 3);
    const member = Buffer.from(gzip.compress(input));
    expect(hex(member.subarray(0, 3))).toBe('1f8b08');
    expect(member.readUInt32LE(member.byteLength - 4)).toBe(70_000);
    expect(member.readUInt32LE(member.byteLength - 8)).toBe(zlib.crc32(input));
  });

  it('reads concatenated members in full, and skips zero padding after the last', () => {
    const a = wordy(30_000, 1);
    const b = randomBytes(5000, 2);
    const stream = Buffer.concat([gzip.compress(a), gzip.compress(new Uint8Array(0)), gzip.compress(b), Buffer.alloc(16)]);
    expect(same(gzip.decompress(stream, ctx()), Buffer.concat([a, b]))).toBe(true);
  });

  it('the bound covers all members together, not each member', () => {
    const member = gzip.compress(Buffer.alloc(600_000));
    expectCompressionError(() => gzip.decompress(Buffer.concat([member, member]), ctx(2, 1_000_000)), /decompression limit/);
    expect(gzip.decompress(Buffer.concat([member, member]), ctx(2, 1_200_000)).byteLength).toBe(1_200_000);
  });
});

describe('zstd', () => {
  it('writes one standard frame (28 B5 2F FD) that declares its content size', () => {
    const input = wordy(50_000, 8);
    const frame = zstd.compress(input);
    expect(hex(frame.subarray(0, 4))).toBe('28b52ffd');
    expect(zstdBinding.getFrameContentSize(frame)).toBe(50_000);
  });

  it('reads frames without a content size (Kafka streaming writer), with checksums, several frames and skippable frames', () => {
    const a = wordy(200_000, 1);
    const b = randomBytes(3000, 2);
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([4, 0, 0, 0]), Buffer.from('skip')]);
    expect(same(zstd.decompress(zstdFrameWithoutSize(a, true), ctx()), a)).toBe(true);
    const mixed = Buffer.concat([zstd.compress(a), skippable, zstdFrameWithoutSize(b), zstd.compress(new Uint8Array(0))]);
    expect(same(zstd.decompress(mixed, ctx()), Buffer.concat([a, b]))).toBe(true);
    const sized = Buffer.concat([zstd.compress(a), skippable, zstd.compress(b)]);
    expect(same(zstd.decompress(sized, ctx()), Buffer.concat([a, b]))).toBe(true);
  });

  it('streaming output of exactly the 128 KiB chunk size, and of exactly maxBytes, decode in full', () => {
    for (const n of [128 * 1024, 256 * 1024, 128 * 1024 + 1]) {
      const input = wordy(n, n);
      expect(same(zstd.decompress(zstdFrameWithoutSize(input), ctx()), input)).toBe(true);
      expect(same(zstd.decompress(zstdFrameWithoutSize(input), ctx(2, n)), input)).toBe(true);
      expect(same(zstd.decompress(zstd.compress(input), ctx(2, n)), input)).toBe(true);
    }
  });
});

