/**
 * Hostile compressed input: every failure is a `CompressionError` (`ERR_COMPRESSION`), never a library
 * error, a hang or a huge allocation. Truncations are exhaustive over each stream's ends; corruptions and
 * garbage are seeded (seed in the test names, replay with SEED=); bombs inflate to 64 MiB against a 1 MiB
 * bound and must fail fast without allocating near that much.
 */
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompressionName } from '../../src/compression/codec.js';
import { codecByName } from '../../src/compression/registry.js';
import { mulberry32 } from '../helpers/random.js';
import {
  ctx,
  expectCompressionError,
  fixedSeed,
  lz4Frame,
  randomBytes,
  require,
  same,
  u32le,
  wordy,
  zstdFrameWithoutSize,
} from './helpers.js';

const SEED = fixedSeed(0xbad_5eed);
const CODECS: readonly CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const INPUT = Buffer.concat([wordy(70_000, 11), randomBytes(3000, 12)]);
const MIB = 1 << 20;

/** Decompresses; returns the output, or null after checking that the failure is a CompressionError. */
function outcome(name: CompressionName, input: Uint8Array, magic = 2, maxBytes = 1 << 24): Uint8Array | null {
  try {
    const out = codecByName(name).decompress(input, ctx(magic, maxBytes));
    expect(out.byteLength).toBeLessThanOrEqual(maxBytes);
    return out;
  } catch (error) {
    expect((error as { code?: unknown }).code, `${name}: ${(error as Error).message}`).toBe('ERR_COMPRESSION');
    return null;
  }
}

/** Block boundaries of a xerial stream: the only places a cut leaves a valid (shorter) stream. */
function xerialBoundaries(stream: Buffer): Set<number> {
  const ends = new Set<number>([16]);
  for (let at = 16; at < stream.byteLength; ) {
    at += 4 + stream.readInt32BE(at);
    ends.add(at);
  }
  return ends;
}

describe('truncated streams (every cut near both ends, every 17th byte between)', () => {
  const streams: [CompressionName, string, Buffer][] = [
    ...CODECS.map((name): [CompressionName, string, Buffer] => [name, 'as seglog writes it', Buffer.from(codecByName(name).compress(INPUT))]),
    ['zstd', 'without content size', zstdFrameWithoutSize(INPUT, true)],
    ['lz4', 'with block and content checksums', lz4Frame({ flg: 0x74, bd: 0x40, blocks: [{ data: INPUT.subarray(0, 65536) }, { data: INPUT.subarray(65536) }] })],
  ];
  for (const [name, label, stream] of streams) {
    it(`${name} ${label}: each cut fails with ERR_COMPRESSION (xerial: or is a whole-block prefix)`, { timeout: 10_000 }, () => {
      const boundaries = name === 'snappy' ? xerialBoundaries(stream) : new Set<number>();
      for (let cut = 0; cut < stream.byteLength; cut++) {
        if (cut > 600 && cut < stream.byteLength - 600 && cut % 17 !== 0) continue;
        const out = outcome(name, stream.subarray(0, cut));
        if (out === null) continue;
        // xerial streams have no end mark: a cut after a whole block is a valid, shorter stream, and the
        // batch's record count catches it one layer up. Any other cut must fail.
        expect(boundaries.has(cut), `${name} cut at ${cut} of ${stream.byteLength} decoded`).toBe(true);
        expect(same(out, INPUT.subarray(0, out.byteLength))).toBe(true);
      }
    });
  }
});

describe(`corrupted streams (seed=${SEED})`, () => {
  for (const name of CODECS) {
    it(`${name}: 400 seeded flips, overwrites, insertions and deletions: ERR_COMPRESSION or some output, never a hang`, { timeout: 10_000 }, () => {
      const next = mulberry32(SEED ^ name.length);
      const int = (n: number) => Math.floor(next() * n);
      const good = Buffer.from(codecByName(name).compress(INPUT));
      for (let i = 0; i < 400; i++) {
        let bad = Buffer.from(good);
        const at = int(bad.byteLength);
        switch (i % 4) {
          case 0: bad[at]! ^= 1 << int(8); break;
          case 1: bad.writeUInt32LE(int(2 ** 32), Math.min(at, bad.byteLength - 4)); break;
          case 2: bad = Buffer.concat([bad.subarray(0, at), Buffer.from([int(256)]), bad.subarray(at)]); break;
          default: bad = Buffer.concat([bad.subarray(0, at), bad.subarray(at + 1 + int(8))]);
        }
        outcome(name, bad);
      }
    });
  }

  it('garbage, raw and behind each codec\'s valid-looking header: ERR_COMPRESSION or bounded output (fast-check)', { timeout: 10_000 }, () => {
    const headers: Record<CompressionName, Uint8Array> = {
      none: new Uint8Array(0),
      gzip: Uint8Array.of(0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff),
      snappy: Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1),
      lz4: Uint8Array.of(0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82),
      zstd: Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd),
    };
    fc.assert(
      fc.property(fc.constantFrom(...CODECS), fc.boolean(), fc.uint8Array({ maxLength: 2048 }), (name, withHeader, body) => {
        outcome(name, withHeader ? Buffer.concat([headers[name], body]) : body, 2, MIB);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });
});

describe('bad lengths and framing fields', () => {
  const xerialHeader = Buffer.from('82534e41505059000000000100000001', 'hex');
  const block = (require('snappy') as { compressSync(b: Buffer): Buffer }).compressSync(Buffer.from('hello hello hello'));
  const i32be = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };

  it('snappy: negative, zero, overlong and understated block lengths; bad varints; a truncated mid-stream header', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['negative length', Buffer.concat([xerialHeader, i32be(-5), block]), /block length -5/],
      ['zero length', Buffer.concat([xerialHeader, i32be(0)]), /block length 0/],
      ['length past the end', Buffer.concat([xerialHeader, i32be(block.byteLength + 1), block]), /does not fit/],
      ['length short by one', Buffer.concat([xerialHeader, i32be(block.byteLength - 1), block]), /snappy/],
      ['truncated length', Buffer.concat([xerialHeader, Buffer.from([0, 0])]), /truncated block length/],
      ['truncated second header', Buffer.concat([xerialHeader, i32be(block.byteLength), block, xerialHeader.subarray(0, 12)]), /truncated xerial header/],
      ['unterminated varint', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), /varint/],
      ['varint above uint32', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f, 0x00]), /exceeds uint32/],
      ['declared length above content', Buffer.concat([Buffer.from([100]), block.subarray(1)]), /snappy/],
      ['empty input', Buffer.alloc(0), /varint/],
    ];
    for (const [label, bytes, message] of cases) {
      const error = expectCompressionError(() => codecByName('snappy').decompress(bytes, ctx()), message);
      expect(typeof error.position, label).toBe('number');
    }
  });

  it('lz4: every header field and block length Kafka rejects', () => {
    const data = [{ data: Buffer.from('some lz4 content, some lz4 content') }];
    const ok = lz4Frame({ blocks: data });
    expect(Buffer.from(codecByName('lz4').decompress(ok, ctx())).toString()).toBe('some lz4 content, some lz4 content');
    const big = { data: randomBytes(64 * 1024 + 1, 1), stored: true };
    const cases: [string, Buffer, RegExp][] = [
      ['bad magic', Buffer.concat([Buffer.from([0x05]), ok.subarray(1)]), /bad frame magic/],
      ['skippable frame', Buffer.concat([u32le(0x184d2a50), u32le(0)]), /bad frame magic/],
      ['version 00', lz4Frame({ flg: 0x20, blocks: data }), /frame version/],
      ['version 10', lz4Frame({ flg: 0xa0, blocks: data }), /frame version/],
      ['dependent blocks', lz4Frame({ flg: 0x40, blocks: data }), /dependent blocks/],
      ['FLG reserved bit 1', lz4Frame({ flg: 0x62, blocks: data }), /reserved bits set in FLG/],
      ['dictionary id flag', lz4Frame({ flg: 0x61, blocks: data }), /reserved bits set in FLG/],
      ['BD reserved bit 7', lz4Frame({ bd: 0xc0, blocks: data }), /reserved bits set in BD/],
      ['BD reserved low bits', lz4Frame({ bd: 0x41, blocks: data }), /reserved bits set in BD/],
      ['BD block size id 3', lz4Frame({ bd: 0x30, blocks: data }), /block size id 3/],
      ['block over the BD size', lz4Frame({ bd: 0x40, blocks: [big] }), /exceeds the frame's 65536/],
      ['block past the end', Buffer.concat([ok.subarray(0, 7), u32le(1000), Buffer.alloc(10)]), /runs past the input/],
      ['stored block past the end', Buffer.concat([ok.subarray(0, 7), u32le(0x8000_0000 + 20), Buffer.alloc(10)]), /runs past the input/],
      ['no end mark', ok.subarray(0, ok.byteLength - 4), /no end mark/],
      ['bytes after the frame', lz4Frame({ blocks: data, trailing: Buffer.from([0]) }), /1 bytes after the end of the frame/],
      ['truncated content checksum', lz4Frame({ flg: 0x64, blocks: data }).subarray(0, -2), /truncated content checksum/],
      ['truncated descriptor', lz4Frame({ flg: 0x68, blocks: data }).subarray(0, 10), /truncated frame descriptor/],
      ['garbage block', Buffer.concat([ok.subarray(0, 7), u32le(4), Buffer.from([0xf0, 0xff, 0xff, 0xff]), u32le(0)]), /corrupt block/],
    ];
    for (const [label, bytes, message] of cases) {
      const error = expectCompressionError(() => codecByName('lz4').decompress(bytes, ctx()), message);
      expect(typeof error.position, label).toBe('number');
    }
  });

  it('lz4: wrong block and content checksums are rejected', () => {
    const withBlock = lz4Frame({ flg: 0x70, blocks: [{ data: wordy(3000, 1) }] });
    withBlock[withBlock.byteLength - 5]! ^= 0x80; // last byte of the block checksum, before the end mark
    expectCompressionError(() => codecByName('lz4').decompress(withBlock, ctx()), /block checksum mismatch/);
    const withContent = lz4Frame({ flg: 0x64, blocks: [{ data: wordy(3000, 1) }] });
    withContent[withContent.byteLength - 1]! ^= 0x01;
    expectCompressionError(() => codecByName('lz4').decompress(withContent, ctx()), /content checksum mismatch/);
  });

  it('lz4 header checksum: a wrong HC fails for magic 1 and 2, and is skipped for magic 0 (Kafka quirk)', () => {
    const content = Buffer.from('header checksum test');
    for (const hc of [0x00, 0x1a, 0x83, 0xff]) {
      const frame = lz4Frame({ hc, blocks: [{ data: content }] });
      expectCompressionError(() => codecByName('lz4').decompress(frame, ctx(2)), /header checksum mismatch/);
      expectCompressionError(() => codecByName('lz4').decompress(frame, ctx(1)), /header checksum mismatch/);
      expect(same(codecByName('lz4').decompress(frame, ctx(0)), content)).toBe(true);
    }
  });

  it('gzip: bad magic, method, CRC, ISIZE, trailing garbage, empty input', () => {
    const good = Buffer.from(codecByName('gzip').compress(wordy(5000, 2)));
    const at = (i: number, value: number) => {
      const bad = Buffer.from(good);
      bad[i < 0 ? bad.byteLength + i : i] = value;
      return bad;
    };
    const cases: Buffer[] = [
      at(0, 0x1e),
      at(2, 0x07),
      at(-8, good[good.byteLength - 8]! ^ 0xff),
      at(-1, good[good.byteLength - 1]! ^ 0x01),
      Buffer.concat([good, Buffer.from('trailing')]),
      Buffer.alloc(0),
    ];
    for (const bytes of cases) expectCompressionError(() => codecByName('gzip').decompress(bytes, ctx()), /^gzip: /);
  });

  it('zstd: bad magic, a content size that lies (either way), trailing garbage, empty input', () => {
    const input = wordy(5000, 3);
    const good = Buffer.from(codecByName('zstd').compress(input));
    const zstdBinding = require('zstd-napi/binding') as { getFrameContentSize(b: Uint8Array): number | null };
    expect(zstdBinding.getFrameContentSize(good)).toBe(5000);
    // Frame header: magic, FHD, (window descriptor), content size. Find the 2-byte FCS (5000 - 256 = 4744).
    const fcsAt = good.indexOf(Buffer.from([4744 & 0xff, 4744 >> 8]), 5);
    expect(fcsAt).toBeGreaterThan(4);
    const lie = (size: number) => {
      const bad = Buffer.from(good);
      bad.writeUInt16LE(size - 256, fcsAt);
      return bad;
    };
    expectCompressionError(() => codecByName('zstd').decompress(Buffer.concat([Buffer.from([0x29]), good.subarray(1)]), ctx()));
    expectCompressionError(() => codecByName('zstd').decompress(lie(4000), ctx()));
    expectCompressionError(() => codecByName('zstd').decompress(lie(6000), ctx()));
    expectCompressionError(() => codecByName('zstd').decompress(Buffer.concat([good, Buffer.from([1, 2, 3])]), ctx()));
    expectCompressionError(() => codecByName('zstd').decompress(Buffer.alloc(0), ctx()), /empty input/);
  });
});

describe('decompression bombs: 64 MiB of output against a 1 MiB bound', () => {
  const zeros64k = Buffer.alloc(64 * 1024);
  const zeros32k = Buffer.alloc(32 * 1024);
  const snappyRaw = require('snappy') as { compressSync(b: Buffer): Buffer };
  const lz4Block = require('lz4/lib/utils.js') as { bindings: { compress(i: Uint8Array, o: Uint8Array): number } };
  const lz4Zeros = (() => {
    const out = Buffer.alloc(70_000);
    return out.subarray(0, lz4Block.bindings.compress(zeros64k, out));
  })();
  const xerialZeros = snappyRaw.compressSync(zeros32k);
  const gzipMember = zlib.gzipSync(Buffer.alloc(MIB));
  const varint = (n: number) => {
    const bytes: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) bytes.push((n % 128) | 0x80);
    return Buffer.from([...bytes, n]);
  };

  const bombs: [CompressionName, string, () => Buffer, RegExp][] = [
    ['gzip', '64 members of 1 MiB', () => Buffer.concat(Array.from({ length: 64 }, () => gzipMember)), /limit/],
    ['gzip', 'one 16 MiB member', () => zlib.gzipSync(Buffer.alloc(16 * MIB), { level: 1 }), /limit/],
    ['snappy', 'xerial, 2048 blocks of 32 KiB', () => Buffer.concat([Buffer.from('82534e41505059000000000100000001', 'hex'), ...Array.from({ length: 2048 }, () => Buffer.concat([i32(xerialZeros.byteLength), xerialZeros]))]), /limit/],
    ['snappy', 'raw block declaring 64 MiB', () => Buffer.concat([varint(64 * MIB), Buffer.from([0x00, 0x00])]), /limit/],
    ['snappy', 'raw block declaring 4 GiB - 1', () => Buffer.concat([varint(2 ** 32 - 1), Buffer.from([0x00, 0x00])]), /limit/],
    ['lz4', '1024 blocks of 64 KiB (Kafka framing)', () => Buffer.concat([Buffer.from('04224d18604082', 'hex'), ...Array.from({ length: 1024 }, () => Buffer.concat([u32le(lz4Zeros.byteLength), lz4Zeros])), u32le(0)]), /limit/],
    ['lz4', '4 MiB blocks', () => lz4Frame({ flg: 0x60, bd: 0x70, blocks: Array.from({ length: 16 }, () => ({ data: Buffer.alloc(4 * MIB) })) }), /limit/],
    ['zstd', 'one frame declaring 16 MiB', () => Buffer.from(codecByName('zstd').compress(Buffer.alloc(16 * MIB))), /limit/],
    ['zstd', 'a streaming frame (no content size) of 16 MiB', () => zstdFrameWithoutSize(Buffer.alloc(16 * MIB)), /limit/],
    ['zstd', 'a frame header claiming 2^40 bytes', () => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]), Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]), Buffer.from([1, 0, 0])]), /zstd/],
  ];

  function i32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  }

  for (const [name, label, build, message] of bombs) {
    it(`${name}: ${label}`, { timeout: 10_000 }, () => {
      const bomb = build();
      const before = process.memoryUsage().arrayBuffers;
      const start = performance.now();
      expectCompressionError(() => codecByName(name).decompress(bomb, ctx(2, MIB)), message);
      expect(performance.now() - start).toBeLessThan(2000);
      // Measured without a GC in between, so anything allocated for the output is still counted.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * MIB);
    });
  }

  it('a bound of 0 allows only empty output, for every codec', () => {
    for (const name of ['none', ...CODECS] as CompressionName[]) {
      const codec = codecByName(name);
      expect(codec.decompress(codec.compress(new Uint8Array(0)), ctx(2, 0)).byteLength, name).toBe(0);
      expectCompressionError(() => codec.decompress(codec.compress(Buffer.from('x')), ctx(2, 0)));
    }
  });
});
