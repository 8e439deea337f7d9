/**
 * A seeded mutation fuzzer over closed logs: bit flips, zeroed ranges, truncation and appended garbage in
 * `.log`, `.index`, `.timeindex` and checkpoint files. After every mutation the log is opened (and, if
 * refused, opened with `repair`) and read completely. For every mutation: no wrong record is returned,
 * the process does not die (a SIGBUS or abort would kill this worker and fail the run), and every failure
 * is a typed seglog error naming a file (and a position where there is one).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLogStorageError, Log, type LogOptions, type LogStorageError } from '../../src/main.js';
import { Rng, testSeed } from '../helpers/random.js';
import { tempDir } from '../helpers/temp-dir.js';
import { expectedValue } from '../crash/values.js';

const OPTIONS: LogOptions = { segmentBytes: 1500, indexIntervalBytes: 200, segmentIndexBytes: 1024, durability: 'os' };
const ROUNDS = Number(process.env['CORRUPTION_ROUNDS'] ?? 400);

async function pristine(dir: string, records: number): Promise<void> {
  const log = await Log.open(dir, OPTIONS);
  for (let o = 0; o < records; o += 2) {
    await log.append([{ value: expectedValue(o) }, { value: expectedValue(o + 1) }], { compression: o % 6 === 0 ? 'lz4' : 'none' });
  }
  await log.commitOffset('reader', 10);
  await log.close();
}

type Mutation = 'flip' | 'zero' | 'truncate' | 'garbage';

function mutate(rng: Rng, dir: string): string {
  const files = fs.readdirSync(dir).filter((n) => /\.(log|index|timeindex)$|checkpoint$/.test(n)).sort();
  const name = rng.pick(files);
  const file = path.join(dir, name);
  const bytes = fs.readFileSync(file);
  const kind: Mutation = rng.pick(['flip', 'zero', 'truncate', 'garbage']);
  if (kind === 'flip' && bytes.length > 0) bytes[rng.int(0, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
  if (kind === 'zero' && bytes.length > 0) {
    const at = rng.int(0, bytes.length - 1);
    bytes.fill(0, at, Math.min(bytes.length, at + rng.int(1, 64)));
  }
  const out = kind === 'truncate' ? bytes.subarray(0, rng.int(0, bytes.length)) : kind === 'garbage' ? Buffer.concat([bytes, Buffer.from(rng.bytes(rng.int(1, 100)))]) : bytes;
  fs.writeFileSync(file, out);
  return `${kind} ${name}`;
}

/** Opens and reads everything; returns what happened. Throws only for a broken promise. */
async function openAndRead(dir: string, what: string): Promise<'clean' | 'refused' | 'read-error'> {
  const check = (error: unknown): LogStorageError => {
    if (!isLogStorageError(error)) throw new Error(`${what}: untyped failure ${String(error)}`);
    if (error.file === undefined) throw new Error(`${what}: ${error.code} names no file: ${error.message}`);
    return error;
  };
  let log: Log;
  let outcome: 'clean' | 'refused' | 'read-error' = 'clean';
  try {
    log = await Log.open(dir, OPTIONS);
  } catch (error) {
    check(error);
    outcome = 'refused';
    log = await Log.open(dir, { ...OPTIONS, repair: true }).catch((e: unknown) => {
      throw new Error(`${what}: repair failed too: ${check(e).message}`);
    });
  }
  try {
    for (let offset = log.startOffset; offset < log.endOffset; ) {
      const range = await log.read(offset, { maxBytes: 4096 });
      let next = offset;
      for (const r of range.records()) {
        if (Buffer.from(r.value!).toString() !== expectedValue(r.offset)) throw new Error(`${what}: wrong record at offset ${r.offset}`);
        next = r.offset + 1;
      }
      if (next === offset) break;
      offset = next;
    }
  } catch (error) {
    if (error instanceof Error && error.message.includes('wrong record')) throw error;
    check(error);
    outcome = 'read-error';
  } finally {
    log.abandon();
  }
  return outcome;
}

describe('corruption of closed logs (seeded mutation fuzzer)', () => {
  it(`${ROUNDS} mutations: never a wrong record, never a crash, every failure typed with its file`, async () => {
    const seed = testSeed('corruption fuzzer');
    const rng = new Rng(seed);
    const template = tempDir();
    await pristine(template, 120);
    const outcomes: Record<string, number> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const dir = tempDir();
      fs.cpSync(template, dir, { recursive: true });
      const what = `seed ${seed} round ${round}: ${Array.from({ length: rng.int(1, 3) }, () => mutate(rng, dir)).join(', ')}`;
      const outcome = await openAndRead(dir, what);
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      fs.rmSync(dir, { recursive: true, force: true });
    }
    console.log(`[corruption] ${ROUNDS} mutated logs: ${JSON.stringify(outcomes)}`);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(ROUNDS);
  }, 300_000);

  it('damaged index files are rebuilt silently; a torn tail is repaired; damage in flushed data fails closed', async () => {
    const dir = tempDir();
    await pristine(dir, 60);
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.index'))) fs.writeFileSync(path.join(dir, name), Buffer.alloc(24, 0xff));
    expect(await openAndRead(dir, 'garbage indexes')).toBe('clean');
    // The last segment is re-validated after an unclean stop (the previous open ended with abandon());
    // its data was flushed (recovery point = end), so damage there fails closed, and repair truncates.
    const logFile = path.join(dir, fs.readdirSync(dir).filter((n) => n.endsWith('.log')).sort().at(-1)!);
    const bytes = fs.readFileSync(logFile);
    bytes[bytes.length - 5]! ^= 0x10;
    fs.writeFileSync(logFile, bytes);
    await expect(Log.open(dir, OPTIONS)).rejects.toMatchObject({ code: 'ERR_CORRUPT_LOG', file: logFile });
    expect(await openAndRead(dir, 'repair')).toBe('refused');
  });
});
