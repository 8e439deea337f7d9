import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatches, DefaultRecordBatch, encodeBatch, InvalidArgumentError, RecordBatchBuilder, type CompressionName, type RecordInput } from '../../src/main.js';
import { testSeed } from '../helpers/random.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

const bytesOrNull = fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null });
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: bytesOrNull,
  value: fc.oneof(bytesOrNull, fc.string({ maxLength: 50 })),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 20 }), value: fc.oneof(bytesOrNull, fc.string({ maxLength: 20 })) }), { maxLength: 4 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

const asBytes = (v: Uint8Array | string | null | undefined) =>
  v === null || v === undefined ? null : typeof v === 'string' ? Buffer.from(v, 'utf8').toString('hex') : Buffer.from(v).toString('hex');

describe('encodeBatch / decodeBatches round trip', () => {
  for (const codec of CODECS) {
    it(`every field shape survives, codec ${codec} (property)`, () => {
      const seed = testSeed(`round trip ${codec}`);
      fc.assert(
        fc.property(fc.array(recordArb, { minLength: 1, maxLength: 30 }), fc.maxSafeInteger().filter((n) => n >= 0 && n < 2 ** 50), (input, baseOffset) => {
          const bytes = encodeBatch(input, { baseOffset, compression: codec });
          const [batch, ...rest] = [...decodeBatches(bytes)];
          expect(rest).toHaveLength(0);
          expect(batch!.compressionName).toBe(codec);
          expect(batch!.baseOffset).toBe(baseOffset);
          expect(batch!.lastOffset).toBe(baseOffset + input.length - 1);
          expect(batch!.maxTimestamp).toBe(Math.max(...input.map((r) => r.timestamp!)));
          const out = [...batch!.records()];
          expect(out).toHaveLength(input.length);
          out.forEach((r, i) => {
            const want = input[i]!;
            expect(r.offset).toBe(baseOffset + i);
            expect(r.timestamp).toBe(want.timestamp);
            expect(asBytes(r.key)).toBe(asBytes(want.key));
            expect(asBytes(r.value)).toBe(asBytes(want.value));
            expect(r.headers.map((h) => [h.key, asBytes(h.value)])).toEqual(want.headers!.map((h) => [h.key, asBytes(h.value)]));
          });
        }),
        { seed, numRuns: codec === 'none' ? 300 : 100 },
      );
    });
  }

  it('writes the header fields Kafka expects', () => {
    const bytes = encodeBatch([{ value: 'a', timestamp: 1000 }, { value: 'b', timestamp: 900 }], {
      baseOffset: 42,
      producerId: 7,
      producerEpoch: 3,
      baseSequence: 11,
      isTransactional: true,
      partitionLeaderEpoch: 5,
    });
    const batch = new DefaultRecordBatch(bytes);
    batch.ensureValid();
    expect(batch.magic).toBe(2);
    expect(batch.sizeInBytes).toBe(bytes.length);
    expect(batch.baseTimestamp).toBe(1000);
    expect(batch.maxTimestamp).toBe(1000);
    expect(batch.producerId).toBe(7);
    expect(batch.producerEpoch).toBe(3);
    expect(batch.baseSequence).toBe(11);
    expect(batch.lastSequence).toBe(12);
    expect(batch.isTransactional).toBe(true);
    expect(batch.partitionLeaderEpoch).toBe(5);
    expect(batch.recordCount).toBe(2);
    expect([...batch.records()].map((r) => r.timestamp)).toEqual([1000, 900]);
  });

  it('LogAppendTime stamps every record with the batch time', () => {
    const bytes = encodeBatch([{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], { timestampType: 'LogAppendTime', timestamp: 5000 });
    const [batch] = [...decodeBatches(bytes)];
    expect(batch!.timestampType).toBe('LogAppendTime');
    expect([...batch!.records()].map((r) => r.timestamp)).toEqual([5000, 5000]);
  });

  it('sequence numbers wrap from 2^31 - 1 to 0 as Kafka does', () => {
    const batch = new DefaultRecordBatch(encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { producerId: 1, producerEpoch: 0, baseSequence: 2 ** 31 - 2 }));
    expect(batch.lastSequence).toBe(0);
  });

  it('rejects malformed input with typed errors', () => {
    const bad: unknown[] = [[null], [{ value: 5 }], [{ value: 'x', timestamp: -5 }], [{ value: 'x', timestamp: 1.5 }], [{ headers: [{ key: 1 }] }]];
    for (const records of bad) expect(() => encodeBatch(records as RecordInput[])).toThrow(InvalidArgumentError);
    expect(() => encodeBatch([{ value: 'x' }], { baseOffset: -1 })).toThrow(InvalidArgumentError);
    expect(() => encodeBatch([{ value: 'x' }], { compression: 'brotli' as CompressionName })).toThrow();
  });
});

describe('RecordBatchBuilder buffers', () => {
  it('a buffer grown past 8 MiB by one batch is dropped before the next (the old view is left as it was)', () => {
    const builder = new RecordBatchBuilder();
    const large = builder.buildReusable([{ value: new Uint8Array(9 << 20).fill(7) }], { timestamp: 1 });
    const copy = Buffer.from(large);
    const small = builder.buildReusable([{ value: 'small' }], { timestamp: 1 });
    expect(Buffer.compare(Buffer.from(large), copy)).toBe(0); // not overwritten: a fresh buffer took the small batch
    expect([...decodeBatches(small)][0]!.recordCount).toBe(1);
    // Below the limit the buffer is kept and reused (the documented contract: the view is valid until the next call).
    const first = builder.buildReusable([{ value: 'a'.repeat(100) }], { timestamp: 1 });
    const before = Buffer.from(first);
    builder.buildReusable([{ value: 'b'.repeat(100) }], { timestamp: 1 });
    expect(Buffer.compare(Buffer.from(first), before)).not.toBe(0);
  });
});
