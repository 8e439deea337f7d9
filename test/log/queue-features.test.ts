import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  encodeBatch,
  InvalidArgumentError,
  InvalidProducerEpochError,
  InvalidTimestampError,
  Log,
  LogClosedError,
  OffsetConflictError,
  OffsetOutOfRangeError,
  OutOfOrderSequenceError,
  type Clock,
  type LogRecord,
} from '../../src/main.js';
import { FaultyFileSystem } from '../helpers/faulty-fs.js';
import { tempDir } from '../helpers/temp-dir.js';

const text = (r: LogRecord) => Buffer.from(r.value!).toString();

class ManualClock implements Clock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
}

describe('durable appends with group commit', () => {
  it("'fsync' appends resolve after an fsync; concurrent ones share fsyncs", async () => {
    const faulty = new FaultyFileSystem();
    const log = await Log.open(tempDir(), { fileSystem: faulty, durability: 'fsync' });
    const before = faulty.count('syncData');
    await log.append([{ value: 'one' }]);
    expect(faulty.count('syncData')).toBe(before + 1);
    const start = faulty.count('syncData');
    await Promise.all(Array.from({ length: 64 }, (_, i) => log.append([{ value: `v${i}` }])));
    const syncs = faulty.count('syncData') - start;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
    const m = log.metrics();
    expect(m.groupCommit.appends).toBe(65);
    expect(m.groupCommit.appendsPerSync).toBeGreaterThan(10);
    await log.close();
  });

  it("'os' appends do not fsync; the per-append option overrides the log's", async () => {
    const faulty = new FaultyFileSystem();
    const log = await Log.open(tempDir(), { fileSystem: faulty, durability: 'os' });
    const before = faulty.count('syncData');
    for (let i = 0; i < 10; i++) await log.append([{ value: 'x' }]);
    expect(faulty.count('syncData')).toBe(before);
    await log.append([{ value: 'x' }], { durability: 'fsync' });
    expect(faulty.count('syncData')).toBe(before + 1);
    await expect(log.append([{ value: 'x' }], { durability: 'never' as 'os' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await log.close();
  });

  it('a failed fsync rejects the append with ERR_IO and the log refuses writes until reopened', async () => {
    const faulty = new FaultyFileSystem();
    const dir = tempDir();
    const log = await Log.open(dir, { fileSystem: faulty });
    await log.append([{ value: 'kept' }]);
    faulty.inject({ op: 'syncData', path: /\.log$/, code: 'EIO', times: 1 });
    await expect(log.append([{ value: 'unsure' }])).rejects.toMatchObject({ code: 'ERR_IO' });
    await expect(log.append([{ value: 'refused' }])).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    log.abandon();
    const reopened = await Log.open(dir);
    expect(reopened.endOffset).toBeGreaterThanOrEqual(1);
    await reopened.append([{ value: 'again' }]);
    await reopened.close();
  });

  it('a failed fsync rejects every append it covered with one typed error; the log fails once', async () => {
    const faulty = new FaultyFileSystem();
    const log = await Log.open(tempDir(), { fileSystem: faulty });
    await log.append([{ value: 'kept' }]);
    const failures: Error[] = [];
    log.on('failed', (error) => failures.push(error));
    faulty.inject({ op: 'syncData', path: /\.log$/, code: 'EIO' });
    // Issued in one tick while the group commit still waits out the turn after fsync 1: all 9 share fsync 2.
    const first = log.append([{ value: 'first' }]).catch((e: unknown) => e);
    const covered = Array.from({ length: 8 }, (_, i) => log.append([{ value: `v${i}` }]).catch((e: unknown) => e));
    const firstError = await first;
    const errors = await Promise.all(covered);
    expect(firstError).toMatchObject({ code: 'ERR_IO' });
    expect(errors.map((e) => (e as { code: string }).code)).toEqual(Array(8).fill('ERR_IO'));
    expect(new Set([firstError, ...errors]).size).toBe(1);
    expect(failures).toEqual([firstError]);
    const m = log.metrics().groupCommit;
    expect(m).toMatchObject({ syncs: 2, appends: 10 });
    expect(m.latency.count).toBe(1); // only acknowledged appends are sampled
    await expect(log.append([{ value: 'refused' }])).rejects.toMatchObject({ code: 'ERR_LOG_FAILED' });
    log.abandon();
  });
});

describe('optimistic concurrency', () => {
  it('appends only at the expected offset; a conflict carries the actual end offset and writes nothing', async () => {
    const log = await Log.open(tempDir(), { durability: 'os' });
    await log.append([{ value: 'a' }], { expectedOffset: 0 });
    await log.append([{ value: 'b' }], { expectedOffset: 1 });
    const error = await log.append([{ value: 'c' }], { expectedOffset: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetConflictError);
    expect(error).toMatchObject({ code: 'ERR_OFFSET_CONFLICT', actual: 2, expected: 1 });
    expect(log.endOffset).toBe(2);
    await expect(log.appendBatch(encodeBatch([{ value: 'd' }]), { expectedOffset: 5 })).rejects.toBeInstanceOf(OffsetConflictError);
    await expect(log.append([{ value: 'e' }], { expectedOffset: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    // Of two racing writers that read the same end offset, exactly one wins.
    const results = await Promise.allSettled([log.append([{ value: 'x' }], { expectedOffset: 2 }), log.append([{ value: 'y' }], { expectedOffset: 2 })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await log.close();
  });
});

describe('consumer offsets', () => {
  it('commits durably, survives reopen, and rejects bad names and offsets', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, { durability: 'os' });
    for (let i = 0; i < 10; i++) await log.append([{ value: `${i}` }]);
    await Promise.all([log.commitOffset('billing', 4), log.commitOffset('audit', 7), log.commitOffset('billing', 5)]);
    expect(log.committedOffset('billing')).toBe(5);
    await expect(log.commitOffset('bad name', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.commitOffset('../x', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.commitOffset('ok', 11)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.commitOffset('ok', -1)).rejects.toBeInstanceOf(InvalidArgumentError);
    log.abandon(); // no clean close: the commits must already be on disk
    log = await Log.open(dir);
    expect(log.committedOffset('billing')).toBe(5);
    expect(log.committedOffset('audit')).toBe(7);
    expect(log.committedOffset('nobody')).toBeUndefined();
    await log.close();
    const file = path.join(dir, 'consumer-offsets-checkpoint');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('billing 5', 'billing 9'));
    await expect(Log.open(dir)).rejects.toMatchObject({ code: 'ERR_CORRUPT_CHECKPOINT', file });
  });
});

describe('idempotent producers', () => {
  it('a retried batch returns the original offsets and writes nothing, also after reopen', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, { durability: 'os', segmentBytes: 2000 });
    const batch = (seq: number, n: number, epoch = 0) =>
      encodeBatch(Array.from({ length: n }, (_, i) => ({ value: `p${seq + i}`.padEnd(50, '.') })), { producerId: 42, producerEpoch: epoch, baseSequence: seq });
    await log.append([{ value: 'other' }]);
    const first = await log.appendBatch(batch(0, 3));
    expect(first).toEqual({ baseOffset: 1, lastOffset: 3 });
    expect(await log.appendBatch(batch(0, 3))).toEqual({ baseOffset: 1, lastOffset: 3, duplicate: true });
    expect(log.endOffset).toBe(4);
    await expect(log.appendBatch(batch(5, 1))).rejects.toBeInstanceOf(OutOfOrderSequenceError);
    for (let seq = 3; seq < 60; seq += 3) await log.appendBatch(batch(seq, 3)); // crosses segment rolls
    expect(log.segments.length).toBeGreaterThan(2);
    const end = log.endOffset;
    await log.close();
    // One snapshot per roll plus one at close, pruned to the newest two; the newest is at the end offset.
    const snapshots = fs.readdirSync(dir).filter((name) => name.endsWith('.snapshot')).sort();
    expect(snapshots).toHaveLength(2);
    expect(Number(snapshots[1]!.slice(0, 20))).toBe(end);
    log = await Log.open(dir, { durability: 'os', segmentBytes: 2000 });
    expect(await log.appendBatch(batch(57, 3))).toMatchObject({ duplicate: true, lastOffset: end - 1 });
    await expect(log.appendBatch(batch(0, 1, 1))).resolves.toMatchObject({ baseOffset: end }); // new epoch starts at 0
    await expect(log.appendBatch(batch(1, 1, 0))).rejects.toBeInstanceOf(InvalidProducerEpochError);
    // append() with producer options
    await log.append([{ value: 'a' }], { producerId: 7, baseSequence: 0 });
    expect(await log.append([{ value: 'a' }], { producerId: 7, baseSequence: 0 })).toMatchObject({ duplicate: true });
    await log.close();
  });

  it('producer state is rebuilt from the log when snapshots are missing (unclean stop)', async () => {
    const dir = tempDir();
    const log = await Log.open(dir, { durability: 'os' });
    await log.append([{ value: 'a' }, { value: 'b' }], { producerId: 9, baseSequence: 0 });
    log.abandon();
    for (const name of fs.readdirSync(dir)) if (name.endsWith('.snapshot')) fs.unlinkSync(path.join(dir, name));
    const reopened = await Log.open(dir, { durability: 'os' });
    expect(await reopened.append([{ value: 'a' }, { value: 'b' }], { producerId: 9, baseSequence: 0 })).toMatchObject({ duplicate: true, baseOffset: 0 });
    await reopened.close();
  });
});

describe('waiting and tailing readers', () => {
  it('waitForData is woken by an append, honours minBytes, maxWaitMs and abort', async () => {
    const log = await Log.open(tempDir(), { durability: 'os' });
    const waiting = log.waitForData(0);
    setTimeout(() => void log.append([{ value: 'hello' }]), 10);
    expect(await waiting).toBeGreaterThan(0);
    const bigEnough = log.waitForData(1, { minBytes: 500 });
    let done = false;
    void bigEnough.then(() => (done = true));
    await log.append([{ value: 'x'.repeat(100) }]);
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    await log.append([{ value: 'x'.repeat(600) }]);
    expect(await bigEnough).toBeGreaterThanOrEqual(500);
    expect(await log.waitForData(log.endOffset, { maxWaitMs: 20 })).toBe(0);
    const controller = new AbortController();
    const aborted = log.waitForData(log.endOffset, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    await expect(log.waitForData(log.endOffset + 1)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    const pending = expect(log.waitForData(log.endOffset)).rejects.toBeInstanceOf(LogClosedError);
    await log.close();
    await pending;
  });

  it('tail catches up from disk, then follows live appends across rolls, without gaps or duplicates', async () => {
    const log = await Log.open(tempDir(), { durability: 'os', segmentBytes: 600 });
    for (let i = 0; i < 20; i++) await log.append([{ value: `old-${i}` }]);
    const seen: string[] = [];
    const controller = new AbortController();
    const reader = (async () => {
      for await (const record of log.tail(5, { signal: controller.signal })) {
        seen.push(text(record));
        if (seen.length === 15 + 40) break;
      }
    })();
    for (let i = 0; i < 20; i++) {
      await log.append([{ value: `new-${2 * i}` }, { value: `new-${2 * i + 1}` }]);
      if (i % 3 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await reader;
    expect(log.segments.length).toBeGreaterThan(3);
    expect(seen).toEqual([...Array.from({ length: 15 }, (_, i) => `old-${i + 5}`), ...Array.from({ length: 40 }, (_, i) => `new-${i}`)]);
    await log.close();
  });

  it('tail ends when the log closes; a tail behind retention gets OffsetOutOfRange; tailStream works', async () => {
    const log = await Log.open(tempDir(), { durability: 'os', segmentBytes: 400 });
    for (let i = 0; i < 30; i++) await log.append([{ value: `v${i}` }]);
    const stream = log.tailStream(28);
    const fromStream: string[] = [];
    stream.on('data', (r: LogRecord) => fromStream.push(text(r)));
    const ended = new Promise((r) => stream.on('end', r));
    await log.deleteRecordsBefore(20);
    await expect(log.tail(0).next()).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    for (let waited = 0; fromStream.length < 2 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await log.close();
    await ended;
    expect(fromStream).toEqual(['v28', 'v29']);
  });
});

describe('retention', () => {
  it('time retention deletes whole old segments by their largest timestamp; disk space is freed after the delay', async () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const delayMs = 500;
    const log = await Log.open(dir, { durability: 'os', clock, segmentBytes: 500, retentionMs: 60_000, fileDeleteDelayMs: delayMs });
    for (let i = 0; i < 30; i++) await log.append([{ value: `v${i}`.padEnd(40), timestamp: clock.now - 120_000 + i * 1000 }]);
    for (let i = 30; i < 40; i++) await log.append([{ value: `v${i}`.padEnd(40), timestamp: clock.now }]);
    const segmentsBefore = log.segments.length;
    const held = await log.read(0, { maxBytes: 10_000 });
    const heldValues = [...held.records()].map(text);
    const events: unknown[] = [];
    log.on('retention', (e) => events.push(e));
    const started = performance.now();
    const result = await log.applyRetention();
    const deletedFiles = () => fs.readdirSync(dir).some((n) => n.endsWith('.deleted'));
    // Renamed inside applyRetention and unlinked `delayMs` later: still there, unless this machine took that
    // long to get here (applyRetention's checkpoint fsyncs); either way never gone before `delayMs`.
    if (performance.now() - started < delayMs) expect(deletedFiles()).toBe(true);
    expect(result.deletedSegments).toBeGreaterThan(0);
    expect(log.segments.length).toBe(segmentsBefore - result.deletedSegments);
    expect(log.startOffset).toBe(log.segments[0]!.baseOffset);
    expect(events).toHaveLength(1);
    // Every deleted segment held only records older than 60 s.
    expect(log.startOffset).toBeLessThanOrEqual(61);
    expect([...held.records()].map(text)).toEqual(heldValues); // the reader keeps its range
    await expect(log.read(0)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    for (let waited = 0; waited < 5000 && deletedFiles(); waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(deletedFiles()).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(delayMs - 20); // timers fire to the millisecond
    await log.close();
  });

  it('when every segment qualifies the active one is rolled first, leaving an empty active segment', async () => {
    const clock = new ManualClock();
    const log = await Log.open(tempDir(), { durability: 'os', clock, retentionMs: 1000 });
    await log.append([{ value: 'old', timestamp: clock.now - 5000 }]);
    await log.applyRetention();
    expect(log.segments).toHaveLength(1);
    expect(log.segments[0]).toMatchObject({ baseOffset: 1, sizeInBytes: 0, isActive: true });
    expect(log.startOffset).toBe(1);
    await log.append([{ value: 'new' }]);
    expect(log.endOffset).toBe(2);
    await log.close();
  });

  it('size retention keeps the log at or above retentionBytes', async () => {
    const log = await Log.open(tempDir(), { durability: 'os', segmentBytes: 1000, retentionBytes: 3000 });
    for (let i = 0; i < 100; i++) await log.append([{ value: 'x'.repeat(100) }]);
    await log.applyRetention();
    expect(log.size).toBeGreaterThanOrEqual(3000);
    expect(log.size - log.segments[0]!.sizeInBytes).toBeLessThan(3000);
    await log.close();
  });

  it('deleteRecordsBefore moves the start offset durably', async () => {
    const dir = tempDir();
    let log = await Log.open(dir, { durability: 'os', segmentBytes: 500 });
    for (let i = 0; i < 50; i++) await log.append([{ value: `v${i}`.padEnd(30) }]);
    await log.deleteRecordsBefore(23);
    expect(log.startOffset).toBe(23);
    const first = (await log.read(23)).records().next().value as LogRecord;
    expect(text(first).trim()).toBe('v23');
    await expect(log.deleteRecordsBefore(51)).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    log.abandon();
    log = await Log.open(dir);
    expect(log.startOffset).toBe(23);
    await log.close();
  });

  it('timestamp bounds reject stale or future records; without bounds a far-future timestamp warns', async () => {
    const clock = new ManualClock();
    const bounded = await Log.open(tempDir(), { durability: 'os', clock, messageTimestampBeforeMaxMs: 1000, messageTimestampAfterMaxMs: 1000 });
    await expect(bounded.append([{ value: 'x', timestamp: clock.now - 5000 }])).rejects.toBeInstanceOf(InvalidTimestampError);
    await expect(bounded.appendBatch(encodeBatch([{ value: 'x', timestamp: clock.now + 5000 }], { compression: 'lz4' }))).rejects.toBeInstanceOf(InvalidTimestampError);
    expect(bounded.endOffset).toBe(0);
    await bounded.close();
    const open = await Log.open(tempDir(), { durability: 'os', clock });
    const warnings: { code: string }[] = [];
    open.on('warning', (w) => warnings.push(w));
    await open.append([{ value: 'x', timestamp: clock.now * 1000 }]); // microseconds sent as milliseconds
    expect(warnings.map((w) => w.code)).toEqual(['FUTURE_TIMESTAMP']);
    await open.close();
  });
});

describe('metrics and events', () => {
  it('counts appends, reads, rolls and flushes, and emits typed events', async () => {
    const log = await Log.open(tempDir(), { durability: 'os', segmentBytes: 300 });
    const rolls: unknown[] = [];
    const recovery = new Promise((r) => log.once('recovery', r));
    log.on('roll', (e) => rolls.push(e));
    for (let i = 0; i < 10; i++) await log.append([{ value: 'x'.repeat(50) }, { value: 'y' }]);
    await log.read(0);
    await log.flush();
    await recovery;
    const m = log.metrics();
    expect(m.appended).toMatchObject({ records: 20, batches: 10 });
    expect(m.read.reads).toBe(1);
    expect(m.rolls).toBe(rolls.length);
    expect(m.rolls).toBeGreaterThan(0);
    expect(m.flushes.count).toBeGreaterThan(0);
    expect(m.endOffset).toBe(20);
    await log.close();
  });

  it('a roll listener that appends from inside the event does not disturb the append that rolled', async () => {
    for (const durability of ['os', 'fsync'] as const) {
      const log = await Log.open(tempDir(), { durability, segmentBytes: 300 });
      const nested: Promise<unknown>[] = [];
      log.on('roll', () => nested.push(log.append([{ value: 'from-roll-listener' }])));
      for (let i = 0; i < 10; i++) await log.append([{ value: `outer-${i}`.padEnd(120, '.') }]);
      await Promise.all(nested);
      const values: string[] = [];
      for (let offset = 0; offset < log.endOffset; ) {
        for (const r of (await log.read(offset)).records()) {
          values.push(Buffer.from(r.value!).toString());
          offset = r.offset + 1;
        }
      }
      expect(nested.length).toBeGreaterThan(0);
      expect(values.filter((v) => v.startsWith('outer-')).map((v) => v.replace(/\.+$/, ''))).toEqual(Array.from({ length: 10 }, (_, i) => `outer-${i}`));
      expect(values.filter((v) => v === 'from-roll-listener')).toHaveLength(nested.length);
      expect(values).toHaveLength(10 + nested.length);
      await log.close();
    }
  });
});
