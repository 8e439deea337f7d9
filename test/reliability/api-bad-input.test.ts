/**
 * A seeded property test that drives the public API with invalid arguments (wrong types; negative,
 * fractional, huge and unsafe offsets; oversized records; empty batches; malformed appendBatch bytes;
 * aborted signals; calls after close) and checks that each gets a typed seglog error and that the log's
 * contents are unchanged afterwards.
 */
import fc from 'fast-check';
import { describe as describeSuite, expect, it } from 'vitest';
import { encodeBatch, isLogStorageError, Log } from '../../src/main.js';
import { testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 5 }),
  fc.double(),
  fc.integer({ min: -1000, max: -1 }),
  fc.constant(2 ** 53),
  fc.constant(Number.MAX_VALUE),
  fc.constant(Number.NaN),
  fc.constant(Infinity),
  fc.constant(1.5),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.uint8Array({ maxLength: 80 }),
);

type Call = { name: string; run: (log: Log) => Promise<unknown> | unknown };

/** One invalid call; `j` is junk for the argument under attack. */
function calls(j: unknown, bytes: Uint8Array): Call[] {
  const any = j as never;
  // Where junk could happen to be valid (an empty object is a null-value record, undefined an omitted
  // option), an invalid value of the same kind is used instead.
  const plainObject = typeof j === 'object' && j !== null && !Array.isArray(j) && !(j instanceof Uint8Array);
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd', 0, 1, 2, 3, 4];
  return [
    { name: 'append(junk)', run: (log) => log.append(Array.isArray(j) ? ([...j, 5] as never) : any) },
    { name: 'append([junk])', run: (log) => log.append([plainObject ? ({ value: 5 } as never) : (j as never)]) },
    { name: 'append([{ value: junk }])', run: (log) => (typeof j === 'string' || j instanceof Uint8Array || j == null ? log.append([], {}) : log.append([{ value: any }])) },
    { name: 'append(records, { expectedOffset: junk })', run: (log) => log.append([{ value: 'v' }], { expectedOffset: j === undefined ? -1 : Number.isSafeInteger(j) && (j as number) >= 0 ? (j as number) + 1000 : any }) },
    { name: 'append(records, { compression: junk })', run: (log) => log.append([{ value: 'v' }], { compression: j === undefined || codecs.includes(j as never) ? ('brotli' as never) : any }) },
    { name: 'append(records, { durability: junk })', run: (log) => log.append([{ value: 'v' }], { durability: j === undefined || j === 'os' || j === 'fsync' ? ('none' as never) : any }) },
    { name: 'append(oversized)', run: (log) => log.append([{ value: new Uint8Array(2 * 1024 * 1024) }]) },
    { name: 'appendBatch(junk)', run: (log) => log.appendBatch(j instanceof Uint8Array ? mangle(bytes, j) : any) },
    { name: 'read(junk)', run: (log) => log.read(Number.isSafeInteger(j) && (j as number) >= 0 ? (j as number) + 1000 : any) },
    { name: 'read(0, { maxBytes: junk })', run: (log) => log.read(0, { maxBytes: j == null || (Number.isSafeInteger(j) && (j as number) >= 0) ? -1 : any }) }, // null and undefined mean the default
    { name: 'waitForData(0, { signal: aborted })', run: (log) => log.waitForData(log.endOffset, { signal: AbortSignal.abort() }) },
    { name: 'waitForData(junk)', run: (log) => log.waitForData(Number.isSafeInteger(j) && (j as number) >= 0 ? (j as number) + 1000 : any) },
    { name: 'offsetForTimestamp(junk)', run: (log) => log.offsetForTimestamp(typeof j === 'number' && Number.isSafeInteger(j) && j >= -2 ? -3 : any) },
    { name: 'truncateTo(junk)', run: (log) => log.truncateTo(Number.isSafeInteger(j) && (j as number) >= 0 ? -1 : any) },
    { name: 'deleteRecordsBefore(junk)', run: (log) => log.deleteRecordsBefore(Number.isSafeInteger(j) && (j as number) >= 0 ? (j as number) + 1000 : any) },
    { name: 'commitOffset(junk, 0)', run: (log) => log.commitOffset(typeof j === 'string' && /^[\w.-]+$/.test(j) ? '../x' : any, 0) },
    { name: 'commitOffset("c", junk)', run: (log) => log.commitOffset('c', Number.isSafeInteger(j) && (j as number) >= 0 ? (j as number) + 1000 : any) },
  ];
}

/** Bytes that are not a valid batch: random, or a valid batch with the random bytes spliced in. */
function mangle(valid: Uint8Array, noise: Uint8Array): Uint8Array {
  if (noise.byteLength === 0) return noise;
  const out = Buffer.from(valid);
  out.set(noise.subarray(0, Math.min(noise.byteLength, out.byteLength - 17)), 17); // past the offset/length prefix: CRC-covered
  if (out.equals(valid)) out[17]! ^= 0xff; // the noise repeated the bytes it replaced: still a valid batch
  return out;
}

/** A description of any value, even one whose toString is broken. */
function describe(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value) ?? typeof value;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

async function contents(log: Log): Promise<string> {
  const values: string[] = [];
  for (const r of (await log.read(log.startOffset, { maxBytes: 1 << 20 })).records()) values.push(`${r.offset}:${Buffer.from(r.value!).toString()}`);
  return `${log.startOffset}-${log.endOffset}:${values.join(',')}:${log.committedOffset('c') ?? ''}`;
}

describeSuite('bad input at the API', () => {
  it('every invalid call gets a typed error and leaves the log unchanged (property)', async () => {
    const seed = testSeed('api bad input');
    const log = await Log.open(tempDir(), { durability: 'os' });
    for (let i = 0; i < 5; i++) await log.append([{ value: `v${i}` }]);
    // A fixed timestamp: with the default (now) the bytes, and so which noise leaves them valid, vary by run.
    const valid = encodeBatch([{ value: 'x' }, { value: 'y' }], { timestamp: 1_700_000_000_000 });
    const before = await contents(log);
    await fc.assert(
      fc.asyncProperty(junk, fc.nat(100), async (j, pick) => {
        const all = calls(j, valid);
        const call = all[pick % all.length]!;
        let error: unknown;
        try {
          await call.run(log);
        } catch (e) {
          error = e;
        }
        expect(error, `${call.name} with ${describe(j)} should fail`).toBeDefined();
        expect(isLogStorageError(error), `${call.name} threw ${describe(error)}`).toBe(true);
        expect(await contents(log)).toBe(before);
      }),
      { seed, numRuns: 600 },
    );
    await log.close();
    for (const call of calls(0, valid)) {
      const error = await Promise.resolve()
        .then(() => call.run(log))
        .then(() => undefined, (e: unknown) => e);
      expect(error, call.name).toMatchObject({ code: 'ERR_LOG_CLOSED' });
    }
  });
});
