import { describe, expect, it } from 'vitest';
import { CorruptRecordError, decodeBatches, DefaultRecordBatch, type LogRecord, type RecordBatch } from '../../src/main.js';
import * as V from '../fixtures/vectors.js';

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('latin1'));
const all = (bytes: Uint8Array, options = {}): RecordBatch[] => [...decodeBatches(bytes, options)];
const records = (batches: RecordBatch[]): LogRecord[] => batches.flatMap((b) => [...b.records()]);

describe('batches written by a Kafka broker (kafka-python fixtures)', () => {
  it('v2: four batches, offsets, timestamps, header', () => {
    const batches = all(V.KAFKA_PY_V2);
    expect(batches.map((b) => [b.magic, b.baseOffset, b.lastOffset])).toEqual([
      [2, 0, 0],
      [2, 1, 2],
      [2, 3, 3],
      [2, 0, 0],
    ]);
    expect(batches[0]!.partitionLeaderEpoch).toBe(1);
    expect((batches[0] as DefaultRecordBatch).checksum).toBe(0x0318a270);
    const recs = records(batches);
    expect(recs.map((r) => text(r.value))).toEqual(['123', '', '', '123', 'hdr']);
    expect(recs[0]!.key).toBeNull();
    expect(recs[0]!.timestamp).toBe(1503229838908);
    expect(recs[4]!.headers.map((h) => [h.key, text(h.value)])).toEqual([['hkey', 'hval']]);
  });

  it('v2 with trailing partial bytes: error by default, end of data when allowed', () => {
    const bytes = Buffer.concat([V.KAFKA_PY_V2, Buffer.alloc(4)]);
    expect(() => all(bytes)).toThrow(CorruptRecordError);
    expect(all(bytes, { allowPartialTail: true })).toHaveLength(4);
  });

  it('v1 messages: CRC-32, timestamps, values', () => {
    const batches = all(V.KAFKA_PY_V1);
    expect(batches.map((b) => [b.magic, b.lastOffset])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    const recs = records(batches);
    expect(recs.map((r) => text(r.value))).toEqual(['123', '', '', '123']);
    expect(recs[0]!.timestamp).toBe(1503648000942);
    expect(batches.every((b) => b.isValid())).toBe(true);
  });

  it('v0 messages: no timestamps', () => {
    const recs = records(all(V.KAFKA_PY_V0));
    expect(recs.map((r) => [r.offset, r.timestamp, text(r.value)])).toEqual([
      [0, -1, '123'],
      [1, -1, ''],
      [2, -1, ''],
      [3, -1, '123'],
    ]);
  });

  it('control batch: marked, with its ABORT marker record', () => {
    // This fixture was assembled by hand (its stored CRC is not the batch's), so the CRC check is off.
    expect(() => all(V.KAFKA_PY_CONTROL)).toThrow(CorruptRecordError);
    const [batch] = all(V.KAFKA_PY_CONTROL, { verifyCrc: false });
    expect(batch!.isControl).toBe(true);
    const [marker] = [...batch!.records()];
    expect(Buffer.from(marker!.key!).toString('hex')).toBe('00000000'); // version 0, type 0 (ABORT)
    expect(text(marker!.value)).toBe('opaque-control-message');
  });
});

describe('batches written by sarama', () => {
  const one = (bytes: Uint8Array) => {
    const [batch] = all(bytes);
    const [record] = [...batch!.records()];
    return { batch: batch!, record: record! };
  };

  it('empty batch and empty control batch', () => {
    expect(all(V.SARAMA_EMPTY)[0]!.isValid()).toBe(true);
    expect([...all(V.SARAMA_EMPTY)[0]!.records()]).toEqual([]);
    expect(all(V.SARAMA_CONTROL)[0]!.isControl).toBe(true);
  });

  for (const [name, bytes, codec] of [
    ['uncompressed', V.SARAMA_UNCOMPRESSED, 'none'],
    ['gzip', V.SARAMA_GZIP, 'gzip'],
    ['raw snappy', V.SARAMA_SNAPPY, 'snappy'],
    ['lz4 with content checksum', V.SARAMA_LZ4, 'lz4'],
  ] as const) {
    it(`${name}: key, value, header, timestamp`, () => {
      const { batch, record } = one(bytes);
      expect(batch.compressionName).toBe(codec);
      expect(Buffer.from(record.key!).toString('hex')).toBe('01020304');
      expect(Buffer.from(record.value!).toString('hex')).toBe('050607');
      expect(record.headers).toHaveLength(1);
      expect(record.headers[0]!.key).toBe('\u0008\u0009\u000a');
      expect(Buffer.from(record.headers[0]!.value!).toString('hex')).toBe('0b0c');
      expect(record.timestamp).toBe(1479847795000 + 5);
      expect(record.offset).toBe(0);
    });
  }

  it('legacy empty messages v0 and v1 (null key and value)', () => {
    for (const body of [V.SARAMA_V0_EMPTY, V.SARAMA_V1_EMPTY]) {
      const [record] = records(all(V.legacyEntry(7, body)));
      expect(record).toMatchObject({ offset: 7, key: null, value: null });
    }
  });

  for (const [name, body, codec] of [
    ['xerial snappy v0 wrapper', V.SARAMA_BULK_SNAPPY_V0, 'snappy'],
    ['gzip v0 wrapper', V.SARAMA_BULK_GZIP_V0, 'gzip'],
    ['lz4 v1 wrapper', V.SARAMA_BULK_LZ4_V1, 'lz4'],
    ['zstd v1 wrapper', V.SARAMA_BULK_ZSTD_V1, 'zstd'],
  ] as const) {
    it(`${name}: two inner messages, CRC-32 checked on wrapper and inner`, () => {
      const entry = V.legacyEntry(1, body);
      const [batch] = all(entry);
      expect(batch!.compressionName).toBe(codec);
      const recs = [...batch!.records()];
      expect(recs).toHaveLength(2);
      expect(recs.map((r) => r.offset)).toEqual([0, 1]);
      expect(batch!.baseOffset).toBe(0);
      expect(batch!.lastOffset).toBe(1);
    });
  }

  it('a corrupt byte in a legacy wrapper fails its CRC-32', () => {
    const entry = V.legacyEntry(1, V.SARAMA_BULK_GZIP_V0);
    entry[entry.length - 3]! ^= 0xff;
    expect(() => all(entry)).toThrow(CorruptRecordError);
  });
});
