import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatches, encodeBatch, isLogStorageError, type CompressionName, type LogRecord } from '../../src/main.js';
import * as L from '../../src/record/layout.js';
import { Rng, testSeed } from '../helpers/random.js';

/** Decodes everything; returns the records, or the error (which must be a typed seglog error). */
function decodeAll(bytes: Uint8Array, verifyCrc = true): LogRecord[] | Error {
  try {
    const out: LogRecord[] = [];
    for (const batch of decodeBatches(bytes, { verifyCrc })) for (const r of batch.records()) out.push(r);
    return out;
  } catch (error) {
    if (!isLogStorageError(error)) throw error; // a RangeError, TypeError...: the test fails
    return error;
  }
}

const summary = (records: LogRecord[]) =>
  records.map((r) => [r.offset, r.timestamp, r.key && Buffer.from(r.key).toString('hex'), r.value && Buffer.from(r.value).toString('hex'), r.headers.length]);

function sampleBatches(rng: Rng, codec: CompressionName): Buffer {
  const parts: Uint8Array[] = [];
  let base = 0;
  for (let b = 0; b < 3; b++) {
    const n = rng.int(1, 20);
    const records = Array.from({ length: n }, (_, i) => ({
      key: rng.bool() ? rng.bytes(rng.int(0, 10)) : null,
      value: rng.bytes(rng.int(0, 80)),
      headers: rng.bool(0.3) ? [{ key: 'h', value: rng.bytes(3) }] : [],
      timestamp: 1_700_000_000_000 + i,
    }));
    parts.push(encodeBatch(records, { baseOffset: base, compression: codec }));
    base += n;
  }
  return Buffer.concat(parts);
}

describe('decoder on hostile bytes', () => {
  it('random bytes: typed errors only, never a crash or hang', () => {
    const seed = testSeed('decoder random bytes');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, verifyCrc) => {
        decodeAll(bytes, verifyCrc);
      }),
      { seed, numRuns: 3000 },
    );
  });

  it('random bytes behind a valid v2 header (CRC off): the record parser fails closed', () => {
    const seed = testSeed('record parser random payload');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: -5, max: 50 }), (payload, count) => {
        const batch = Buffer.from(encodeBatch([{ value: 'x' }]).subarray(0, L.RECORDS_OFFSET));
        const bytes = Buffer.concat([batch, payload]);
        bytes.writeInt32BE(bytes.length - L.LOG_OVERHEAD, L.LENGTH_OFFSET);
        bytes.writeInt32BE(count, L.RECORDS_COUNT_OFFSET);
        bytes.writeInt32BE(Math.max(count - 1, 0), L.LAST_OFFSET_DELTA_OFFSET);
        decodeAll(bytes, false);
      }),
      { seed, numRuns: 3000 },
    );
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`mutated ${codec} batches: the original records or a typed error, never wrong records`, () => {
      const seed = testSeed(`mutations ${codec}`);
      const rng = new Rng(seed);
      for (let round = 0; round < 300; round++) {
        const original = sampleBatches(rng, codec);
        const expected = summary(decodeAll(original) as LogRecord[]);
        const mutated = Buffer.from(original);
        const kind = rng.int(0, 3);
        // Bytes outside the CRC (base offset, leader epoch) are the broker's to rewrite; mutate the rest.
        const outsideCrc = new Set<number>();
        for (let at = 0; at < original.length; at += original.readInt32BE(at + L.LENGTH_OFFSET) + L.LOG_OVERHEAD) {
          for (let i = 0; i < L.BASE_OFFSET_LENGTH; i++) outsideCrc.add(at + i);
          for (let i = 0; i < L.PARTITION_LEADER_EPOCH_LENGTH; i++) outsideCrc.add(at + L.PARTITION_LEADER_EPOCH_OFFSET + i);
        }
        const pick = (): number => {
          for (;;) {
            const i = rng.int(0, mutated.length - 1);
            if (!outsideCrc.has(i)) return i;
          }
        };
        if (kind === 0) mutated[pick()]! ^= 1 << rng.int(0, 7);
        else if (kind === 1) mutated.fill(0, pick(), pick());
        else if (kind === 2) mutated[pick()] = rng.int(0, 255);
        // A zero fill can run over a base offset between two covered bytes it left as they were: restore those.
        for (const i of outsideCrc) mutated[i] = original[i]!;
        const input = kind === 3 ? Buffer.concat([mutated, rng.bytes(rng.int(1, 40))]) : mutated;
        const result = decodeAll(input);
        if (!(result instanceof Error)) expect(summary(result)).toEqual(expected);
      }
    });
  }

  it('an impossible record count or a length past the buffer is an error naming the position', () => {
    const bytes = Buffer.from(encodeBatch([{ value: 'hello' }]));
    bytes.writeInt32BE(1000, L.LENGTH_OFFSET);
    const error = decodeAll(bytes) as Error & { position?: number };
    expect(error).toBeInstanceOf(Error);
    expect(error.position).toBe(0);
  });
});
