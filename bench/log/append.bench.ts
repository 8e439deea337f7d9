/**
 * Question: how fast does the log take appends, and how close does `appendBatch` of pre-encoded batches
 * come to the disk?
 *
 * - `log.append` of 1000-record batches, by value size (100 B, 1 KiB, 10 KiB) and codec (none, lz4, zstd):
 *   records/s, MB/s of record values taken in, and MB/s written to the file. Every record of a batch has
 *   its own value (distinct 100-byte JSON-like events from `bench/_util/data.ts`, seeded), so the codecs
 *   see event-stream data, not one value repeated 1000 times (which lz4 shrinks ~100x and flatters).
 *   Keys are null and timestamps are stamped by the log, as `kafka-producer-perf-test` sends them.
 * - `log.appendBatch` of ~1 MiB pre-encoded batches against a plain `fs.writeSync` loop of the same bytes
 *   into a file in the same directory, interleaved in blocks of 8 batches: the ratio is how much of the
 *   machine's write path the log keeps (framing, CRC check, offset patching, index entries).
 *
 * Durability is 'os' for every side (written to the OS, no fsync, Kafka's default): the question is the
 * write path, not the disk's fsync latency, which `group-commit.bench.ts` measures. Each round appends to a
 * fresh log that stays within one segment (no roll, so no background flush of a full segment competes).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RecordInput } from '../../src/main.js';
import { encodeBatch, Log, type CompressionName } from '../_util/seglog.js';
import { atLeast, elapsedMs, gc, mbPerSec, median, MiB, now, quartiles, range, warmUp, withTempDir, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { payload } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const RECORDS_PER_BATCH = 1000;
/** Batches cycled through by the append loop; each holds the same values in a different order. */
const DISTINCT_BATCHES = 4;
/** Multipliers coprime to 1000: `i * m mod 1000` visits every value once. */
const PERMUTATIONS = [1, 3, 7, 9] as const;
/** Largest batch `Log.open`'s default `maxMessageBytes` (1 MiB + 12) accepts, less the 12 bytes of log overhead. */
const BATCH_BYTES_TARGET = MiB;

interface Case {
  readonly valueBytes: number;
  readonly codec: CompressionName;
}

interface Rate {
  readonly recordsPerSec: number;
  readonly valueMbPerSec: number;
  readonly diskMbPerSec: number;
}

/** `DISTINCT_BATCHES` arrays of 1000 records whose values are distinct seeded slices of one buffer. */
function recordBatches(valueBytes: number, seed: number): RecordInput[][] {
  const values = payload('repetitive', RECORDS_PER_BATCH * valueBytes, seed);
  return Array.from({ length: DISTINCT_BATCHES }, (_, b) =>
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => {
      const slot = (i * PERMUTATIONS[b]! + b * 97) % RECORDS_PER_BATCH; // a different order per batch
      return { key: null, value: values.subarray(slot * valueBytes, (slot + 1) * valueBytes) };
    }),
  );
}

/** One round: `total` records appended to a fresh log, timed from the first append to the last. */
async function appendRound(batches: RecordInput[][], { valueBytes, codec }: Case, total: number): Promise<Rate> {
  return withTempDir('append', async (dir) => {
    // 1000 x 10 KiB is a 10 MB batch: above Kafka's 1 MiB default message limit, so the limit is raised.
    const log = await Log.open(dir, { durability: 'os', maxMessageBytes: 16 * MiB, compression: codec });
    try {
      const start = now();
      for (let n = 0, b = 0; n < total; n += RECORDS_PER_BATCH, b = (b + 1) % DISTINCT_BATCHES) await log.append(batches[b]!);
      const ms = elapsedMs(start);
      if (log.endOffset !== total) throw new Error(`appended ${total} records, the log ends at offset ${log.endOffset}`);
      return { recordsPerSec: (total / ms) * 1000, valueMbPerSec: mbPerSec(total * valueBytes, ms), diskMbPerSec: mbPerSec(log.size, ms) };
    } finally {
      await log.close();
    }
  });
}

async function appendCase(c: Case, total: number, rounds: number, warmUpMs: number): Promise<BenchRow> {
  const batches = recordBatches(c.valueBytes, 7 + c.valueBytes);
  // Steady state, as in a long-lived process: V8 keeps re-optimising the encoder for a second or two
  // (measured: 2.2 -> 2.5 -> 2.8 M records/s over the first three 1 M-record rounds of 100-byte values).
  const warmRecords = Math.max(RECORDS_PER_BATCH, Math.round(total / 4 / RECORDS_PER_BATCH) * RECORDS_PER_BATCH);
  await appendRound(batches, c, warmRecords);
  await warmUp(warmUpMs, () => appendRound(batches, c, warmRecords));
  const results: Rate[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    results.push(await appendRound(batches, c, total));
  }
  const recordsPerSec = median(results.map((r) => r.recordsPerSec));
  const valueMb = median(results.map((r) => r.valueMbPerSec));
  const diskMb = median(results.map((r) => r.diskMbPerSec));
  const isTarget = c.valueBytes === 100 && c.codec === 'none';
  const size = c.valueBytes >= 1024 ? `${c.valueBytes / 1024} KiB` : `${c.valueBytes} B`;
  return {
    group: 'append',
    name: `append ${size} values, ${c.codec}, 1000/batch`,
    value: recordsPerSec,
    unit: 'records/s',
    ...(isTarget ? atLeast(recordsPerSec, 3e6, '>= 3 M/s') : {}),
    note: `${valueMb.toFixed(0)} MB/s of values, ${diskMb.toFixed(0)} MB/s to disk; ${total} records x ${rounds} rounds${spread(results.map((r) => r.recordsPerSec))}`,
  };
}

/** The rounds' range, in millions, for rows whose target sits near the measured figure. */
function spread(values: readonly number[]): string {
  return values.length < 2 ? '' : `, range ${range(values, 1e6)} M`;
}

/** Distinct pre-encoded batches of 100-byte records, each as close to 1 MiB as fits. */
function megabyteBatches(count: number): Uint8Array[] {
  const values = payload('random', 10_000 * 100, 3);
  const recordsOf = (n: number, shift: number): RecordInput[] =>
    Array.from({ length: n }, (_, i) => {
      const slot = (i + shift) % 10_000;
      return { key: null, value: values.subarray(slot * 100, (slot + 1) * 100), timestamp: 1_700_000_000_000 + i };
    });
  const perRecord = encodeBatch(recordsOf(1000, 0)).byteLength / 1000;
  let n = Math.floor(BATCH_BYTES_TARGET / perRecord);
  while (encodeBatch(recordsOf(n, 0)).byteLength > BATCH_BYTES_TARGET) n -= 10;
  const distinct = Array.from({ length: 4 }, (_, b) => encodeBatch(recordsOf(n, b * 1234)));
  return Array.from({ length: count }, (_, i) => distinct[i % distinct.length]!);
}

/**
 * Batches per block of the interleaving: each side writes this many batches, then the other does. Per
 * round (192 MiB a side) the ratio swung 0.49-1.10x with whole-round interleaving, as this shared VM
 * changes speed over seconds; blocks of 8 MiB put both sides into the same moments.
 */
const BLOCK_BATCHES = 8;

interface BlockRound {
  readonly oursMs: number;
  readonly peerMs: number;
  /** writeSync's time over appendBatch's, per block: appendBatch's throughput as a fraction of it. */
  readonly ratios: number[];
}

/**
 * One round: a fresh log and a plain file side by side in one directory, `batches` appended to the log
 * with `appendBatch` and written to the file with `fs.writeSync`, alternating in blocks of
 * {@link BLOCK_BATCHES} (which side goes first alternates too).
 */
async function appendBatchVsWriteSyncRound(batches: Uint8Array[], bytes: number): Promise<BlockRound> {
  return withTempDir('append-batch', async (dir) => {
    const log = await Log.open(path.join(dir, 'log'), { durability: 'os' });
    const fd = fs.openSync(path.join(dir, 'plain.bin'), 'w');
    try {
      let position = 0;
      let oursMs = 0;
      let peerMs = 0;
      const ratios: number[] = [];
      for (let from = 0, block = 0; from < batches.length; from += BLOCK_BATCHES, block++) {
        const slice = batches.slice(from, from + BLOCK_BATCHES);
        const ours = async (): Promise<number> => {
          const start = now();
          for (const batch of slice) await log.appendBatch(batch);
          return elapsedMs(start);
        };
        const peer = (): number => {
          const start = now();
          for (const batch of slice) position += fs.writeSync(fd, batch, 0, batch.byteLength, position);
          return elapsedMs(start);
        };
        let o: number;
        let p: number;
        if (block % 2 === 0) {
          o = await ours();
          p = peer();
        } else {
          p = peer();
          o = await ours();
        }
        oursMs += o;
        peerMs += p;
        ratios.push(p / o);
      }
      if (log.size !== bytes) throw new Error(`appended ${bytes} bytes of batches, the log holds ${log.size}`);
      return { oursMs, peerMs, ratios };
    } finally {
      fs.closeSync(fd);
      await log.close();
    }
  });
}

export async function appendBatchVsWriteSync(count: number, rounds: number): Promise<BenchRow> {
  const batches = megabyteBatches(count);
  const bytes = batches.reduce((sum, b) => sum + b.byteLength, 0);
  const warm = batches.slice(0, Math.max(4, count >> 2));
  await appendBatchVsWriteSyncRound(warm, warm.reduce((s, b) => s + b.byteLength, 0));
  const results: BlockRound[] = [];
  for (let r = 0; r < rounds; r++) {
    gc();
    results.push(await appendBatchVsWriteSyncRound(batches, bytes));
  }
  const ratios = results.flatMap((r) => r.ratios);
  const ratio = median(ratios);
  const roundRatios = results.map((r) => r.peerMs / r.oursMs);
  return {
    group: 'append',
    name: `appendBatch of ${(batches[0]!.byteLength / MiB).toFixed(2)} MiB pre-encoded batches`,
    value: median(results.map((r) => mbPerSec(bytes, r.oursMs))),
    unit: 'MB/s',
    peer: 'fs.writeSync loop',
    peerValue: median(results.map((r) => mbPerSec(bytes, r.peerMs))),
    ...atLeast(ratio, 0.8, '>= 0.8x peer'),
    ratio,
    note:
      `${count} batches (${(bytes / MiB).toFixed(0)} MiB) x ${rounds} rounds, interleaved in blocks of ${BLOCK_BATCHES}; ` +
      `ratio: median of ${ratios.length} per-block ratios (middle half ${quartiles(ratios)}x; per round ${range(roundRatios)}x)`,
  };
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const mode = options.tiny ? 'tiny' : options.quick ? 'quick' : 'full';
  // Records of 100-byte values per round; larger values get the same byte budget (fewer records).
  const total = { tiny: 5_000, quick: 400_000, full: 1_000_000 }[mode];
  const rounds = { tiny: 1, quick: 3, full: 3 }[mode];
  const matrix: Case[] =
    mode === 'full'
      ? [100, 1024, 10_240].flatMap((valueBytes) => (['none', 'lz4', 'zstd'] as const).map((codec) => ({ valueBytes, codec })))
      : [{ valueBytes: 100, codec: 'none' }, { valueBytes: 100, codec: 'lz4' }];
  const rows: BenchRow[] = [];
  for (const c of matrix) {
    options.progress?.(`append ${c.valueBytes} B ${c.codec}`);
    const count = Math.max(RECORDS_PER_BATCH, Math.floor((total * 110) / (c.valueBytes + 10) / RECORDS_PER_BATCH) * RECORDS_PER_BATCH);
    rows.push(await appendCase(c, count, rounds, { tiny: 0, quick: 500, full: 2000 }[mode]));
  }
  options.progress?.('appendBatch vs writeSync');
  rows.push(await appendBatchVsWriteSync({ tiny: 4, quick: 192, full: 512 }[mode], { tiny: 1, quick: 3, full: 5 }[mode]));
  return rows;
}

runIfMain(import.meta.url, run);
