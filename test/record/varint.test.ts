import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../src/record/varint.js';
import { testSeed } from '../helpers/random.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function encode(value: number, long: boolean): Uint8Array {
  const out = new Uint8Array(10);
  const end = long ? writeVarlong(out, 0, value) : writeVarint(out, 0, value);
  return out.subarray(0, end);
}

describe('varint (Kafka ByteUtilsTest vectors, reference section 13)', () => {
  const vectors: [number, string][] = [
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [63, '7e'],
    [-64, '7f'],
    [64, '8001'],
    [8191, 'fe7f'],
    [-2147483648, 'ffffffff0f'],
    [2147483647, 'feffffff0f'],
  ];
  for (const [value, bytes] of vectors) {
    it(`${value} <-> ${bytes}`, () => {
      expect(hex(encode(value, false))).toBe(bytes);
      expect(hex(encode(value, true))).toBe(bytes);
      expect(sizeOfVarint(value)).toBe(bytes.length / 2);
      const buf = Buffer.from(bytes, 'hex');
      const cursor = { position: 0 };
      expect(readVarint(buf, cursor, buf.length)).toBe(value);
      expect(cursor.position).toBe(buf.length);
    });
  }

  it('rejects a sixth varint byte, bits past 32, and truncation', () => {
    for (const bytes of ['ffffffffff01', 'ffffffff1f', 'ff', '80']) {
      const buf = Buffer.from(bytes, 'hex');
      expect(readVarint(buf, { position: 0 }, buf.length)).toBeUndefined();
    }
  });

  it('varlong: extremes of the safe range and rejection beyond', () => {
    for (const v of [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52, -(2 ** 52), 2 ** 52 + 1, 1479847795000]) {
      const bytes = encode(v, true);
      expect(bytes.length).toBe(sizeOfVarlong(v));
      const cursor = { position: 0 };
      expect(readVarlong(bytes, cursor, bytes.length)).toBe(v);
    }
    // zigzag(2^53) = 2^54: a valid varlong, but not a safe integer.
    const big = Buffer.from('80808080808080808001', 'hex');
    expect(readVarlong(big, { position: 0 }, big.length)).toBeUndefined();
    // 11 bytes: longer than any int64.
    const long = Buffer.from('8080808080808080808001', 'hex');
    expect(readVarlong(long, { position: 0 }, long.length)).toBeUndefined();
  });

  it('round-trips every int32 and safe int64 (property)', () => {
    const seed = testSeed('varint round trip');
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (v) => {
        const bytes = encode(v, false);
        return bytes.length === sizeOfVarint(v) && readVarint(bytes, { position: 0 }, bytes.length) === v;
      }),
      { seed, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), (v) => {
        const bytes = encode(v, true);
        return bytes.length === sizeOfVarlong(v) && readVarlong(bytes, { position: 0 }, bytes.length) === v;
      }),
      { seed, numRuns: 2000 },
    );
  });
});
