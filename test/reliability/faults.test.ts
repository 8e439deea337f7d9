/**
 * Faults from the system at every step: a workload that appends (rolling segments), flushes, commits
 * consumer offsets and runs retention is run once to count its system calls, then again once per call,
 * with that call failing (ENOSPC or EIO, once: the space comes back). Every failure must be a typed error;
 * after it the log either keeps working or refuses writes with ERR_LOG_FAILED until reopened; and after a
 * reopen every acknowledged record is there, intact, with contiguous offsets, and appends work again.
 */
import { describe, expect, it } from 'vitest';
import { isLogStorageError, Log, type LogOptions } from '../../src/main.js';
import { FaultyFileSystem, type FaultOp } from '../helpers/faulty-fs.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';
import { expectedValue } from '../crash/values.js';

const OPTIONS: LogOptions = { segmentBytes: 1200, segmentIndexBytes: 1024, indexIntervalBytes: 100, retentionBytes: 3000, fileDeleteDelayMs: 0, durability: 'fsync' };
const OPS: FaultOp[] = ['write', 'syncData', 'sync', 'syncDir', 'rename', 'truncate', 'open', 'unlink'];

interface Outcome {
  acked: Set<number>;
  errors: string[];
}

/** The workload; it carries on after failures, as an application would, and records what was acknowledged. */
async function workload(fs: FaultyFileSystem, dir: string): Promise<Outcome> {
  const outcome: Outcome = { acked: new Set(), errors: [] };
  const attempt = async (step: () => Promise<unknown>): Promise<void> => {
    try {
      await step();
    } catch (error) {
      if (!isLogStorageError(error)) throw new Error(`untyped failure: ${String((error as Error)?.stack ?? error)}`);
      outcome.errors.push(error.code);
    }
  };
  let log: Log;
  try {
    log = await Log.open(dir, { ...OPTIONS, fileSystem: fs });
  } catch (error) {
    if (!isLogStorageError(error)) throw error;
    outcome.errors.push(error.code);
    return outcome;
  }
  for (let i = 0; i < 24; i++) {
    await attempt(async () => {
      const base = log.endOffset;
      const { lastOffset } = await log.append([{ value: expectedValue(base) }, { value: expectedValue(base + 1) }], { expectedOffset: base });
      for (let o = base; o <= lastOffset; o++) outcome.acked.add(o);
    });
    if (i % 6 === 5) await attempt(() => log.flush());
    if (i % 8 === 7) await attempt(() => log.commitOffset('consumer', log.endOffset));
    if (i % 10 === 9) await attempt(() => log.applyRetention());
  }
  await attempt(() => log.close());
  if (!log.isClosed) log.abandon();
  return outcome;
}

/** Reopens on the real file system and checks every promise; returns the number of records checked. */
async function verify(dir: string, outcome: Outcome, what: string): Promise<number> {
  const log = await Log.open(dir, OPTIONS);
  try {
    for (const offset of outcome.acked) {
      if (offset >= log.startOffset && offset >= log.endOffset) throw new Error(`${what}: acknowledged offset ${offset} lost (end ${log.endOffset})`);
    }
    let expected = log.startOffset;
    while (expected < log.endOffset) {
      const records = [...(await log.read(expected, { maxBytes: 8192 })).records()];
      if (records.length === 0) throw new Error(`${what}: nothing readable at ${expected}`);
      for (const r of records) {
        if (r.offset !== expected || Buffer.from(r.value!).toString() !== expectedValue(r.offset)) throw new Error(`${what}: wrong record at ${r.offset}`);
        expected++;
      }
    }
    const end = log.endOffset;
    await log.append([{ value: expectedValue(end) }], { expectedOffset: end });
    return end - log.startOffset;
  } finally {
    await log.close();
  }
}

describe('faults from the file system at every step', () => {
  it('ENOSPC and EIO on each write, fsync, rename, truncate, open and unlink of a workload', async () => {
    const seed = testSeed('fault injection');
    const rng = new Rng(seed);
    const counter = new FaultyFileSystem();
    await workload(counter, tempDir());
    let runs = 0;
    let failures = 0;
    for (const op of OPS) {
      const calls = counter.count(op);
      // Every call site for small counts; a seeded sample of 25 otherwise, to bound the suite's time.
      const points = calls <= 25 ? Array.from({ length: calls }, (_, i) => i) : Array.from({ length: 25 }, () => rng.int(0, calls - 1));
      for (const after of points) {
        const code = rng.bool() ? 'ENOSPC' : 'EIO';
        const fs = new FaultyFileSystem();
        fs.inject({ op, after, times: 1, code, tornBytes: op === 'write' ? rng.int(0, 40) : 0 });
        const dir = tempDir();
        const what = `seed ${seed}: ${code} on ${op} call ${after + 1} of ${calls}`;
        const outcome = await workload(fs, dir);
        failures += outcome.errors.length > 0 ? 1 : 0;
        for (const error of outcome.errors) expect(['ERR_IO', 'ERR_LOG_FAILED', 'ERR_LOG_CLOSED'], `${what}: ${error}`).toContain(error);
        await verify(dir, outcome, what);
        runs++;
      }
    }
    console.log(`[faults] ${runs} runs with one failing system call, ${failures} surfaced an error; counts ${JSON.stringify(Object.fromEntries(OPS.map((op) => [op, counter.count(op)])))}`);
    expect(runs).toBeGreaterThan(50);
  }, 300_000);

  it('a persistent ENOSPC: appends fail typed, reads keep working, and appends resume when space returns', async () => {
    const fs = new FaultyFileSystem();
    const log = await Log.open(tempDir(), { ...OPTIONS, durability: 'os', fileSystem: fs });
    await log.append([{ value: expectedValue(0) }]);
    fs.inject({ op: 'write', code: 'ENOSPC' });
    for (let i = 0; i < 5; i++) await expect(log.append([{ value: 'x' }])).rejects.toMatchObject({ code: 'ERR_IO' });
    expect([...(await log.read(0)).records()].map((r) => Buffer.from(r.value!).toString())).toEqual([expectedValue(0)]);
    fs.clear();
    await log.append([{ value: expectedValue(1) }]);
    expect(log.endOffset).toBe(2);
    await log.close();
  });
});
