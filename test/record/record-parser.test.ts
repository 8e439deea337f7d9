/**
 * The record parser's inline fast path against its general, field-by-field path: on valid records of every
 * shape and on mutated ones (bit flips, random bytes, truncations), both must return the same record or
 * both must throw a CorruptRecordError. The fast path reads without per-field bounds checks and relies on
 * its end-of-record consistency check; this is what shows that check is enough.
 */
import { describe, expect, it } from 'vitest';
import { CorruptRecordError, encodeBatch, type LogRecord, type RecordInput } from '../../src/main.js';
import * as L from '../../src/record/layout.js';
import { parseRecord, parseRecordGeneral, recordCursor, type RecordContext } from '../../src/record/record.js';
import { Rng, testSeed } from '../helpers/random.js';

const ctx: RecordContext = { baseOffset: 1000, baseTimestamp: 1_700_000_000_000, logAppendTime: -1, position: 0, file: undefined };

type Outcome = { record: LogRecord; end: number } | 'corrupt';

function parse(parser: typeof parseRecord, bytes: Uint8Array, start: number): Outcome {
  const cursor = recordCursor(bytes, start);
  try {
    const record = parser(bytes, cursor, bytes.byteLength, ctx);
    return { record, end: cursor.position };
  } catch (error) {
    if (error instanceof CorruptRecordError) return 'corrupt';
    throw error;
  }
}

const plain = (o: Outcome) =>
  o === 'corrupt'
    ? o
    : {
        end: o.end,
        offset: o.record.offset,
        timestamp: o.record.timestamp,
        key: o.record.key && Buffer.from(o.record.key).toString('hex'),
        value: o.record.value && Buffer.from(o.record.value).toString('hex'),
        headers: o.record.headers.map((h) => [h.key, h.value && Buffer.from(h.value).toString('hex')]),
      };

/**
 * What `plain` gives for the `i`-th record encoded from `input` (bytes as hex). The batch's base timestamp
 * is its first record's; the parser adds the deltas to `ctx.baseTimestamp`.
 */
function expected(input: RecordInput, i: number, first: RecordInput) {
  const hexOf = (b: Uint8Array | string | null | undefined) => (b === null || b === undefined ? null : Buffer.from(b).toString('hex'));
  return {
    offset: ctx.baseOffset + i,
    timestamp: ctx.baseTimestamp + input.timestamp! - first.timestamp!,
    key: hexOf(input.key),
    value: hexOf(input.value),
    headers: (input.headers ?? []).map((h) => [h.key, hexOf(h.value)]),
  };
}

function randomRecords(rng: Rng): RecordInput[] {
  const sizes = [0, 1, 5, 63, 64, 100, 8191, 8192, 9000];
  return Array.from({ length: rng.int(1, 80) }, (_, i) => ({
    key: rng.bool(0.3) ? null : rng.bytes(sizes[rng.int(0, 4)]!),
    value: rng.bool(0.1) ? null : rng.bytes(sizes[rng.int(0, sizes.length - 1)]!),
    headers: rng.bool(0.2) ? [{ key: 'k', value: rng.bool() ? null : rng.bytes(rng.int(0, 5)) }] : [],
    timestamp: ctx.baseTimestamp + (rng.bool(0.8) ? i : rng.int(-100_000, 100_000)),
  }));
}

describe('record parser: inline fast path = general path', () => {
  it('on valid and mutated records of every shape (seeded)', () => {
    const rng = new Rng(testSeed('record parser differential'));
    let fastHits = 0;
    for (let round = 0; round < 400; round++) {
      const inputs = randomRecords(rng);
      const batch = encodeBatch(inputs, { baseOffset: ctx.baseOffset, timestamp: ctx.baseTimestamp });
      const payload = Buffer.from(batch.subarray(L.RECORDS_OFFSET));
      const mutated = Buffer.from(payload);
      const kind = rng.int(0, 4);
      if (kind === 1) mutated[rng.int(0, mutated.length - 1)]! ^= 1 << rng.int(0, 7);
      else if (kind === 2) mutated[rng.int(0, mutated.length - 1)] = rng.int(0, 255);
      else if (kind === 3) for (let i = 0; i < 4; i++) mutated[rng.int(0, mutated.length - 1)] = rng.int(0, 255);
      const cut = kind === 4 ? mutated.subarray(0, rng.int(0, mutated.length - 1)) : mutated;
      // Half the payloads start inside a larger buffer: views are made from its buffer and offset.
      const lead = rng.bool() ? rng.int(1, 64) : 0;
      const bytes = new Uint8Array(new ArrayBuffer(lead + cut.byteLength), lead, cut.byteLength);
      bytes.set(cut);
      // Walk the records as the iterator does, comparing both parsers at every record start, and, for an
      // intact payload, both with the records that were encoded (the parsers share their view maker).
      let position = 0;
      for (let i = 0; position < bytes.byteLength; i++) {
        const fast = parse(parseRecord, bytes, position);
        const general = parse(parseRecordGeneral, bytes, position);
        expect(plain(fast)).toEqual(plain(general));
        if (fast === 'corrupt') break;
        if (kind === 0) expect(plain(fast)).toMatchObject(expected(inputs[i]!, i, inputs[0]!));
        if (fast.record.headers.length === 0) fastHits++;
        position = fast.end;
      }
    }
    expect(fastHits).toBeGreaterThan(1000); // the fast path really ran
  });
});
