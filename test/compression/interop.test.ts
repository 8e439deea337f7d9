/**
 * Cross-implementation: data other Kafka clients compress decompresses with seglog, and they read what
 * seglog writes. Peers: KafkaJS's codecs (kafkajs-snappy: raw snappy via snappyjs; kafkajs-lz4: node-lz4
 * frames, FLG 0x64 BD 0x70; KafkaJS's built-in gzip), the `snappy` package's raw blocks, node-lz4's
 * frame encoder with the options kafkajs-lz4 cannot pass, zstd-napi, and golden bytes from IBM/sarama's
 * tests (written by Kafka's Java client and by Go's gzip and pierrec/lz4).
 */
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codecByName } from '../../src/compression/registry.js';
import { ctx, hex, randomBytes, require, same, wordy, zstdFrameWithoutSize } from './helpers.js';

interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const kafkajsSnappy = (require('kafkajs-snappy') as () => KafkaJsCodec)();
const kafkajsLz4 = new (require('kafkajs-lz4') as new () => { codec(): KafkaJsCodec })().codec();
const kafkajsGzip = require('kafkajs/src/protocol/message/compression/gzip.js') as KafkaJsCodec;
const PEERS = [
  ['gzip', kafkajsGzip],
  ['snappy', kafkajsSnappy],
  ['lz4', kafkajsLz4],
] as const;
const INPUTS = [Buffer.from('k'), wordy(1000, 1), Buffer.concat([wordy(90_000, 2), randomBytes(40_000, 3)]), randomBytes(70_000, 4)];

describe('KafkaJS codecs', () => {
  for (const [name, peer] of PEERS) {
    it(`${name}: seglog reads what KafkaJS writes, and KafkaJS reads what seglog writes`, async () => {
      const ours = codecByName(name);
      for (const input of INPUTS) {
        const theirs = await peer.compress({ buffer: input });
        expect(same(ours.decompress(theirs, ctx()), input), `${name} ${input.byteLength} B from KafkaJS`).toBe(true);
        expect(same(await peer.decompress(Buffer.from(ours.compress(input))), input), `${name} ${input.byteLength} B to KafkaJS`).toBe(true);
      }
    });
  }

  it('kafkajs-lz4 writes FLG 0x64 BD 0x70 HC B9 frames (4 MiB blocks, content checksum), which seglog verifies', async () => {
    const frame = await kafkajsLz4.compress({ buffer: wordy(5000, 1) });
    expect(hex(frame.subarray(0, 7))).toBe('04224d186470b9');
    const corrupt = Buffer.from(frame);
    corrupt[corrupt.byteLength - 1]! ^= 0x01; // the content checksum
    expect(() => codecByName('lz4').decompress(corrupt, ctx())).toThrow(/content checksum mismatch/);
  });
});

describe('native libraries directly', () => {
  it('snappy: raw blocks from the snappy package (what sarama and librdkafka write for v2)', () => {
    const { compressSync } = require('snappy') as { compressSync(b: Buffer): Buffer };
    for (const input of INPUTS) expect(same(codecByName('snappy').decompress(compressSync(input), ctx()), input)).toBe(true);
  });

  // node-lz4's encoder cannot write block checksums (it passes the uint32 hash to writeInt32LE, which throws
  // for half of all hashes); framing.test.ts covers block checksums with frames built from xxhashjs.
  it('lz4: node-lz4 frames with every block size, with and without content checksum, HC', () => {
    const { encode, decode } = require('lz4') as { encode(b: Buffer, o: object): Buffer; decode(b: Buffer): Buffer };
    const input = Buffer.concat([wordy(300_000, 5), randomBytes(80_000, 6)]);
    const variants = [
      { blockMaxSize: 64 << 10 },
      { blockMaxSize: 256 << 10, streamChecksum: false },
      { blockMaxSize: 1 << 20, highCompression: true },
      { blockMaxSize: 4 << 20, streamChecksum: true },
    ];
    for (const options of variants) {
      expect(same(codecByName('lz4').decompress(encode(input, options), ctx()), input), JSON.stringify(options)).toBe(true);
    }
    expect(decode(Buffer.from(codecByName('lz4').compress(input))).equals(input)).toBe(true);
  });

  it('zstd: zstd-napi one-shot and streaming (no content size, with checksum) frames, both ways', () => {
    const { compress, decompress } = require('zstd-napi') as { compress(b: Uint8Array): Buffer; decompress(b: Uint8Array): Buffer };
    for (const input of INPUTS) {
      expect(same(codecByName('zstd').decompress(compress(input), ctx()), input)).toBe(true);
      expect(same(codecByName('zstd').decompress(zstdFrameWithoutSize(input, true), ctx()), input)).toBe(true);
      expect(same(decompress(codecByName('zstd').compress(input)), input)).toBe(true);
    }
  });

  it('gzip: members written by zlib at every level, and by Go (MTIME and OS set)', () => {
    const input = wordy(20_000, 7);
    for (const level of [1, 5, 9]) expect(same(codecByName('gzip').decompress(zlib.gzipSync(input, { level }), ctx()), input)).toBe(true);
  });
});

/**
 * Golden payloads from IBM/sarama `message_test.go` (v0/v1 wrapper values) and `record_test.go` (v2 records
 * sections). The "bulk" wrappers hold two legacy v0 messages, 26 bytes each: offset int64, size int32 (14),
 * then CRC-32, magic, attributes, key length, value length; each inner CRC is rechecked here so the test
 * proves the bytes decoded, not only that something came out.
 */
describe('golden bytes from other implementations (IBM/sarama tests)', () => {
  const bytes = (list: number[]) => Uint8Array.from(list);
  const bulk = {
    // Java client, xerial framing (emptyBulkSnappyMessage): header, one 22-byte block declaring 52 bytes.
    snappy: bytes([130, 83, 78, 65, 80, 80, 89, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 22, 52, 0, 0, 25, 1, 16, 14, 227, 138, 104, 118, 25, 15, 13, 1, 8, 1, 0, 0, 62, 26, 0]),
    // gzip member with MTIME 0 and OS 0, as Java's GZIPOutputStream writes (emptyBulkGzipMessage).
    gzip: bytes([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 99, 96, 128, 3, 190, 202, 112, 143, 7, 12, 12, 255, 129, 0, 33, 200, 192, 136, 41, 3, 0, 199, 226, 155, 70, 52, 0, 0, 0]),
    // LZ4 frame FLG 0x64 BD 0x70 HC B9, one stored 52-byte block, content checksum (emptyBulkLZ4Message, magic 1).
    lz4: bytes([
      0x04, 0x22, 0x4d, 0x18, 100, 112, 185, 52, 0, 0, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14, 121, 87, 72, 224, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 14, 121, 87, 72, 224, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 71, 129, 23, 111,
    ]),
    // zstd frame, single segment, content size 52, content checksum (emptyBulkZSTDMessage).
    zstd: bytes([
      0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x34, 0xcd, 0x0, 0x0, 0x78, 0x0, 0x0, 0xe, 0x79, 0x57, 0x48, 0xe0, 0x0, 0x0, 0xff, 0xff, 0xff, 0xff, 0x0, 0x1, 0x3, 0x0, 0x3d,
      0xbd, 0x0, 0x3b, 0x15, 0x0, 0xb, 0xd2, 0x34, 0xc1, 0x78,
    ]),
  } as const;

  /** Checks a decompressed bulk payload: two legacy messages, offsets 0 and 1, each with a valid CRC-32. */
  function expectTwoLegacyMessages(out: Uint8Array): void {
    const view = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    expect(view.byteLength).toBe(52);
    for (const [i, at] of [0, 26].entries()) {
      expect(Number(view.readBigInt64BE(at))).toBe(i);
      expect(view.readInt32BE(at + 8)).toBe(14);
      expect(view.readUInt32BE(at + 12)).toBe(zlib.crc32(view.subarray(at + 16, at + 26)));
    }
  }

  for (const [name, payload] of Object.entries(bulk)) {
    it(`${name}: a v0/v1 wrapper holding two messages`, () => {
      expectTwoLegacyMessages(codecByName(name as keyof typeof bulk).decompress(payload, ctx(1)));
    });
  }

  it('empty payloads: Go gzip, pierrec/lz4 (content checksum of nothing), zstd with checksum', () => {
    const empty = [
      ['gzip', [0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 255, 1, 0, 0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['lz4', [0x04, 0x22, 0x4d, 0x18, 100, 112, 185, 0, 0, 0, 0, 5, 93, 204, 2]],
      ['zstd', [0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00, 0x01, 0x00, 0x00, 0x99, 0xe9, 0xd8, 0x51]],
    ] as const;
    for (const [name, list] of empty) expect(codecByName(name).decompress(bytes([...list]), ctx(1)).byteLength, name).toBe(0);
  });

  it('v2 records sections (one record, 21 bytes) compressed by sarama: gzip, raw snappy, lz4', () => {
    const records = '28000a00080102030406050607020608090a040b0c';
    const sections = [
      ['gzip', [31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 0, 21, 0, 234, 255, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 3, 0, 173, 201, 88, 103, 21, 0, 0, 0]],
      ['snappy', [21, 80, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12]],
      ['lz4', [4, 34, 77, 24, 100, 112, 185, 21, 0, 0, 128, 40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 0, 0, 0, 0, 12, 59, 239, 146]],
    ] as const;
    for (const [name, list] of sections) expect(hex(codecByName(name).decompress(bytes([...list]), ctx(2))), name).toBe(records);
  });
});
