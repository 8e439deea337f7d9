import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  crc32c,
  encodeBatch,
  InvalidArgumentError,
  Log,
  LogClosedError,
  LogLockedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  CorruptRecordError,
  type LogOptions,
  type LogRecord,
} from '../../src/main.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';
import { BESIDE_VERIFY_MIN_BYTES } from '../../src/log/batch-validation.js';

const SMALL: LogOptions = { segmentBytes: 4096, indexIntervalBytes: 256, segmentIndexBytes: 4096 };

async function readAll(log: Log, from = log.startOffset): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let offset = from;
  while (offset < log.endOffset) {
    const records = await log.read(offset, { maxBytes: 1500 });
    let progressed = false;
    for (const r of records.records()) {
      out.push(r);
      offset = r.offset + 1;
      progressed = true;
    }
    if (!progressed) throw new Error(`no progress at ${offset}`);
  }
  return out;
}

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

describe('Log: append, read, roll, reopen', () => {
  it('appends and reads back across many small segments and a reopen', async () => {
    const dir = tempDir();
    const seed = testSeed('append/read/roll');
    const rng = new Rng(seed);
    const expected: string[] = [];
    let log = await Log.open(dir, SMALL);
    for (let i = 0; i < 300; i++) {
      const n = rng.int(1, 5);
      const records = Array.from({ length: n }, (_, j) => ({ key: `k${i}`, value: `value-${i}-${j}-${'x'.repeat(rng.int(0, 100))}` }));
      const result = await log.append(records);
      expect(result.baseOffset).toBe(expected.length);
      expect(result.lastOffset).toBe(expected.length + n - 1);
      expected.push(...records.map((r) => r.value));
    }
    expect(log.endOffset).toBe(expected.length);
    expect(log.segments.length).toBeGreaterThan(10);
    expect((await readAll(log)).map((r) => text(r.value))).toEqual(expected);
    await log.close();

    log = await Log.open(dir, SMALL);
    expect(log.recoveryReport.clean).toBe(true);
    expect(log.endOffset).toBe(expected.length);
    expect((await readAll(log)).map((r) => text(r.value))).toEqual(expected);
    // Reads starting mid-batch begin at the batch holding the offset; records() skips to the offset.
    for (let k = 0; k < 50; k++) {
      const offset = rng.int(0, expected.length - 1);
      const first = (await log.read(offset)).records().next().value as LogRecord;
      expect(first.offset).toBe(offset);
      expect(text(first.value)).toBe(expected[offset]);
    }
    await log.append([{ value: 'after reopen' }]);
    expect(text((await readAll(log, expected.length))[0]!.value)).toBe('after reopen');
    await log.close();
  });

  it('segment files are named by base offset, 20 digits, with .index and .timeindex', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    for (let i = 0; i < 100; i++) await log.append([{ value: 'x'.repeat(100) }]);
    const bases = log.segments.map((s) => s.baseOffset);
    await log.close();
    const names = fs.readdirSync(dir);
    for (const base of bases) {
      const prefix = String(base).padStart(20, '0');
      expect(names).toContain(`${prefix}.log`);
      expect(names).toContain(`${prefix}.index`);
      expect(names).toContain(`${prefix}.timeindex`);
    }
    expect(names).toContain('recovery-point-offset-checkpoint');
    expect(names).toContain('.kafka_cleanshutdown');
  });

  it("follows Kafka's read contract: maxBytes, partial last batch, minOneMessage", async () => {
    const log = await Log.open(tempDir(), SMALL);
    for (let i = 0; i < 10; i++) await log.append([{ value: 'a'.repeat(200) }, { value: 'b'.repeat(200) }]);
    const batchSize = (await log.read(0, { maxBytes: 1 })).sizeInBytes;
    const partial = await log.read(0, { maxBytes: batchSize + 10 });
    expect(partial.sizeInBytes).toBe(batchSize + 10);
    expect([...partial.batches()]).toHaveLength(1); // the partial second batch is not yielded
    const tiny = await log.read(0, { maxBytes: 1, minOneMessage: false });
    expect([...tiny.batches()]).toHaveLength(0);
    expect(tiny.firstEntryIncomplete).toBe(true);
    expect((await log.read(log.endOffset)).isEmpty).toBe(true);
    await expect(log.read(log.endOffset + 1)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await expect(log.read(-1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.read(1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await log.close();
  });

  it('appendBatch keeps the producer bytes, assigns offsets and never touches the caller buffer', async () => {
    const log = await Log.open(tempDir(), SMALL);
    await log.append([{ value: 'first' }]);
    const produced = encodeBatch([{ value: 'p1' }, { value: 'p2' }], { compression: 'lz4' });
    const copy = Buffer.from(produced);
    const result = await log.appendBatch(produced);
    expect(result).toEqual({ baseOffset: 1, lastOffset: 2 });
    expect(Buffer.compare(Buffer.from(produced), copy)).toBe(0);
    const [stored] = [...(await log.read(1)).batches()];
    expect(stored!.compressionName).toBe('lz4');
    expect(Buffer.from(stored!.bytes.subarray(8)).equals(copy.subarray(8))).toBe(true);
    expect([...stored!.records()].map((r) => [r.offset, text(r.value)])).toEqual([
      [1, 'p1'],
      [2, 'p2'],
    ]);
    // Two batches in one call.
    const two = Buffer.concat([encodeBatch([{ value: 'a' }]), encodeBatch([{ value: 'b' }, { value: 'c' }])]);
    expect(await log.appendBatch(two)).toEqual({ baseOffset: 3, lastOffset: 5 });
    await log.close();
  });

  it('appendBatch rejects bad batches with typed errors and leaves the log unchanged', async () => {
    const log = await Log.open(tempDir(), { ...SMALL, maxMessageBytes: 1000 });
    await log.append([{ value: 'keep' }]);
    const good = encodeBatch([{ value: 'x' }]);
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 1;
    const big = encodeBatch([{ value: 'x'.repeat(2000) }]);
    const cases: [unknown, string][] = [
      ['not bytes', 'ERR_INVALID_ARGUMENT'],
      [new Uint8Array(0), 'ERR_INVALID_ARGUMENT'],
      [badCrc, 'ERR_CORRUPT_RECORD'],
      [Buffer.concat([good, badCrc]), 'ERR_CORRUPT_RECORD'],
      [good.subarray(0, good.length - 1), 'ERR_CORRUPT_RECORD'],
      [big, 'ERR_RECORD_TOO_LARGE'],
      [encodeBatch([{ value: 'c' }], { isControl: true }), 'ERR_INVALID_ARGUMENT'],
    ];
    for (const [input, code] of cases) {
      await expect(log.appendBatch(input as Uint8Array)).rejects.toMatchObject({ code });
    }
    expect(log.endOffset).toBe(1);
    expect((await readAll(log)).map((r) => text(r.value))).toEqual(['keep']);
    await expect(log.append([{ value: 'y'.repeat(2000) }])).rejects.toBeInstanceOf(RecordTooLargeError);
    await expect(log.append([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await log.close();
  });

  it('appendBatch of large inputs (verified on a worker thread while written): bad CRC, bad record framing under a valid CRC, a bad second batch', async () => {
    const log = await Log.open(tempDir(), { maxMessageBytes: 4 << 20 });
    await log.append([{ value: 'keep' }]);
    const records = Array.from({ length: 3000 }, (_, i) => ({ value: Buffer.alloc(100, i % 256) }));
    const good = Buffer.from(encodeBatch(records));
    expect(good.length).toBeGreaterThanOrEqual(BESIDE_VERIFY_MIN_BYTES); // checked beside the write
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 5]! ^= 1;
    // A record length changed and the CRC recomputed: only the record walk can tell.
    const badFraming = Buffer.from(good);
    badFraming[61] = badFraming[61]! + 2; // the first record's length varint (two bytes, low bits first)
    badFraming.writeUInt32BE(crc32c(badFraming, 21, badFraming.length), 17);
    const cases: Buffer[] = [badCrc, badFraming, Buffer.concat([good, badCrc]), Buffer.concat([good, badFraming])];
    for (const input of cases) {
      const error = await log.appendBatch(input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(log.endOffset).toBe(1);
      expect(log.size).toBe((await log.read(0)).sizeInBytes);
    }
    expect((await readAll(log)).map((r) => text(r.value))).toEqual(['keep']);
    // The good input still appends after the refused ones, and reads back whole.
    expect(await log.appendBatch(Buffer.concat([good, good]))).toEqual({ baseOffset: 1, lastOffset: 6000 });
    expect((await readAll(log)).length).toBe(6001);
    await log.close();
  });

  it('a large appendBatch has written and indexed its bytes when the call returns: retention, deleteRecordsBefore and abandon after it keep it', async () => {
    const records = Array.from({ length: 3000 }, (_, i) => ({ value: Buffer.alloc(100, i % 256) }));
    const big = encodeBatch(records);
    expect(big.byteLength).toBeGreaterThanOrEqual(BESIDE_VERIFY_MIN_BYTES);
    const dir = tempDir();
    const log = await Log.open(dir, { maxMessageBytes: 4 << 20, durability: 'os' });
    await log.append([{ value: 'first' }]);
    const end = log.endOffset;
    const appending = log.appendBatch(big);
    expect(log.endOffset).toBe(3001); // synchronous up to its durability wait
    const deleting = log.deleteRecordsBefore(end);
    const retaining = log.applyRetention();
    expect(await appending).toEqual({ baseOffset: 1, lastOffset: 3000 });
    await Promise.all([deleting, retaining]);
    expect((await readAll(log, 1)).length).toBe(3000);
    await log.close();
    const reopened = await Log.open(dir, { maxMessageBytes: 4 << 20, durability: 'os' });
    expect(reopened.endOffset).toBe(3001);
    const inFlight = reopened.appendBatch(big);
    reopened.abandon();
    expect(await inFlight).toEqual({ baseOffset: 3001, lastOffset: 6000 }); // written before abandon ran
    const again = await Log.open(dir, { maxMessageBytes: 4 << 20 });
    expect(again.endOffset).toBe(6001); // in the page cache: the next open recovers it whole
    expect((await readAll(again, 3001)).every((r, i) => r.offset === 3001 + i && r.value![0] === i % 256)).toBe(true);
    await again.close();
  });

  it('a refused appendBatch that would have rolled the segment leaves the segments as they were', async () => {
    const log = await Log.open(tempDir(), { segmentBytes: 400 * 1024, maxMessageBytes: 4 << 20 });
    const batch = Buffer.from(encodeBatch(Array.from({ length: 3000 }, (_, i) => ({ value: Buffer.alloc(100, i) }))));
    await log.appendBatch(batch); // ~330 KB: the next one rolls
    const bad = Buffer.from(batch);
    bad[bad.length - 3]! ^= 0x10;
    const rolls: unknown[] = [];
    log.on('roll', (e) => rolls.push(e));
    await expect(log.appendBatch(bad)).rejects.toBeInstanceOf(CorruptRecordError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.segments.length).toBe(1);
    expect(rolls).toEqual([]);
    expect(log.endOffset).toBe(3000);
    expect(await log.appendBatch(batch)).toEqual({ baseOffset: 3000, lastOffset: 5999 });
    expect(log.segments.length).toBe(2);
    await log.close();
  });

  it('a second open of the same directory fails at once; close is idempotent; use after close is typed', async () => {
    const dir = tempDir();
    const log = await Log.open(dir);
    await expect(Log.open(dir)).rejects.toBeInstanceOf(LogLockedError);
    await expect(Log.open(path.join(dir, '.', ''))).rejects.toBeInstanceOf(LogLockedError);
    await log.close();
    await log.close();
    await expect(log.append([{ value: 'x' }])).rejects.toBeInstanceOf(LogClosedError);
    await expect(log.read(0)).rejects.toBeInstanceOf(LogClosedError);
    await expect(log.flush()).rejects.toBeInstanceOf(LogClosedError);
    const again = await Log.open(dir);
    await again.close();
  });

  it('a stale lock left by a dead process does not block', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, '.lock'), '999999999 12345\n');
    const log = await Log.open(dir);
    await log.close();
  });

  it('offsetForTimestamp matches a brute-force scan, with out-of-order timestamps', async () => {
    const seed = testSeed('offsetForTimestamp');
    const rng = new Rng(seed);
    const log = await Log.open(tempDir(), SMALL);
    const all: number[] = [];
    let clock = 1_000_000;
    for (let i = 0; i < 200; i++) {
      const records = Array.from({ length: rng.int(1, 4) }, () => {
        clock += rng.int(-50, 100);
        return { value: 'v'.repeat(rng.int(0, 60)), timestamp: Math.max(0, clock) };
      });
      all.push(...records.map((r) => r.timestamp));
      await log.append(records, { compression: rng.bool() ? 'lz4' : 'none' });
    }
    const brute = (ts: number) => {
      const i = all.findIndex((t) => t >= ts);
      return i < 0 ? null : i;
    };
    for (let k = 0; k < 300; k++) {
      const ts = rng.int(999_000, clock + 200);
      expect(await log.offsetForTimestamp(ts)).toBe(brute(ts));
    }
    expect(await log.offsetForTimestamp(-1)).toBe(log.endOffset);
    expect(await log.offsetForTimestamp(-2)).toBe(0);
    await log.close();
  });

  it('truncateTo cuts at the batch boundary, and a reader holding a range keeps reading it', async () => {
    const log = await Log.open(tempDir(), SMALL);
    for (let i = 0; i < 100; i++) await log.append([{ value: `v${i}` }, { value: `w${i}` }]);
    const held = await log.read(150, { maxBytes: 100_000 });
    const heldValues = [...held.records()].map((r) => text(r.value));
    expect(await log.truncateTo(120)).toBe(120);
    expect(log.endOffset).toBe(120);
    expect([...held.records()].map((r) => text(r.value))).toEqual(heldValues);
    expect(await log.truncateTo(51)).toBe(50); // mid-batch: the whole batch goes
    expect((await readAll(log)).length).toBe(50);
    await log.append([{ value: 'new' }]);
    expect(log.endOffset).toBe(51);
    await log.close();
  });

  it('a read range survives the deletion of its segment (no SIGBUS, same bytes)', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, { ...SMALL, fileDeleteDelayMs: 0 });
    for (let i = 0; i < 200; i++) await log.append([{ value: `value-${i}`.repeat(5) }]);
    const held = await log.read(0, { maxBytes: 100_000 });
    const before = [...held.records()].map((r) => text(r.value));
    await log.truncateTo(0);
    const deleted = () => fs.readdirSync(dir).filter((n) => n.endsWith('.deleted'));
    for (let waited = 0; deleted().length > 0 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(deleted()).toEqual([]);
    expect([...held.records()].map((r) => text(r.value))).toEqual(before);
    await log.close();
  });

  it('detects damage when reading (CRC checked)', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, SMALL);
    for (let i = 0; i < 100; i++) await log.append([{ value: `v${i}`.repeat(40) }]);
    expect(log.segments.length).toBeGreaterThan(2);
    await log.close();
    const file = path.join(dir, '00000000000000000000.log');
    const bytes = fs.readFileSync(file);
    bytes[100]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    log = await Log.open(dir, SMALL); // clean shutdown: old segments are not scanned at open
    await expect(readAll(log)).rejects.toBeInstanceOf(CorruptRecordError);
    log.abandon();
  });
});
