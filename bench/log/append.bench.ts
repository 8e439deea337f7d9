/**
 * Question: how fast does the log take appends, and how close does `appendBatch` of pre-encoded batches
 * come to the disk (a plain `fs.writeSync` loop of the same bytes, same run)? Durability 'os' for both
 * (written to the OS, no fsync): the question is the write path, not the disk's fsync latency, which
 * `group-commit.bench.ts` measures.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encodeBatch, Log, type CompressionName } from '../_util/seglog.js';
import { benchDir, compared, elapsedMs, medianOf, now, type BenchOptions, type BenchRow } from '../_util/bench.js';
import { records } from '../_util/data.js';
import { runIfMain } from '../_util/main-guard.js';

const RECORDS_PER_BATCH = 1000;

async function appendRate(valueBytes: number, codec: CompressionName, total: number): Promise<{ recordsPerSec: number; mbPerSec: number }> {
  // 1000 x 10 KiB is a 10 MB batch: above Kafka's 1 MiB default message limit, so the limit is raised.
  const log = await Log.open(benchDir('append'), { durability: 'os', maxMessageBytes: 16 * 1024 * 1024 });
  const batch = records(RECORDS_PER_BATCH, valueBytes, 7, 'repetitive');
  const start = now();
  for (let n = 0; n < total; n += RECORDS_PER_BATCH) await log.append(batch, { compression: codec });
  const seconds = elapsedMs(start) / 1000;
  const bytes = log.size;
  await log.close();
  return { recordsPerSec: total / seconds, mbPerSec: bytes / 1e6 / seconds };
}

/** ~1 MiB batches of 100-byte records, encoded once. */
function megabyteBatches(count: number): Uint8Array[] {
  const perBatch = 9000;
  const one = encodeBatch(records(perBatch, 100, 3), { timestamp: 1 });
  return Array.from({ length: count }, () => one);
}

async function appendBatchVsWriteSync(batches: Uint8Array[]): Promise<{ ours: number; disk: number }> {
  const bytes = batches.reduce((sum, b) => sum + b.byteLength, 0);
  const log = await Log.open(benchDir('append-batch'), { durability: 'os', maxMessageBytes: 2 * 1024 * 1024 });
  let start = now();
  for (const batch of batches) await log.appendBatch(batch);
  const ours = bytes / 1e6 / (elapsedMs(start) / 1000);
  await log.close();
  const file = path.join(benchDir('write-sync'), 'plain.bin');
  const fd = fs.openSync(file, 'w');
  start = now();
  let position = 0;
  for (const batch of batches) position += fs.writeSync(fd, batch, 0, batch.byteLength, position);
  const disk = bytes / 1e6 / (elapsedMs(start) / 1000);
  fs.closeSync(fd);
  return { ours, disk };
}

export async function run(options: BenchOptions = {}): Promise<BenchRow[]> {
  const total = options.tiny ? 5_000 : options.quick ? 300_000 : 1_000_000;
  const rounds = options.tiny ? 1 : 3;
  const rows: BenchRow[] = [];
  const matrix: [number, CompressionName][] = options.quick || options.tiny
    ? [[100, 'none'], [100, 'lz4'], [100, 'zstd'], [1024, 'none'], [10_240, 'none']]
    : [100, 1024, 10_240].flatMap((size) => (['none', 'lz4', 'zstd'] as const).map((c): [number, CompressionName] => [size, c]));
  for (const [valueBytes, codec] of matrix) {
    options.progress?.(`append ${valueBytes} B ${codec}`);
    // The same byte budget for every value size: fewer records of larger values.
    const count = Math.max(RECORDS_PER_BATCH, Math.floor((total * 110) / (valueBytes + 10) / RECORDS_PER_BATCH) * RECORDS_PER_BATCH);
    const results: { recordsPerSec: number; mbPerSec: number }[] = [];
    for (let r = 0; r < rounds; r++) results.push(await appendRate(valueBytes, codec, count));
    const recordsPerSec = [...results].sort((a, b) => a.recordsPerSec - b.recordsPerSec)[results.length >> 1]!.recordsPerSec;
    const mbPerSec = [...results].sort((a, b) => a.mbPerSec - b.mbPerSec)[results.length >> 1]!.mbPerSec;
    const isTarget = valueBytes === 100 && codec === 'none';
    rows.push({
      group: 'append',
      name: `append ${valueBytes} B values, ${codec}, 1000/batch`,
      value: recordsPerSec,
      unit: 'records/s',
      note: `${mbPerSec.toFixed(0)} MB/s`,
      ...(isTarget ? { target: '>= 3 M/s', met: recordsPerSec >= 3e6 } : {}),
    });
  }
  options.progress?.('appendBatch vs writeSync');
  const batches = megabyteBatches(options.tiny ? 4 : options.quick ? 128 : 512);
  const results: { ours: number; disk: number }[] = [];
  for (let r = 0; r < rounds; r++) results.push(await appendBatchVsWriteSync(batches));
  const ours = await medianOf(results.length, () => results.shift()!.ours);
  const disk = (await appendBatchVsWriteSync(batches)).disk;
  rows.push(compared({ group: 'append', name: 'appendBatch of 1 MiB pre-encoded batches', value: ours, unit: 'MB/s', peer: 'fs.writeSync loop', peerValue: disk, target: '>= 0.8x', met: ours / disk >= 0.8 }));
  return rows;
}

runIfMain(import.meta.url, run);
