/**
 * KafkaJS as an independent implementation of the v2 batch format: what seglog writes, KafkaJS's own
 * decoder reads to the same records, and what KafkaJS's encoder writes (every codec it can produce)
 * seglog reads and appends byte for byte. KafkaJS checks no CRCs, so seglog's CRC check on KafkaJS's
 * batches is a second, independent check of KafkaJS's CRC-32C (and the section 13 vectors check ours).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeBatches, encodeBatch, Log, type CompressionName, type LogRecord, type RecordInput } from '../../src/main.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const require = createRequire(import.meta.url);
const { CompressionCodecs, CompressionTypes } = require('kafkajs') as {
  CompressionCodecs: Record<number, unknown>;
  CompressionTypes: Record<string, number>;
};
const LZ4Codec = require('kafkajs-lz4') as new () => { codec: unknown };
CompressionCodecs[CompressionTypes['Snappy']!] = require('kafkajs-snappy');
CompressionCodecs[CompressionTypes['LZ4']!] = new LZ4Codec().codec;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const KafkaRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: Record<string, unknown>) => unknown;
const decodeKafkaJs = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: KafkaJsRecord[] }>;
const KafkaDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number): unknown };

interface KafkaJsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}

/** KafkaJS can write and read none, gzip, snappy (kafkajs-snappy) and lz4 (kafkajs-lz4); zstd needs a plugin not used here. */
const KAFKAJS_CODECS: [CompressionName, number][] = [
  ['none', CompressionTypes['None']!],
  ['gzip', CompressionTypes['GZIP']!],
  ['snappy', CompressionTypes['Snappy']!],
  ['lz4', CompressionTypes['LZ4']!],
];

function randomRecords(rng: Rng, n: number, baseTimestamp: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => {
    const headers = rng.bool(0.5) ? [{ key: `h${rng.int(0, 3)}`, value: Buffer.from(rng.bytes(rng.int(0, 12))) }] : [];
    return {
      key: rng.bool(0.3) ? null : Buffer.from(rng.bytes(rng.int(0, 20))),
      value: rng.bool(0.1) ? null : Buffer.from(rng.bytes(rng.int(0, 300))),
      headers,
      timestamp: baseTimestamp + rng.int(-1000, 1000) + i,
    };
  });
}

const hex = (b: Uint8Array | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'));

function headerObject(headers: LogRecord['headers'] | RecordInput['headers']): Record<string, string | null | (string | null)[]> {
  const out: Record<string, string | null | (string | null)[]> = {};
  for (const { key, value } of headers ?? []) {
    const v = hex(typeof value === 'string' ? Buffer.from(value) : value);
    const existing = out[key];
    out[key] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return out;
}

describe('interop with KafkaJS', () => {
  for (const [codec] of KAFKAJS_CODECS) {
    it(`seglog-encoded ${codec} batches decode to the same records with KafkaJS's decoder`, async () => {
      const seed = testSeed(`seglog -> kafkajs ${codec}`);
      const rng = new Rng(seed);
      for (let round = 0; round < 20; round++) {
        const input = randomRecords(rng, rng.int(1, 40), 1_600_000_000_000);
        const baseOffset = rng.int(0, 2 ** 40);
        const bytes = Buffer.from(encodeBatch(input, { baseOffset, compression: codec }));
        const decoded = await decodeKafkaJs(new KafkaDecoder(bytes));
        expect(decoded.records).toHaveLength(input.length);
        decoded.records.forEach((r, i) => {
          const want = input[i]!;
          expect(r.offset).toBe(String(baseOffset + i));
          expect(r.timestamp).toBe(String(want.timestamp));
          expect(hex(r.key)).toBe(hex(want.key as Uint8Array | null));
          expect(hex(r.value)).toBe(hex(want.value as Uint8Array | null));
          const theirs = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(hex) : hex(v)]));
          expect(theirs).toEqual(headerObject(want.headers));
        });
      }
    });

    it(`KafkaJS-encoded ${codec} batches decode here (CRC verified) and append byte for byte`, async () => {
      const seed = testSeed(`kafkajs -> seglog ${codec}`);
      const rng = new Rng(seed);
      const log = await Log.open(tempDir(), { durability: 'os' });
      for (let round = 0; round < 20; round++) {
        const input = randomRecords(rng, rng.int(1, 40), 1_600_000_000_000);
        const firstTimestamp = input[0]!.timestamp!;
        const records = input.map((r, i) =>
          KafkaRecord({
            offsetDelta: i,
            timestampDelta: Long.fromValue(r.timestamp! - firstTimestamp),
            key: r.key,
            value: r.value,
            headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
          }),
        );
        const encoder = await RecordBatch({
          compression: KAFKAJS_CODECS.find(([name]) => name === codec)![1],
          records,
          firstTimestamp,
          maxTimestamp: Math.max(...input.map((r) => r.timestamp!)),
          lastOffsetDelta: input.length - 1,
        });
        const bytes = Buffer.from(encoder.buffer);
        const [batch] = [...decodeBatches(bytes)]; // verifies CRC-32C
        expect(batch!.compressionName).toBe(codec);
        const ours = [...batch!.records()];
        ours.forEach((r, i) => {
          const want = input[i]!;
          expect(r.offset).toBe(i);
          expect(r.timestamp).toBe(want.timestamp);
          expect(hex(r.key)).toBe(hex(want.key as Uint8Array | null));
          expect(hex(r.value)).toBe(hex(want.value as Uint8Array | null));
          // KafkaJS keeps one value per header key when keys repeat inside a record: compare as maps.
          expect(headerObject(r.headers)).toEqual(headerObject(Object.entries(Object.fromEntries((want.headers ?? []).map((h) => [h.key, h.value]))).map(([key, value]) => ({ key, value }))));
        });
        const { baseOffset } = await log.appendBatch(bytes);
        const [stored] = [...(await log.read(baseOffset)).batches()];
        expect(stored!.baseOffset).toBe(baseOffset);
        expect(Buffer.from(stored!.bytes.subarray(8)).equals(bytes.subarray(8))).toBe(true);
      }
      await log.close();
    });
  }
});
