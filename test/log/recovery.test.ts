import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptLogError, Log, LogIoError, crc32c, encodeBatch, type LogOptions, type LogRecord } from '../../src/main.js';
import { FaultyFileSystem } from '../helpers/faulty-fs.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';
import { BESIDE_VERIFY_MIN_BYTES } from '../../src/log/batch-validation.js';

const SMALL: LogOptions = { segmentBytes: 8192, indexIntervalBytes: 200, segmentIndexBytes: 4096 };
const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

async function values(log: Log): Promise<string[]> {
  const out: string[] = [];
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const got: LogRecord[] = [...(await log.read(offset, { maxBytes: 4096 })).records()];
    if (got.length === 0) throw new Error(`stuck at ${offset}`);
    for (const r of got) out.push(text(r.value)!);
    offset = got[got.length - 1]!.offset + 1;
  }
  return out;
}

/** Writes `batches` batches of one record each and abandons the log (no flush, no clean marker). */
async function writeUnclean(dir: string, batches: number, options: LogOptions = SMALL): Promise<{ expected: string[]; lastBatchStart: number; file: string }> {
  const log = await Log.open(dir, options);
  const expected: string[] = [];
  for (let i = 0; i < batches; i++) {
    const value = `record-${i}-${'z'.repeat(i % 37)}`;
    await log.append([{ key: `k${i}`, value }]);
    expected.push(value);
  }
  const active = log.segments[log.segments.length - 1]!;
  const last = await log.read(log.endOffset - 1);
  log.abandon();
  return { expected, lastBatchStart: last.position, file: active.file };
}

function indexFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.endsWith('.index') || name.endsWith('.timeindex')) out.set(name, fs.readFileSync(path.join(dir, name)).toString('hex'));
  }
  return out;
}

describe('recovery after a crash', () => {
  it('a torn last batch, cut at every byte boundary, is dropped and reported; appends continue', async () => {
    const dir = tempDir();
    const { expected, lastBatchStart, file } = await writeUnclean(dir, 40);
    const full = fs.readFileSync(file);
    for (let cut = lastBatchStart; cut < full.length; cut++) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const log = await Log.open(dir, SMALL);
      expect(log.endOffset).toBe(39);
      expect(await values(log)).toEqual(expected.slice(0, 39));
      const dropped = log.recoveryReport.truncations;
      if (cut > lastBatchStart) expect(dropped).toEqual([{ file, position: lastBatchStart, bytes: cut - lastBatchStart, reason: expect.any(String) }]);
      else expect(dropped).toEqual([]);
      log.abandon();
    }
    fs.writeFileSync(file, full.subarray(0, lastBatchStart + 7));
    const log = await Log.open(dir, SMALL);
    await log.append([{ value: 'again' }]);
    expect((await values(log)).slice(-2)).toEqual([expected[38], 'again']);
    await log.close();
  });

  it('a bit flip in unflushed data is a torn tail: cut there, later segments deleted, reported', async () => {
    const seed = testSeed('unflushed bit flip');
    const rng = new Rng(seed);
    const dir = tempDir();
    const { expected } = await writeUnclean(dir, 300);
    const logs = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort();
    expect(logs.length).toBeGreaterThan(3);
    const victim = path.join(dir, logs[1]!);
    const bytes = fs.readFileSync(victim);
    // A byte the CRC covers (past the 21-byte prefix of some batch); offsets are tested separately.
    const starts: number[] = [];
    for (let at = 0; at < bytes.length; at += bytes.readInt32BE(at + 8) + 12) starts.push(at);
    const start = rng.pick(starts);
    const end = start + bytes.readInt32BE(start + 8) + 12;
    const at = rng.int(start + 21, end - 1);
    bytes[at]! ^= 1 << rng.int(0, 7);
    fs.writeFileSync(victim, bytes);
    const log = await Log.open(dir, SMALL);
    const got = await values(log);
    expect(got).toEqual(expected.slice(0, got.length));
    expect(log.recoveryReport.truncations).toHaveLength(1);
    expect(log.recoveryReport.deletedSegments.length).toBe(logs.length - 2);
    await log.close();
  });

  it('a damaged base offset (outside the CRC) is caught when it breaks offset order', async () => {
    const dir = tempDir();
    await writeUnclean(dir, 30);
    const file = path.join(dir, '00000000000000000000.log');
    const bytes = fs.readFileSync(file);
    const starts: number[] = [];
    for (let at = 0; at < bytes.length; at += bytes.readInt32BE(at + 8) + 12) starts.push(at);
    bytes.writeBigInt64BE(3n, starts[10]!); // batch 10 now claims offset 3
    fs.writeFileSync(file, bytes);
    const log = await Log.open(dir, SMALL);
    expect(log.endOffset).toBe(10);
    expect(log.recoveryReport.truncations[0]).toMatchObject({ position: starts[10], reason: expect.stringContaining('not above') });
    await log.close();
  });

  it('damage below the recovery point fails the open with file and position, unless repair', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    for (let i = 0; i < 200; i++) await log.append([{ value: `flushed-${i}`.repeat(3) }]);
    await log.close(); // flushes and checkpoints the recovery point
    fs.unlinkSync(path.join(dir, '.kafka_cleanshutdown')); // pretend the next run crashed
    const first = path.join(dir, '00000000000000000000.log');
    const bytes = fs.readFileSync(first);
    bytes[150]! ^= 0x10;
    fs.writeFileSync(first, bytes);
    fs.unlinkSync(path.join(dir, '00000000000000000000.index')); // forces a scan of the first segment
    const error = await Log.open(dir, SMALL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptLogError);
    expect(error).toMatchObject({ code: 'ERR_CORRUPT_LOG', file: first });
    expect((error as CorruptLogError).position).toBeLessThanOrEqual(150);
    const repaired = await Log.open(dir, { ...SMALL, repair: true });
    expect(repaired.recoveryReport.truncations[0]).toMatchObject({ file: first });
    expect(repaired.endOffset).toBeLessThan(200);
    await repaired.close();
  });

  it('indexes rebuilt by recovery are byte-identical to the live ones', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    const rng = new Rng(7);
    for (let i = 0; i < 400; i++) {
      await log.append(
        Array.from({ length: rng.int(1, 4) }, (_, j) => ({ value: 'x'.repeat(rng.int(0, 120)), timestamp: 1000 + i * 10 + (j % 3) * 7 - (i % 5) })),
      );
    }
    await log.close();
    const live = indexFiles(dir);
    expect(live.size).toBeGreaterThan(6);
    for (const name of live.keys()) fs.unlinkSync(path.join(dir, name));
    fs.unlinkSync(path.join(dir, '.kafka_cleanshutdown'));
    fs.unlinkSync(path.join(dir, 'recovery-point-offset-checkpoint'));
    const reopened = await Log.open(dir, SMALL);
    expect(reopened.recoveryReport.recoveredSegments).toBe(live.size / 2);
    await reopened.close();
    expect(indexFiles(dir)).toEqual(live);
  });

  it('garbage, zero-padded and missing index files are rebuilt silently', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, SMALL);
    for (let i = 0; i < 300; i++) await log.append([{ value: `v${i}`.repeat(4) }]);
    const expected = await values(log);
    await log.close();
    const live = indexFiles(dir);
    const names = [...live.keys()];
    fs.writeFileSync(path.join(dir, names[0]!), Buffer.from('garbage that is not a multiple of 8!!'));
    fs.writeFileSync(path.join(dir, names[2]!), Buffer.concat([fs.readFileSync(path.join(dir, names[2]!)), Buffer.alloc(4096)]));
    fs.writeFileSync(path.join(dir, names[3]!), Buffer.alloc(1200)); // a time index full of zeros
    fs.unlinkSync(path.join(dir, names[4]!));
    log = await Log.open(dir, SMALL);
    expect(await values(log)).toEqual(expected);
    for (let i = 0; i < 50; i++) expect((await log.read(i * 6)).records().next().value?.offset).toBe(i * 6);
    await log.close();
    expect(indexFiles(dir)).toEqual(live);
  });

  it('leftover .deleted, .cleaned and temp files are removed at open', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    await log.append([{ value: 'x' }]);
    await log.close();
    for (const name of ['00000000000000000007.log.deleted', '00000000000000000007.log.cleaned', 'recovery-point-offset-checkpoint.tmp', '00000000000000000000.log.trunc']) {
      fs.writeFileSync(path.join(dir, name), 'junk');
    }
    const reopened = await Log.open(dir, SMALL);
    expect([...reopened.recoveryReport.removedFiles].sort()).toEqual(
      ['00000000000000000000.log.trunc', '00000000000000000007.log.cleaned', '00000000000000000007.log.deleted', 'recovery-point-offset-checkpoint.tmp'].sort(),
    );
    await reopened.close();
  });

  it('a .swap segment replaces the segments it covers (an interrupted compaction swap)', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    for (let i = 0; i < 300; i++) await log.append([{ value: `old-${i}`.repeat(10) }]);
    const bases = log.segments.map((s) => s.baseOffset);
    await log.close();
    expect(bases.length).toBeGreaterThan(2);
    // A compacted replacement for the first two segments, as the cleaner would leave it mid-swap.
    const replacement = encodeBatch([{ value: 'compacted' }], { baseOffset: bases[2]! - 1 });
    fs.writeFileSync(path.join(dir, '00000000000000000000.log.swap'), replacement);
    const reopened = await Log.open(dir, SMALL);
    expect(reopened.segments.map((s) => s.baseOffset)).toEqual([0, ...bases.slice(2)]);
    const first = [...(await reopened.read(0)).records()];
    expect(first.map((r) => [r.offset, text(r.value)])).toEqual([[bases[2]! - 1, 'compacted']]);
    await reopened.close();
  });
});

describe('recovery keeps valid batches after a compaction gap', () => {
  it('zeros after a batch that follows a gap are cut as zeros, not as evidence against that batch', async () => {
    const dir = tempDir();
    const batch = (offset: number) => Buffer.from(encodeBatch([{ value: `x${offset}` }], { baseOffset: offset, timestamp: 1 }));
    const first = path.join(dir, '00000000000000000000.log');
    fs.writeFileSync(first, Buffer.concat([batch(0), batch(5), Buffer.alloc(16)]));
    fs.writeFileSync(path.join(dir, '00000000000000000010.log'), batch(10));
    const log = await Log.open(dir);
    // The zeros are cut (not the valid batch before them: the gap-then-overlap rule takes no evidence from
    // zeros). That drops the later segments (Kafka's rule) and makes this segment the active one, whose
    // offsets seglog keeps contiguous, so the batch after the gap goes in a second, reported cut.
    expect(log.recoveryReport.truncations).toMatchObject([
      { file: first, position: batch(0).length * 2, bytes: 16 },
      { file: first, position: batch(0).length, bytes: batch(5).length },
    ]);
    expect(await values(log)).toEqual(['x0']);
    await log.close();
  });
});

describe('a tail batch whose CRC holds but whose records do not fill it', () => {
  it('is cut by recovery like a torn tail (what a crash during appendBatch verification can leave)', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, SMALL);
    for (let i = 0; i < 5; i++) await log.append([{ value: `v${i}` }]);
    const file = log.segments[0]!.file;
    log.abandon();
    const bad = Buffer.from(encodeBatch([{ value: 'x'.repeat(70) }, { value: 'y' }], { baseOffset: 5 }));
    bad[61] = bad[61]! + 2; // the first record's length, one too long
    bad.writeUInt32BE(crc32c(bad, 21, bad.length), 17);
    const position = fs.statSync(file).size;
    fs.appendFileSync(file, bad);
    const reopened = await Log.open(dir, SMALL);
    expect(reopened.recoveryReport.truncations).toMatchObject([{ file, position, bytes: bad.length }]);
    expect(reopened.endOffset).toBe(5);
    expect(await values(reopened)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    await reopened.close();
  });
});

describe('a damaged base offset (outside the CRC) in a segment that is not the last', () => {
  // Each case raises one batch's base offset (a flipped bit) in the first of several segments, then opens
  // after an unclean stop with repair: recovery must cut before that batch, never keep it under offsets
  // that are not its records'.
  const cases: [string, (base: number, limit: number) => number][] = [
    ['raised into the next segment', (_base, limit) => limit],
    ['raised by one, overlapping the next batch', (base) => base + 1],
  ];
  for (const [name, raise] of cases) {
    it(`${name}: recovery cuts before it, every record read back is the one written at its offset`, async () => {
      const dir = tempDir();
      const options: LogOptions = { segmentBytes: 1024, indexIntervalBytes: 100, durability: 'os' };
      const log = await Log.open(dir, options);
      for (let i = 0; i < 60; i++) await log.append([{ value: `v${i}` }]);
      const [first, second] = log.segments;
      const target = (await log.read(first!.baseOffset + 5)).position; // the batch of offset base + 5
      await log.close();
      const file = path.join(dir, fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort()[0]!);
      const bytes = fs.readFileSync(file);
      bytes.writeBigInt64BE(BigInt(raise(first!.baseOffset + 5, second!.baseOffset)), target);
      fs.writeFileSync(file, bytes);
      fs.rmSync(path.join(dir, '.kafka_cleanshutdown'), { force: true });
      fs.rmSync(path.join(dir, 'recovery-point-offset-checkpoint'), { force: true });
      const reopened = await Log.open(dir, { ...options, repair: true });
      expect(reopened.recoveryReport.truncations).toMatchObject([{ file, position: target }]);
      const read = await values(reopened);
      read.forEach((value, i) => expect(value).toBe(`v${reopened.startOffset + i}`));
      expect(read).toHaveLength(5);
      await reopened.close();
    });
  }
});

describe('faults from the file system', () => {
  it('ENOSPC on append: typed error, nothing written, later appends succeed', async () => {
    const faulty = new FaultyFileSystem();
    const dir = tempDir();
    const log = await Log.open(dir, { ...SMALL, fileSystem: faulty });
    await log.append([{ value: 'one' }]);
    faulty.inject({ op: 'write', path: /\.log$/, code: 'ENOSPC', times: 1, tornBytes: 20 });
    const error = await log.append([{ value: 'two' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogIoError);
    expect((error as LogIoError).syscallCode).toBe('ENOSPC');
    expect(log.endOffset).toBe(1);
    await log.append([{ value: 'three' }]);
    expect(await values(log)).toEqual(['one', 'three']);
    await log.close();
    const reopened = await Log.open(dir, SMALL);
    expect(await values(reopened)).toEqual(['one', 'three']);
    await reopened.close();
  });

  it('ENOSPC while a large appendBatch is verified on a worker thread: typed error, nothing written, later appends succeed', async () => {
    const faulty = new FaultyFileSystem();
    const dir = tempDir();
    const log = await Log.open(dir, { fileSystem: faulty, maxMessageBytes: 4 << 20 });
    await log.append([{ value: 'one' }]);
    const big = encodeBatch(Array.from({ length: 3000 }, () => ({ value: Buffer.alloc(100, 7) })));
    expect(big.byteLength).toBeGreaterThanOrEqual(BESIDE_VERIFY_MIN_BYTES); // checked beside the write
    faulty.inject({ op: 'write', path: /\.log$/, code: 'ENOSPC', times: 1, tornBytes: 5000 });
    const error = await log.appendBatch(big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogIoError);
    expect((error as LogIoError).syscallCode).toBe('ENOSPC');
    expect(log.endOffset).toBe(1);
    expect(await log.appendBatch(big)).toEqual({ baseOffset: 1, lastOffset: 3000 });
    await log.close();
    const reopened = await Log.open(dir);
    expect((await values(reopened)).length).toBe(3001);
    await reopened.close();
  });

  it('fsync failure on flush: typed error and the log refuses writes until reopened', async () => {
    const faulty = new FaultyFileSystem();
    const dir = tempDir();
    const log = await Log.open(dir, { ...SMALL, fileSystem: faulty });
    await log.append([{ value: 'one' }]);
    faulty.inject({ op: 'syncData', path: /\.log$/, code: 'EIO', times: 1 });
    await expect(log.flush()).rejects.toMatchObject({ code: 'ERR_IO' });
    await expect(log.append([{ value: 'two' }])).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    expect(await values(log)).toEqual(['one']);
    await log.close().catch(() => undefined);
    const reopened = await Log.open(dir, SMALL);
    expect(await values(reopened)).toEqual(['one']);
    await reopened.append([{ value: 'two' }]);
    await reopened.close();
  });
});
